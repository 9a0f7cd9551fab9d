"""Backing up a live SQLite wiki and restoring it, with SQLite's online backup API.

The copy is a consistent snapshot even while workers save; PostgreSQL wikis use ``pg_dump``
(docs/deployment.md). Why not ``cp``: docs/architecture.md ("Backups"). Attached files kept in
a folder (``FILES_DIR``) travel inside the backup's ``blob`` rows, so it stays one file.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from wiki.extensions import db
from wiki.models import WikiState
from wiki.services import storage

WIKI_TABLES = ("alembic_version", "page", "revision", "user")
# Blob rows holding their bytes (the others are a folder store's, kept empty).
COUNT_CARRIED = "SELECT count(*) FROM blob WHERE length(data) = size"
CARRIED = "SELECT rowid, sha256 FROM blob WHERE length(data) = size"
NOT_CARRIED = "SELECT rowid, sha256, size FROM blob WHERE length(data) != size"
COUNTER_LEAP = 2**32  # more writes than a wiki makes while a restore is staged


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, fit for the user."""


@dataclass(frozen=True)
class BackupInfo:
    pages: int
    revisions: int
    files: int = 0  # attached contents whose bytes the backup holds
    # Contents whose bytes were in neither the backup nor the folder: their downloads fail.
    missing: list[str] = field(default_factory=list)


def backup_database(target: Path) -> BackupInfo:
    """Write a consistent copy of the live database to *target* (mode 0600).

    The copy is made beside *target* and moved into place only once it has passed an
    integrity check, so a failed backup never leaves a half-written file behind.

    :raises BackupError: the wiki is not on SQLite, or *target* cannot be written.
    """
    engine = _sqlite_engine()
    target = target.resolve()
    if target == _database_path(engine):
        raise BackupError("The backup would overwrite the live database; choose another file.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    try:
        # mkstemp makes a file only its owner can read: a backup holds password hashes.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp")
    except OSError as error:
        raise BackupError(f"Cannot write in {target.parent}: {error.strerror}.") from error
    os.close(fd)
    store = storage.configured()
    try:
        _copy_live_database(engine, Path(temporary))
        missing = (_carry_folder_files(Path(temporary), store)
                   if isinstance(store, storage.FolderStore) else [])
        info = inspect_backup(Path(temporary))
        os.replace(temporary, target)
    except (sqlite3.Error, OSError) as error:  # a full disk, say
        raise BackupError(f"The backup failed: {error}.") from error
    finally:
        Path(temporary).unlink(missing_ok=True)
    return BackupInfo(info.pages, info.revisions, info.files, missing)


def _copy_live_database(engine: Engine, destination: Path) -> None:
    with closing(sqlite3.connect(destination)) as copy, engine.connect() as live:
        # One step (pages=-1) copies the whole database from one snapshot; several steps
        # would restart whenever a worker writes in between.
        live.connection.driver_connection.backup(copy, pages=-1)
        # The copy inherits WAL mode; a backup should be one self-contained file.
        copy.execute("PRAGMA journal_mode=DELETE")


def inspect_backup(source: Path) -> BackupInfo:
    """What the backup *source* holds, after checking it is an intact wiki database.

    :raises BackupError: *source* is not a SQLite database, is damaged, is not a wiki, or
        comes from a newer version of the wiki than this one; or this wiki is not on SQLite.
    """
    _sqlite_engine()
    try:
        with closing(_open_read_only(source)) as backup:
            _check_integrity(backup, source)
            tables = _check_is_wiki(backup, source)
            version = backup.execute("SELECT version_num FROM alembic_version").fetchone()
            pages = backup.execute("SELECT count(*) FROM page WHERE NOT deleted").fetchone()[0]
            revisions = backup.execute("SELECT count(*) FROM revision").fetchone()[0]
            files = (backup.execute(COUNT_CARRIED).fetchone()[0]
                     if _has_files(backup) else 0)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not a readable SQLite database ({error}).") from error
    schema = version[0] if version else "none"
    if schema not in _known_schema_versions():
        raise BackupError(f"{source} comes from another version of the wiki "
                          f"(schema {schema}); this version cannot restore it.")
    if schema == _current_schema_version():  # an older one gets the rest on upgrade
        _check_has_every_table(tables, source)
    return BackupInfo(pages, revisions, files)


def restore_database(source: Path) -> BackupInfo:
    """Replace the live database's content with the backup *source*, copied *into* the live
    file (running workers simply see the restored wiki), its change counter moved past the
    live one so no worker's cached page survives (docs/architecture.md, "Backups").

    A wiki keeping its files in a folder gets the files the backup carries written back
    into it first (:func:`_put_back_folder_files`). The returned info's ``missing`` names the
    contents whose bytes the restored wiki lacks (the backup did not carry them).

    :raises BackupError: see :func:`inspect_backup`; or the wiki is not on SQLite; or the
        files the backup carries cannot be put back (nothing of the wiki is changed then).
    """
    engine = _sqlite_engine()
    live_path = _database_path(engine)
    if source.resolve() == live_path:
        raise BackupError(f"{source} is the live database itself; restore from a backup.")
    info = inspect_backup(source)
    db.session.remove()
    engine.dispose()  # no pooled connection of ours keeps a snapshot of the old wiki
    try:
        with tempfile.TemporaryDirectory(dir=live_path.parent, prefix=".restore-") as folder, \
                closing(sqlite3.connect(Path(folder) / "staged.sqlite")) as staged:
            with closing(_open_read_only(source)) as backup:
                backup.backup(staged, pages=-1)
            store = storage.configured()
            missing = []
            if _has_files(staged):
                if isinstance(store, storage.FolderStore):
                    _put_back_folder_files(staged, store)
                missing = _files_lacking(staged, store)
            _move_counter_past(staged, _live_counter(engine))
            with engine.connect() as live:
                staged.backup(live.connection.driver_connection, pages=-1)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"Could not restore {source}: {error}.") from error
    finally:
        engine.dispose()
    return BackupInfo(info.pages, info.revisions, info.files, missing)


def _has_files(connection: sqlite3.Connection) -> bool:
    """Whether the wiki in *connection* is recent enough to have attachments (0009)."""
    return connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'blob'").fetchone() \
        is not None


def _carry_folder_files(copy_path: Path, store: storage.FolderStore) -> list[str]:
    """Put into the backup's ``blob`` rows the bytes the folder holds for them, streamed
    (no file whole in memory); the digests of the files the folder lacks, or holds altered
    (those are left out, or every restore of the backup would be refused)."""
    missing = []
    with closing(sqlite3.connect(copy_path)) as copy:
        rows = copy.execute(NOT_CARRIED)
        for rowid, sha256, size in rows.fetchall():
            try:
                file = store.path(sha256).open("rb")
            except (OSError, ValueError):
                missing.append(sha256)
                continue
            with file, copy:
                if os.fstat(file.fileno()).st_size != size:
                    missing.append(sha256)  # not the file that was stored
                    continue
                copy.execute("UPDATE blob SET data = zeroblob(size) WHERE rowid = ?", (rowid,))
                digest = hashlib.sha256()
                with copy.blobopen("blob", "data", rowid) as data:
                    while chunk := file.read(storage.CHUNK):
                        digest.update(chunk)
                        data.write(chunk)
                if digest.hexdigest() != sha256:  # changed on disk: a restore would refuse it
                    copy.execute("UPDATE blob SET data = x'' WHERE rowid = ?", (rowid,))
                    missing.append(sha256)
    return missing


def _put_back_folder_files(staged: sqlite3.Connection, store: storage.FolderStore) -> None:
    """Write the files whose bytes the staged backup carries into the folder, then leave the
    rows empty as the folder store keeps them.

    Every name and every file's bytes are checked before the first is written, so a damaged
    or forged backup writes nothing. Each file lands whole under its own digest: the live
    wiki, not yet replaced, never sees a changed file, and the files of a restore that fails
    half-way (a full disk) are only contents nothing uses (``flask files prune``).

    :raises BackupError: a row's name is not a digest (a path, say), its bytes are not the
        ones that digest names, or a file cannot be written.
    """
    rows = staged.execute(CARRIED).fetchall()
    for rowid, sha256 in rows:
        if not isinstance(sha256, str) or not storage.SHA256_HEX.fullmatch(sha256):
            raise BackupError(f"The backup names an attached file {sha256!r}, which is not a "
                              "SHA-256 digest; it is not a backup this wiki made.")
        with staged.blobopen("blob", "data", rowid, readonly=True) as data:
            if _digest(data) != sha256:
                raise BackupError(f"The backup is damaged: the bytes of the attached file "
                                  f"{sha256} are not the ones stored.")
    for rowid, sha256 in rows:
        try:
            with staged.blobopen("blob", "data", rowid, readonly=True) as data:
                store.write(sha256, data)
        except OSError as error:
            raise BackupError(f"Cannot write the attached file {sha256} in {store.root}: "
                              f"{error.strerror or error}.") from error
    with staged:
        staged.execute("UPDATE blob SET data = x''")


def _files_lacking(staged: sqlite3.Connection, store: storage.BlobStore) -> list[str]:
    """The contents of the staged wiki whose bytes it will not have: in neither the backup
    nor the folder (a folder wiki), or not in the backup (a wiki keeping them in rows)."""
    if not isinstance(store, storage.FolderStore):
        return [sha256 for _, sha256, _ in staged.execute(NOT_CARRIED)]
    lacking = []
    for (sha256,) in staged.execute("SELECT sha256 FROM blob"):
        try:
            present = store.path(sha256).is_file()
        except (TypeError, ValueError):  # not a digest: no file can be its
            present = False
        if not present:
            lacking.append(str(sha256))
    return lacking


def _digest(source: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(storage.CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _live_counter(engine: Engine) -> int:
    with engine.connect() as live:
        try:
            return live.scalar(select(WikiState.version).where(WikiState.id == 1)) or 0
        except DBAPIError:  # a wiki from before the counter (migration 0004)
            return 0


def _move_counter_past(staged: sqlite3.Connection, live_counter: int) -> None:
    """Set the staged wiki's change counter beyond any value the live one will have had by
    the time the staged copy replaces it, however many writes come in between."""
    if staged.execute("SELECT 1 FROM sqlite_master WHERE name = 'wiki_state'").fetchone():
        with staged:
            staged.execute("UPDATE wiki_state SET version = ? WHERE id = 1",
                           (live_counter + COUNTER_LEAP,))


def _sqlite_engine() -> Engine:
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise BackupError(
            f"flask backup and flask restore work on SQLite; this wiki uses "
            f"{engine.dialect.name}. Use pg_dump and pg_restore instead "
            "(see docs/deployment.md, “Backups on PostgreSQL”)."
        )
    if _database_path(engine) is None:
        raise BackupError("This wiki's database lives in memory; there is no file to back up.")
    return engine


def _database_path(engine: Engine) -> Path | None:
    name = engine.url.database
    return Path(name).resolve() if name and name != ":memory:" else None


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"{path} is damaged: {'; '.join(problems[:3])}")


def _check_is_wiki(connection: sqlite3.Connection, path: Path) -> set[str]:
    """The names of the tables in *path*, which holds a wiki's."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    missing = [table for table in WIKI_TABLES if table not in tables]
    if missing:
        raise BackupError(f"{path} is not a wiki database (no {', '.join(missing)} table).")
    return tables


def _check_has_every_table(tables: set[str], path: Path) -> None:
    """A backup of this version's schema has all its tables: restored without one, the
    wiki would fail at every page that reads it."""
    missing = sorted(set(db.metadata.tables) - tables)
    if missing:
        raise BackupError(f"{path} is damaged: it lacks the table{'s' * (len(missing) > 1)} "
                          f"{', '.join(missing)} of its version of the wiki.")


def _scripts():
    """The migrations, as Alembic reads them: an ``alembic.script.ScriptDirectory``."""
    from alembic.script import ScriptDirectory  # Alembic: loaded by restores only

    return ScriptDirectory(current_app.extensions["migrate"].directory)


def _known_schema_versions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _current_schema_version() -> str | None:
    return _scripts().get_current_head()
