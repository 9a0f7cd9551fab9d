"""Files attached to pages: upload, list, read and delete them.

The type of a file comes from its bytes, never its name or the client's header. Raster
images are decoded and encoded again with Pillow, which leaves their metadata (EXIF, GPS)
behind and turns a polyglot into a plain image. Bytes are stored once per SHA-256, by the
configured store (wiki/services/storage.py), and read from the upload as a file (Werkzeug
keeps a large one on disk), never held whole in memory more than once.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wiki.database import one_writer_at_a_time, write_transaction
from wiki.extensions import db
from wiki.models import Attachment, Blob, Page, Revision, User, utcnow
from wiki.services import links, storage
from wiki.services.text import is_invisible

if TYPE_CHECKING:
    from PIL import Image

MB = 1024 * 1024
MAX_NAME_LENGTH = 120
# Pillow refuses larger images itself; set on import (pillow()) so the limit is ours, not a
# library default.
MAX_IMAGE_PIXELS = 40_000_000

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


class QuotaExceeded(UploadRefused):
    """The wiki's files would take more room than ``MAX_TOTAL_UPLOAD_MB`` allows."""


@dataclass(frozen=True)
class Upload:
    """A file as sent: the name the client gave and its bytes, or a seekable file holding
    them (an upload Werkzeug spooled to disk)."""

    name: str
    data: bytes | BinaryIO

    def open(self) -> BinaryIO:
        if isinstance(self.data, bytes):
            return io.BytesIO(self.data)
        self.data.seek(0)
        return self.data


@dataclass(frozen=True)
class Prepared:
    """What is stored for an upload: *size* bytes read from *source*, with their digest."""

    name: str
    source: BinaryIO
    size: int
    sha256: str
    media_type: str
    width: int | None = None
    height: int | None = None

    def read_from_start(self) -> BinaryIO:
        self.source.seek(0)
        return self.source


@dataclass
class AttachedFile:
    """A file's newest version and the older ones, newest first."""

    current: Attachment
    older: list[Attachment] = field(default_factory=list)


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * MB


def too_large_message() -> str:
    return f"Files may be up to {current_app.config['MAX_UPLOAD_MB']} MB each."


def quota_bytes() -> int:
    """How many bytes the wiki's files may take in all; 0 for no limit."""
    return int(float(current_app.config["MAX_TOTAL_UPLOAD_MB"]) * MB)


def stored_bytes(session: Session) -> int:
    """The room the wiki's files take: each distinct content once."""
    return session.scalar(select(func.coalesce(func.sum(Blob.size), 0)))


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


def claims_to_be_an_image(name: str, head: bytes) -> bool:
    """Whether a file called *name* starting with *head* says it is an image."""
    extension = name[name.rfind("."):].lower() if "." in name else ""
    webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return extension in IMAGE_EXTENSIONS or webp or head.startswith(IMAGE_SIGNATURES)


def prepare(upload: Upload) -> Prepared:
    """Check *upload* and settle what is stored: its name, type and (for images) new bytes.

    :raises UploadRefused: too large, an unusable name, or an image that does not decode.
    """
    source = upload.open()
    size = source.seek(0, io.SEEK_END)
    if size > max_upload_bytes():
        raise FileTooLarge(too_large_message())
    name = normalise_name(upload.name)
    source.seek(0)
    head = source.read(16)
    source.seek(0)
    if claims_to_be_an_image(name, head):
        return reencode_image(name, source)
    media_type = "application/pdf" if head.startswith(b"%PDF-") else DOWNLOAD_TYPE
    return Prepared(name, source, size, hashlib.file_digest(source, "sha256").hexdigest(),
                    media_type)


def reencode_image(name: str, source: BinaryIO) -> Prepared:
    """The image in *source* decoded and encoded again as the same raster format, without
    its metadata.

    :raises UploadRefused: not a PNG, JPEG, GIF or WebP that decodes, or too many pixels.
    """
    too_many_pixels = UploadRefused(f"“{name}” has more than {MAX_IMAGE_PIXELS:,} pixels.")
    Image = pillow()  # noqa: N806 (the module, under its usual name)
    try:
        with Image.open(source, formats=list(RASTER_TYPES)) as image:
            # Pillow refuses twice its limit itself, and only warns below that.
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise too_many_pixels
            data, media_type, width, height = encode_again(image)
            return Prepared(name, io.BytesIO(data), len(data),
                            hashlib.sha256(data).hexdigest(), media_type, width, height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_many_pixels from error
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UploadRefused(f"“{name}” looks like an image but is not a PNG, JPEG, GIF or "
                            "WebP file that can be read.") from error


def pillow():
    """Pillow's ``Image`` module, imported when the first image arrives: a worker that only
    shows pages never loads it (2 MB, and time at start-up)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    return Image


def encode_again(image: Image.Image) -> tuple[bytes, str, int, int]:
    """*image*'s pixels (every frame of an animation, a photo turned upright) in a new file
    of the same format, with no metadata: its bytes, type, width and height."""
    image_format = image.format
    frames = getattr(image, "n_frames", 1)
    from PIL import ImageOps

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
    store = storage.configured()
    with write_transaction() as session:
        one_writer_at_a_time(session, f"attachments:{page.id}")
        # Two pages may get the same bytes at once, and the quota counts them all: blobs
        # are added one upload at a time.
        one_writer_at_a_time(session, "blobs")
        new = {item.sha256: item for item in prepared if not store.exists(session, item.sha256)}
        check_quota(session, sum(item.size for item in new.values()))
        for sha256, item in new.items():
            store.put(session, sha256, item.read_from_start(), item.size)
        session.flush()
        stored = []
        for item in prepared:
            last = session.scalar(select(func.max(Attachment.version)).where(
                Attachment.page_id == page.id, Attachment.name == item.name))
            attachment = Attachment(
                page_id=page.id, name=item.name, version=(last or 0) + 1,
                blob_sha256=item.sha256, size=item.size, media_type=item.media_type,
                width=item.width, height=item.height,
                uploader_id=uploader.id if uploader else None)
            session.add(attachment)
            session.flush()
            stored.append(attachment)
        show_files_as_they_are(session, page, shown, names)
    return stored


def check_quota(session: Session, more: int) -> None:
    """:raises QuotaExceeded: when *more* bytes would take the wiki's files past the quota."""
    quota = quota_bytes()
    if not quota or not more:
        return
    used = stored_bytes(session)
    if used + more > quota:
        raise QuotaExceeded(
            f"The wiki's files may take up to {current_app.config['MAX_TOTAL_UPLOAD_MB']} MB "
            f"in all; {used / MB:.1f} MB are used and this upload needs {more / MB:.1f} MB "
            "more. Nothing was stored. An administrator can raise the limit.")


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
    return storage.configured().get(db.session, attachment.blob_sha256)


ContentMissing = storage.ContentMissing  # what open_content raises, for its callers


def open_content(attachment: Attachment) -> BinaryIO:
    """The attachment's bytes as a file to read; the caller closes it.

    :raises ContentMissing: the store has lost them (a folder's file removed by hand).
    """
    return storage.configured().open(db.session, attachment.blob_sha256)


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


def deleted_files(page: Page) -> list[Attachment]:
    """The newest version of each of the page's deleted files, by name: those with no
    version left that is not deleted."""
    live = select(Attachment.name).where(Attachment.page_id == page.id,
                                         Attachment.deleted.is_(False))
    versions = db.session.scalars(
        select(Attachment)
        .where(Attachment.page_id == page.id, Attachment.deleted.is_(True),
               Attachment.name.not_in(live))
        .order_by(Attachment.name, Attachment.version.desc())
    ).all()
    newest: dict[str, Attachment] = {}
    for version in versions:
        newest.setdefault(version.name, version)
    return list(newest.values())


def restore(page: Page, name: str, user: User) -> Attachment | None:
    """Bring back the deleted file *name*: its versions are shown again, and the restore is
    recorded as a new version by *user* with the newest one's bytes (as restoring a page
    saves a new revision). None when the page has no deleted file of that name.
    """
    shown = prerender_page(page, also={name})
    with write_transaction() as session:
        one_writer_at_a_time(session, f"attachments:{page.id}")
        versions = session.scalars(
            select(Attachment).where(Attachment.page_id == page.id, Attachment.name == name)
            .order_by(Attachment.version.desc())
        ).all()
        if not versions or not all(version.deleted for version in versions):
            return None
        newest = versions[0]
        for version in versions:  # who deleted it last and when stay recorded on them
            version.deleted = False
        restored = Attachment(
            page_id=page.id, name=name, version=newest.version + 1,
            blob_sha256=newest.blob_sha256, size=newest.size, media_type=newest.media_type,
            width=newest.width, height=newest.height, uploader_id=user.id)
        session.add(restored)
        session.flush()
        show_files_as_they_are(session, page, shown, {name})
        return restored


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
