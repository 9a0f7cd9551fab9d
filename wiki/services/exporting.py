"""Wiki pages out as Markdown files, in the shape ``flask pages import`` reads back:
``<slug>.md`` per live page (sub-pages in sub-folders), starting with its ``# `` title,
and its files in ``<slug>.files/``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from wiki.extensions import db
from wiki.models import Page
from wiki.services import attachments

FILE_SUFFIX = ".md"
FILES_SUFFIX = ".files"  # the folder of a page's files, beside its .md
MAX_NAME_BYTES = 255  # NAME_MAX of ext4, APFS, NTFS (in UTF-16 units, fewer than bytes)
# Room for the longer suffix, so a page's .md and its .files folder share one stem.
SEGMENT_BYTES = MAX_NAME_BYTES - max(len(FILE_SUFFIX), len(FILES_SUFFIX))
HASH_CHARS = 16  # 64 bits: two long segments cut to the same name stay apart


@dataclass(frozen=True)
class Failure:
    page: str  # the slug of the page that could not be written
    reason: str


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    files_written: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


def page_markdown(title: str, body: str) -> str:
    """The file text of a page: its title as a ``# `` heading, then its body."""
    if not body:
        return f"# {title}\n"
    return f"# {title}\n\n{body}" + ("" if body.endswith("\n") else "\n")


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


def export_pages(directory: Path) -> ExportReport:
    """Write every live page under *directory*, replacing files of the same name.

    Other files in *directory* are left alone. A page that cannot be written (a symbolic
    link or a file without write permission in its way) is recorded in the report, and the
    others are still written, in slug order.
    """
    report = ExportReport()
    query = (select(Page).options(joinedload(Page.current_revision))
             .where(Page.deleted.is_(False)).order_by(Page.slug))
    for page in db.session.scalars(query):
        try:
            path = page_file(directory, page.slug)
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_new_bytes(path,
                             page_markdown(page.title, page.current_revision.body).encode())
        except ValueError as error:
            report.failed.append(Failure(page.slug, str(error)))
        except OSError as error:
            report.failed.append(Failure(page.slug, _os_reason(error)))
        else:
            report.written.append(path)
        export_files(directory, page, report)
    return report


def export_files(directory: Path, page: Page, report: ExportReport) -> None:
    """Write the current version of each live file of *page* into its ``.files`` folder,
    with the same care as pages; a file that cannot be written is recorded in *report*."""
    for attached in attachments.files(page):
        name = attached.current.name
        where = f"{page.slug} (file {name})"
        try:
            path = safe_path(directory, files_folder_path(page.slug) / name)
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_new_bytes(path, attachments.content(attached.current))
        except ValueError as error:
            report.failed.append(Failure(where, str(error)))
        except OSError as error:
            report.failed.append(Failure(where, _os_reason(error)))
        else:
            report.files_written.append(path)


def _write_new_bytes(path: Path, data: bytes) -> None:
    """Replace the file at *path* with *data*; a symbolic link put there meanwhile is refused
    (``O_NOFOLLOW``) rather than written through."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags, 0o666), "wb") as file:
        file.write(data)


def _os_reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"
