"""Zip archives given to ``flask pages import``: every member checked (names, links, sizes)
before anything is unpacked, so a hostile archive is refused whole."""

import re
import stat
import zipfile
from pathlib import Path

from flask import current_app

from wiki.services import attachments

MB = 1024 * 1024
MAX_ARCHIVE_MEMBERS = 200_000  # a 100,000-page export with its files and more
BOMB_RATIO = 100  # a large member compressed more than this is refused as a zip bomb
BOMB_FLOOR = 1_000_000  # bytes; smaller members may compress as well as they like
COPY_CHUNK = 1024 * 1024


class ArchiveRefused(ValueError):
    """A zip archive the import will not open; the message says why."""


def largest_member() -> int:
    """No member may be larger than the largest thing the wiki stores: a page's text or a
    file, with room for a revision's front matter."""
    return max(current_app.config["MAX_PAGE_BYTES"] + 64 * 1024, attachments.max_upload_bytes())


def check_archive(archive: zipfile.ZipFile, max_bytes: int) -> list[tuple[zipfile.ZipInfo, str]]:
    """The members of *archive*, each with its safe relative name, before anything is read.

    :raises ArchiveRefused: a name that is absolute or climbs out (``../``), a symbolic
        link, too many members, or sizes that say zip bomb: a member larger than anything
        the wiki stores, a large member compressed implausibly well, or more than *max_bytes*
        in all. Sizes are the archive's word; reading stops at them (zipfile checks).
    """
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ArchiveRefused(f"it holds {len(members)} files; the import takes at most "
                             f"{MAX_ARCHIVE_MEMBERS}")
    largest, total, safe = largest_member(), 0, []
    for info in members:
        name = info.filename.replace("\\", "/")
        parts = name.split("/")
        if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts \
                or "\0" in name:
            raise ArchiveRefused(f"“{info.filename}” would be written outside the import "
                                 "folder (an absolute name, or “..”)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(f"“{info.filename}” is a symbolic link")
        if info.file_size > largest:
            raise ArchiveRefused(f"“{info.filename}” would unpack to {info.file_size} bytes, "
                                 f"more than the wiki keeps in a page or file ({largest})")
        if info.file_size > BOMB_FLOOR and info.file_size > BOMB_RATIO * max(info.compress_size,
                                                                               1):
            raise ArchiveRefused(f"“{info.filename}” unpacks to more than {BOMB_RATIO} times "
                                 "its packed size: a zip bomb?")
        total += info.file_size
        if total > max_bytes:
            raise ArchiveRefused(f"it would unpack to more than {max_bytes // MB} MB "
                                 "(WIKI_IMPORT_MAX_ARCHIVE_MB)")
        safe.append((info, "/".join(part for part in parts if part not in ("", "."))))
    return safe


def extract_archive(path: Path, into: Path) -> None:
    """Unpack the zip archive *path* into the empty folder *into*, after checking all of it.

    :raises ArchiveRefused: it is not a zip archive, or :func:`check_archive` refuses it, or
        a member's bytes do not match what the archive says of them.
    """
    max_bytes = int(current_app.config["IMPORT_MAX_ARCHIVE_MB"]) * MB
    try:
        with zipfile.ZipFile(path) as archive:
            for info, name in check_archive(archive, max_bytes):
                if not name:
                    continue
                target = into / name
                if not target.resolve().is_relative_to(into.resolve()):
                    raise ArchiveRefused(f"“{info.filename}” would be written outside the "
                                         "import folder")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(info) as source, open(target, "xb") as out:
                        while chunk := source.read(COPY_CHUNK):
                            out.write(chunk)
                except OSError as error:  # twice the same name, or a file and a folder
                    raise ArchiveRefused(f"“{info.filename}” cannot be unpacked: "
                                         f"{error.strerror}") from error
    except zipfile.BadZipFile as error:
        raise ArchiveRefused(f"it is not a readable zip archive ({error})") from error
    except (NotImplementedError, RuntimeError) as error:  # encrypted, unknown compression
        raise ArchiveRefused(f"it cannot be unpacked ({error})") from error
