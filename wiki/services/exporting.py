"""Wiki pages out as Markdown files, in the shape ``flask pages import`` reads back:
``<slug>.md`` per live page (sub-pages in sub-folders) with YAML front matter, its files in
``<slug>.files/`` and, when asked, every revision in ``<slug>.history/NNNN.md``.

The export is a stream of :class:`Entry` (path and bytes), written to a folder or to a zip;
pages are read a chunk at a time, so a wiki of any size exports in bounded memory.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from wiki.extensions import db
from wiki.models import Attachment, Page, Revision, as_utc
from wiki.services import storage

FILE_SUFFIX = ".md"
FILES_SUFFIX = ".files"  # the folder of a page's files, beside its .md
HISTORY_SUFFIX = ".history"  # the folder of a page's revisions, beside its .md
MAX_NAME_BYTES = 255  # NAME_MAX of ext4, APFS, NTFS (in UTF-16 units, fewer than bytes)
# Room for the longest suffix, so a page's .md and its folders share one stem.
SEGMENT_BYTES = MAX_NAME_BYTES - max(len(FILE_SUFFIX), len(FILES_SUFFIX), len(HISTORY_SUFFIX))
HASH_CHARS = 16  # 64 bits: two long segments cut to the same name stay apart
CHUNK = 200  # pages (and revisions) read per query
FRONT_MATTER = "---\n"


@dataclass(frozen=True)
class Entry:
    """One file of an export: where it goes and its bytes. *label* names it in a report."""

    kind: str  # "page", "file" or "revision"
    path: PurePosixPath
    data: bytes
    label: str
    problem: str = ""  # why it cannot be exported (its bytes are lost): it is skipped


@dataclass(frozen=True)
class Failure:
    page: str  # the slug of the page (and file) that could not be written
    reason: str


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    files_written: list[Path] = field(default_factory=list)
    revisions_written: int = 0
    failed: list[Failure] = field(default_factory=list)


def front_matter(fields: dict) -> str:
    """*fields* as a YAML front matter block (PyYAML quotes what needs it: colons, quotes)."""
    import yaml  # only exports write front matter: not loaded at start-up

    text = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1_000_000)
    return f"{FRONT_MATTER}{text}{FRONT_MATTER}"


def with_front_matter(fields: dict, body: str) -> str:
    """The file text of a page or revision: its front matter, then the body as it is."""
    return front_matter(fields) + body


def moment(when: datetime) -> datetime:
    """A timestamp as exported: UTC, to the second (an import sets exactly this back)."""
    return as_utc(when).replace(microsecond=0)


def page_fields(page: Page, created: datetime) -> dict:
    return {"title": page.title, "tags": [tag.name for tag in page.tags],
            "created": moment(created), "updated": moment(page.current_revision.created_at),
            "revision": page.revision_number}


def revision_fields(revision: Revision) -> dict:
    fields = {"revision": revision.number, "title": revision.title,
              "date": moment(revision.created_at)}
    if revision.author is not None:
        fields["author"] = revision.author.username
    if revision.summary:
        fields["summary"] = revision.summary
    if revision.minor:
        fields["minor"] = True
    return fields


def file_name_part(segment: str) -> str:
    """*segment* of a slug as a file or folder name: itself, or if too long for a file name,
    its start and a digest of the whole, so the name stays the same on every export."""
    if len(segment.encode()) <= SEGMENT_BYTES:
        return segment
    digest = hashlib.blake2b(segment.encode(), digest_size=HASH_CHARS // 2).hexdigest()
    start = segment.encode()[:SEGMENT_BYTES - HASH_CHARS - 1].decode(errors="ignore")
    return f"{start.rstrip('-')}-{digest}"


def page_path(slug: str) -> PurePosixPath:
    """Where the page at *slug* is written, relative to the export folder."""
    *folders, name = (file_name_part(segment) for segment in slug.split("/"))
    return PurePosixPath(*folders, name + FILE_SUFFIX)


def files_folder_path(slug: str) -> PurePosixPath:
    """Where the files of the page at *slug* are written, relative to the export folder."""
    return page_path(slug).with_suffix(FILES_SUFFIX)


def history_folder_path(slug: str) -> PurePosixPath:
    """Where the revisions of the page at *slug* are written, relative to the export folder."""
    return page_path(slug).with_suffix(HISTORY_SUFFIX)


def revision_file_name(number: int) -> str:
    return f"{number:04d}{FILE_SUFFIX}"


def count_pages() -> int:
    return db.session.scalar(select(func.count(Page.id)).where(Page.deleted.is_(False)))


def entries(*, history: bool = False, chunk: int = CHUNK) -> Iterator[Entry]:
    """Every file of an export, page by page in slug order: the page, its revisions (with
    *history*), its files. Pages are read *chunk* at a time with their tags, first dates and
    file lists; texts and bytes one at a time, so memory holds a chunk, never the wiki."""
    query = (select(Page).where(Page.deleted.is_(False)).order_by(Page.slug)
             .options(joinedload(Page.current_revision), selectinload(Page.tags))
             .execution_options(yield_per=chunk))
    for batch in db.session.scalars(query).partitions():
        ids = [page.id for page in batch]
        created = first_dates(ids)
        files = current_files(ids)
        for page in batch:
            body = page.current_revision.body
            yield Entry("page", page_path(page.slug),
                        with_front_matter(page_fields(page, created[page.id]), body).encode(),
                        page.slug)
            if history:
                yield from revision_entries(page, chunk)
            for attached in files.get(page.id, []):
                yield file_entry(page.slug, attached)


def file_entry(slug: str, attached: Attachment) -> Entry:
    path, label = files_folder_path(slug) / attached.name, f"{slug} (file {attached.name})"
    try:
        return Entry("file", path, file_bytes(attached), label)
    except storage.ContentMissing:
        return Entry("file", path, b"", label, problem="its contents are missing from the "
                                                       "wiki's files (restore them from a backup)")


def revision_entries(page: Page, chunk: int) -> Iterator[Entry]:
    query = (select(Revision).where(Revision.page_id == page.id).order_by(Revision.number)
             .options(joinedload(Revision.author)).execution_options(yield_per=chunk))
    folder = history_folder_path(page.slug)
    for revision in db.session.scalars(query):
        yield Entry("revision", folder / revision_file_name(revision.number),
                    with_front_matter(revision_fields(revision), revision.body).encode(),
                    f"{page.slug} (revision {revision.number})")


def first_dates(page_ids: list[int]) -> dict[int, datetime]:
    """When each page's first revision was saved, in one query."""
    rows = db.session.execute(select(Revision.page_id, func.min(Revision.created_at))
                              .where(Revision.page_id.in_(page_ids)).group_by(Revision.page_id))
    return {page_id: first for page_id, first in rows}


def current_files(page_ids: list[int]) -> dict[int, list[Attachment]]:
    """The newest version of each live file of these pages, by page and name, in one query."""
    newest = (select(Attachment.page_id, Attachment.name,
                     func.max(Attachment.version).label("version"))
              .where(Attachment.page_id.in_(page_ids), Attachment.deleted.is_(False))
              .group_by(Attachment.page_id, Attachment.name).subquery())
    rows = db.session.scalars(
        select(Attachment).join(newest, (Attachment.page_id == newest.c.page_id)
                                & (Attachment.name == newest.c.name)
                                & (Attachment.version == newest.c.version))
        .order_by(Attachment.page_id, Attachment.name))
    files: dict[int, list[Attachment]] = {}
    for attachment in rows:
        files.setdefault(attachment.page_id, []).append(attachment)
    return files


def file_bytes(attachment: Attachment) -> bytes:
    """The bytes of *attachment*, from wherever the store keeps them (a folder's row is
    empty)."""
    return storage.configured().get(db.session, attachment.blob_sha256)


# --- into a folder ---------------------------------------------------------------------------


def page_file(directory: Path, slug: str) -> Path:
    """Where the page at *slug* is written under *directory*.

    :raises ValueError: the slug would lead outside *directory* (slugs never should), or a
        folder or file on the way is a symbolic link, which is never written through.
    """
    return safe_path(directory, page_path(slug))


def safe_path(directory: Path, relative: PurePosixPath) -> Path:
    """*directory* / *relative*, checked as :func:`page_file` says."""
    for step in (*reversed(relative.parents[:-1]), relative):
        if (directory / step).is_symlink():
            raise ValueError(f"{directory / step} is a symbolic link; it was left alone")
    path = directory / relative
    if not path.resolve().is_relative_to(directory.resolve()):
        raise ValueError("it would be written outside the export folder")
    return path


def export_pages(directory: Path, *, history: bool = False,
                 stream: Iterator[Entry] | None = None) -> ExportReport:
    """Write every live page under *directory*, replacing files of the same name.

    Other files in *directory* are left alone. A page or file that cannot be written (a
    symbolic link or a file without write permission in its way) is recorded in the report,
    and the others are still written, in slug order. *stream* is :func:`entries` unless the
    caller iterates it itself (to show progress).
    """
    report = ExportReport()
    for entry in stream if stream is not None else entries(history=history):
        write_entry(directory, entry, report)
    return report


def write_entry(directory: Path, entry: Entry, report: ExportReport) -> None:
    if entry.problem:
        report.failed.append(Failure(entry.label, entry.problem))
        return
    try:
        path = safe_path(directory, entry.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_new_bytes(path, entry.data)
    except ValueError as error:
        report.failed.append(Failure(entry.label, str(error)))
    except OSError as error:
        report.failed.append(Failure(entry.label, _os_reason(error)))
    else:
        if entry.kind == "page":
            report.written.append(path)
        elif entry.kind == "file":
            report.files_written.append(path)
        else:
            report.revisions_written += 1


def _write_new_bytes(path: Path, data: bytes) -> None:
    """Replace the file at *path* with *data*; a symbolic link put there meanwhile is refused
    (``O_NOFOLLOW``) rather than written through."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags, 0o666), "wb") as file:
        file.write(data)


def _os_reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


# --- into a zip ------------------------------------------------------------------------------


class _Pipe:
    """A write-only file that hands what was written to whoever drains it: zipfile writes
    into it, and the response sends each piece on, so the archive is never whole in memory."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._pieces.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:  # zipfile asks where it is, to record where each entry starts
        return self._offset

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self._pieces = b"".join(self._pieces), []
        return data


def zip_stream(stream: Iterator[Entry]) -> Iterator[bytes]:
    """The export as a zip archive, in pieces as each entry is compressed."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in stream:
            if entry.problem:  # the archive is already on its way: leave the file out
                continue
            info = zipfile.ZipInfo(entry.path.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # a plain file, readable by all
            archive.writestr(info, entry.data)
            yield pipe.drain()
    yield pipe.drain()  # the central directory, written on closing
