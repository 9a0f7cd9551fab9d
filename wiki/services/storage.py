"""Where the bytes of attached files live, named by their SHA-256 alone.

Every stored content has a ``blob`` row (its size, and what attachments point at); a store
decides where its bytes are: in that row (``DatabaseStore``, the default, so backups and
several hosts need nothing more) or in a folder every host shares (``FolderStore``, chosen by
the ``FILES_DIR`` setting). Each method takes the caller's session, so a put belongs to the
caller's transaction.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from wiki.models import Blob

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
CHUNK = 64 * 1024  # bytes copied at a time: a file is never in memory whole


class ContentMissing(LookupError):
    """A content has its row but the store lacks its bytes: a folder's file was lost."""


class BlobStore(Protocol):
    def put(self, session: Session, sha256: str, source: BinaryIO, size: int) -> None:
        """Store *size* bytes read from *source* (from where it stands) under *sha256*."""

    def get(self, session: Session, sha256: str) -> bytes: ...

    def open(self, session: Session, sha256: str) -> BinaryIO:
        """The bytes as a file to read, which the caller closes."""

    def exists(self, session: Session, sha256: str) -> bool: ...

    def delete(self, session: Session, sha256: str) -> None:
        """Forget the bytes; for contents no attachment uses any more."""


class DatabaseStore:
    """The bytes in the ``blob`` row itself (``bytea`` on PostgreSQL)."""

    def put(self, session: Session, sha256: str, source: BinaryIO, size: int) -> None:
        data = source.read()
        if has_row(session, sha256):  # its bytes were lost (see get): the upload puts them back
            session.execute(update(Blob).where(Blob.sha256 == sha256).values(data=data, size=size))
        else:
            session.add(Blob(sha256=checked(sha256), data=data, size=size))

    def get(self, session: Session, sha256: str) -> bytes:
        """:raises ContentMissing: the row holds fewer bytes than it says, as a row restored
        from a folder wiki's backup that lacked the file does (empty)."""
        row = session.execute(select(Blob.data, Blob.size).where(Blob.sha256 == sha256)).first()
        if row is None or row.data is None or len(row.data) != row.size:
            raise ContentMissing(sha256)
        return row.data

    def open(self, session: Session, sha256: str) -> BinaryIO:
        return io.BytesIO(self.get(session, sha256))

    def exists(self, session: Session, sha256: str) -> bool:
        """Whether the row is there with all its bytes (their length, not the bytes, read)."""
        return bool(session.scalar(select(func.length(Blob.data) == Blob.size)
                                   .where(Blob.sha256 == sha256)))

    def delete(self, session: Session, sha256: str) -> None:
        session.execute(delete(Blob).where(Blob.sha256 == sha256))


class FolderStore:
    """The bytes in ``<root>/<first two hex digits>/<sha256>``; the row keeps an empty
    ``data``. Files are written whole under a temporary name and renamed into place, so a
    reader never sees half a file; the only names used are hex digests, never a user's."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        sha256 = checked(sha256)
        return self.root / sha256[:2] / sha256

    def put(self, session: Session, sha256: str, source: BinaryIO, size: int) -> None:
        self.write(sha256, source)
        if not has_row(session, sha256):  # the row may be there with its file lost
            session.add(Blob(sha256=sha256, data=b"", size=size))

    def write(self, sha256: str, source: BinaryIO) -> None:
        """Write the file *sha256* whole from *source*, under a temporary name renamed into
        place, so a reader never sees half a file.

        :raises ValueError: *sha256* is not a digest (nothing is written).
        :raises OSError: the file cannot be written (nothing is left).
        """
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-",
                                         delete=False) as part:
            try:
                shutil.copyfileobj(source, part, CHUNK)
                part.flush()
                os.fsync(part.fileno())
            except BaseException:
                os.unlink(part.name)
                raise
        # Same bytes, same name: a file already there (another host's, or one left by a
        # transaction that rolled back) is replaced by an identical one.
        os.replace(part.name, target)

    def get(self, session: Session, sha256: str) -> bytes:
        with self.open(session, sha256) as file:
            return file.read()

    def open(self, session: Session, sha256: str) -> BinaryIO:
        """:raises ContentMissing: the folder has no file *sha256* (lost, or removed by hand)."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as error:
            raise ContentMissing(sha256) from error

    def exists(self, session: Session, sha256: str) -> bool:
        return has_row(session, sha256) and self.path(sha256).is_file()

    def delete(self, session: Session, sha256: str) -> None:
        session.execute(delete(Blob).where(Blob.sha256 == sha256))
        self.path(sha256).unlink(missing_ok=True)

    def files(self) -> Iterator[tuple[str, int]]:
        """The digest and size of every file in the folder where the store puts one; not
        its half-written ``.part-`` files nor anything else found there."""
        for path in self.root.glob("??/*"):
            if SHA256_HEX.fullmatch(path.name) and path.parent.name == path.name[:2] \
                    and path.is_file() and not path.is_symlink():
                yield path.name, path.stat().st_size


def has_row(session: Session, sha256: str) -> bool:
    """Whether *sha256* has its ``blob`` row, asked without loading the bytes it may hold."""
    return session.scalar(select(Blob.sha256).where(Blob.sha256 == sha256)) is not None


def checked(sha256: str) -> str:
    """*sha256* if it is a hex SHA-256 digest, the only name a store ever uses.

    :raises ValueError: anything else.
    """
    if not SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 digest: {sha256!r}")
    return sha256


def configured() -> BlobStore:
    """The store the settings choose: a folder when ``FILES_DIR`` is set (relative to the
    instance folder), else the database."""
    folder = current_app.config.get("FILES_DIR")
    if not folder:
        return DatabaseStore()
    return FolderStore(Path(current_app.instance_path) / folder)
