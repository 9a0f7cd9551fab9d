"""Files attached to pages: upload, list, read and delete them.

The type of a file comes from its bytes, never its name or the client's header. Raster
images are decoded and encoded again with Pillow, which leaves their metadata (EXIF, GPS)
behind and turns a polyglot into a plain image. Bytes are stored once per SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wiki.database import one_writer_at_a_time, write_transaction
from wiki.extensions import db
from wiki.models import Attachment, Blob, Page, Revision, User, utcnow
from wiki.services import links
from wiki.services.text import is_invisible

MB = 1024 * 1024
MAX_NAME_LENGTH = 120
# Pillow refuses larger images itself; set here so the limit is ours, not a library default.
MAX_IMAGE_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

# Pillow format → the type served, for the raster formats shown inline.
RASTER_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
                "WEBP": "image/webp"}
KEPT_INFO = {"transparency", "duration", "loop", "background", "disposal"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
DOWNLOAD_TYPE = "application/octet-stream"  # everything not recognised as safe to name


class UploadRefused(ValueError):
    """A file the wiki will not store; the message says why, for the person uploading."""


class FileTooLarge(UploadRefused):
    pass


@dataclass(frozen=True)
class Upload:
    """A file as sent: the name the client gave and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Prepared:
    name: str
    data: bytes
    media_type: str
    width: int | None = None
    height: int | None = None


@dataclass
class AttachedFile:
    """A file's newest version and the older ones, newest first."""

    current: Attachment
    older: list[Attachment] = field(default_factory=list)


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * MB


def too_large_message() -> str:
    return f"Files may be up to {current_app.config['MAX_UPLOAD_MB']} MB each."


def normalise_name(raw: str) -> str:
    """The name a file is kept under: its last path part, without control, format (bidi)
    or separator characters, spaces turned into hyphens.

    :raises UploadRefused: nothing usable is left, or the name is too long.
    """
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if not is_invisible(char))
    name = "-".join(name.split()).lstrip(".")
    if not name:
        raise UploadRefused(f"“{raw}” is not a usable file name.")
    if len(name) > MAX_NAME_LENGTH:
        raise UploadRefused(f"A file name may be up to {MAX_NAME_LENGTH} characters.")
    return name


def claims_to_be_an_image(name: str, data: bytes) -> bool:
    extension = name[name.rfind("."):].lower() if "." in name else ""
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return extension in IMAGE_EXTENSIONS or webp or data.startswith(IMAGE_SIGNATURES)


def prepare(upload: Upload) -> Prepared:
    """Check *upload* and settle what is stored: its name, type and (for images) new bytes.

    :raises UploadRefused: too large, an unusable name, or an image that does not decode.
    """
    if len(upload.data) > max_upload_bytes():
        raise FileTooLarge(too_large_message())
    name = normalise_name(upload.name)
    if claims_to_be_an_image(name, upload.data):
        return reencode_image(name, upload.data)
    media_type = "application/pdf" if upload.data.startswith(b"%PDF-") else DOWNLOAD_TYPE
    return Prepared(name, upload.data, media_type)


def reencode_image(name: str, data: bytes) -> Prepared:
    """*data* decoded and encoded again as the same raster format, without its metadata.

    :raises UploadRefused: not a PNG, JPEG, GIF or WebP that decodes, or too many pixels.
    """
    too_many_pixels = UploadRefused(f"“{name}” has more than {MAX_IMAGE_PIXELS:,} pixels.")
    try:
        with Image.open(io.BytesIO(data), formats=list(RASTER_TYPES)) as image:
            # Pillow refuses twice its limit itself, and only warns below that.
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise too_many_pixels
            return Prepared(name, *encode_again(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_many_pixels from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UploadRefused(f"“{name}” looks like an image but is not a PNG, JPEG, GIF or "
                            "WebP file that can be read.") from error


def encode_again(image: Image.Image) -> tuple[bytes, str, int, int]:
    """*image*'s pixels (every frame of an animation, a photo turned upright) in a new file
    of the same format, with no metadata: its bytes, type, width and height."""
    image_format = image.format
    frames = getattr(image, "n_frames", 1)
    upright = ImageOps.exif_transpose(image) if frames == 1 else image
    if image_format == "JPEG" and upright.mode not in {"RGB", "L", "CMYK"}:
        upright = upright.convert("RGB")
    # What the pixels need to look and move as before; comments and the like stay behind.
    upright.info = {key: value for key, value in upright.info.items() if key in KEPT_INFO}
    options = {"save_all": True} if frames > 1 else {}
    out = io.BytesIO()
    upright.save(out, format=image_format, comment=b"", **options)
    return out.getvalue(), RASTER_TYPES[image_format], upright.width, upright.height


def upload(page: Page, uploads: list[Upload], uploader: User | None) -> list[Attachment]:
    """Store *uploads* on *page* in one transaction: all of them or, if one is refused,
    none. A name the page already has gets a new version. *uploader* is None for the
    import, as for the pages it saves.

    :raises UploadRefused: for the first file refused.
    """
    prepared = [prepare(item) for item in uploads]  # outside the write lock: decoding is slow
    names = {item.name for item in prepared}
    shown = prerender_page(page, also=names)
    with write_transaction() as session:
        one_writer_at_a_time(session, f"attachments:{page.id}")
        # Two pages may get the same bytes at once: blobs are added one upload at a time.
        one_writer_at_a_time(session, "blobs")
        stored = []
        for item in prepared:
            sha256 = hashlib.sha256(item.data).hexdigest()
            if session.get(Blob, sha256) is None:
                session.add(Blob(sha256=sha256, data=item.data, size=len(item.data)))
                session.flush()
            last = session.scalar(select(func.max(Attachment.version)).where(
                Attachment.page_id == page.id, Attachment.name == item.name))
            attachment = Attachment(
                page_id=page.id, name=item.name, version=(last or 0) + 1, blob_sha256=sha256,
                size=len(item.data), media_type=item.media_type, width=item.width,
                height=item.height, uploader_id=uploader.id if uploader else None)
            session.add(attachment)
            session.flush()
            stored.append(attachment)
        show_files_as_they_are(session, page, shown, names)
    return stored


def files(page: Page) -> list[AttachedFile]:
    """The page's files that are not deleted, by name, each with its older versions."""
    versions = db.session.scalars(
        select(Attachment)
        .where(Attachment.page_id == page.id, Attachment.deleted.is_(False))
        .order_by(Attachment.name, Attachment.version.desc())
    ).all()
    listing: dict[str, AttachedFile] = {}
    for version in versions:
        if version.name in listing:
            listing[version.name].older.append(version)
        else:
            listing[version.name] = AttachedFile(version)
    return list(listing.values())


def names(page_id: int) -> set[str]:
    """The names of the page's files that are not deleted."""
    return set(db.session.scalars(select(Attachment.name).distinct().where(
        Attachment.page_id == page_id, Attachment.deleted.is_(False))))


def get_file(page: Page, name: str, version: int | None = None) -> Attachment | None:
    """Version *version* of the file *name* (the newest when None), unless deleted."""
    query = select(Attachment).where(Attachment.page_id == page.id, Attachment.name == name,
                                     Attachment.deleted.is_(False))
    if version is not None:
        return db.session.scalar(query.where(Attachment.version == version))
    return db.session.scalar(query.order_by(Attachment.version.desc()).limit(1))


def content(attachment: Attachment) -> bytes:
    return db.session.scalar(select(Blob.data).where(Blob.sha256 == attachment.blob_sha256))


def delete(page: Page, name: str, user: User) -> bool:
    """Mark every version of *name* deleted, recording who and when; False if none was."""
    shown = prerender_page(page, without={name})
    with write_transaction() as session:
        one_writer_at_a_time(session, f"attachments:{page.id}")
        result = session.execute(
            update(Attachment)
            .where(Attachment.page_id == page.id, Attachment.name == name,
                   Attachment.deleted.is_(False))
            .values(deleted=True, deleted_by_id=user.id, deleted_at=utcnow())
        )
        show_files_as_they_are(session, page, shown, {name})
        return result.rowcount > 0


def prerender_page(page: Page, also: set[str] = frozenset(),
                   without: set[str] = frozenset()) -> links.Prerendered | None:
    """The page's current text rendered, before the write lock, as it will look with the
    files *also* and without those *without*."""
    revision = page.current_revision
    if revision is None:
        return None
    return links.prerender(db.session, revision.body, page.slug, also, without)


def show_files_as_they_are(session: Session, page: Page, shown: links.Prerendered | None,
                           names: set[str]) -> None:
    """Store the page's HTML showing *names* as they now are: *shown* if the text is still
    the one rendered, else (saved meanwhile) its new text rendered here."""
    revision = session.get(Revision, page.current_revision_id)
    if revision is None or shown is None:
        return
    if shown.body != revision.body:
        revision.html = links.render_with_links(session, revision.body, {page.slug},
                                                page_slug=page.slug).html
    elif shown.rendered.files & names:
        revision.html = links.settle(session, shown, {page.slug}, page=page).html
