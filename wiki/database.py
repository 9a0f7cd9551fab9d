"""Database connections and write transactions.

SQLite: WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every write, so
workers queue for the write lock. PostgreSQL: READ COMMITTED in UTC; a write that lost to a
concurrent one is recognised by :func:`lost_to_another_writer` and run again. Why, in
docs/architecture.md ("Transactions").
"""

import contextlib
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import Engine, event, func, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from wiki.extensions import db
from wiki.models import WikiState

WRITE_OPTION = "wiki_write"
BUSY_TIMEOUT_MS = 30_000
# PostgreSQL's codes for "another transaction got there first": a unique key it took
# meanwhile, a serialization failure, a deadlock. Running the transaction again resolves them.
RETRYABLE_SQLSTATES = frozenset({"23505", "40001", "40P01"})
BUMP_VERSION = update(WikiState).where(WikiState.id == 1).values(version=WikiState.version + 1)


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)


def init_migrations(app: Flask, directory: Path) -> None:
    """Give ``flask db`` and ``flask init`` the migrations in *directory* (Flask-Migrate).

    Flask-Migrate imports Alembic, which costs a process about 80 ms and 11 MB, and a worker
    serving pages never migrates: so it is set up the first time a command asks for it.
    """
    app.extensions["migrate"] = _MigrationsOnFirstUse(app, directory)
    app.cli.add_command(_MigrationCommands("db", help="Perform database migrations."))


class _MigrationCommands(click.Group):
    """``flask db``: Flask-Migrate's command group, imported when the command line runs it
    (its name and help are all that listing the commands needs)."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


class _MigrationsOnFirstUse:
    """Stands in ``app.extensions["migrate"]`` until something reads it, then puts
    Flask-Migrate's own settings there and answers from them."""

    def __init__(self, app: Flask, directory: Path) -> None:
        self.app, self.directory_path = app, directory

    def __getattr__(self, name: str):
        from flask_migrate import Migrate

        Migrate(self.app, db, directory=str(self.directory_path), render_as_batch=True)
        return getattr(self.app.extensions["migrate"], name)


def _configure_sqlite(engine: Engine) -> None:
    _create_private_file(engine.url.database)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, rather than the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _create_private_file(path: str | None) -> None:
    """Create the database file at *path*, if missing, readable by its owner only: it holds
    password hashes. SQLite gives the ``-wal`` and ``-shm`` files it adds the same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(OSError):  # there already, or not creatable: SQLite says why
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _configure_postgresql(engine: Engine) -> None:
    nul_safe_dumpers = _nul_safe_str_dumpers()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        for dumper in nul_safe_dumpers:  # this connection's adapters only
            dbapi_connection.adapters.register_dumper(str, dumper)
        # Timestamps are stored without a time zone, in UTC: a server in another zone
        # would otherwise shift every aware datetime the wiki writes.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # so the setting outlives the pool's rollback
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.autocommit = autocommit


def _nul_safe_str_dumpers() -> list[type]:
    """psycopg's dumpers of Python strings, in its order, each writing NUL as U+FFFD."""
    from psycopg.types import string  # psycopg is installed where PostgreSQL is used

    def nul_safe(dumper: type) -> type:
        def dump(self, obj: str):
            return dumper.dump(self, obj.replace("\x00", "\ufffd"))

        return type(f"NulSafe{dumper.__name__}", (dumper,), {"dump": dump})

    names = ["StrBinaryDumperName", "StrBinaryDumperVarchar", "StrBinaryDumper",
             "StrDumperName", "StrDumperVarchar", "StrDumper", "StrDumperUnknown"]
    return [nul_safe(getattr(string, name)) for name in names]


def one_writer_at_a_time(session: Session, name: str) -> None:
    """Hold the write lock called *name* until the transaction ends, so writes that check
    rows they do not change (is there an account yet? another administrator?) take turns.

    SQLite's writes already do (``BEGIN IMMEDIATE``); PostgreSQL takes an advisory lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                             signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))


def lost_to_another_writer(error: DBAPIError) -> bool:
    """Whether *error* means a concurrent transaction won, so the write may run again."""
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


@contextmanager
def write_transaction(*, seen_on_pages: bool = True) -> Iterator[Session]:
    """Run one write as one transaction: committed at the end, rolled back on any error.

    Any read transaction still open is ended first, so the write starts from a fresh
    snapshot and (on SQLite) holds the write lock from its first statement. Every write
    bumps the wiki's change counter, which tells page caches their copies are out of date,
    except one that no page shows (*seen_on_pages* false: a failed sign-in, say), so that
    such writes cannot be used to empty every worker's cache.
    """
    session = db.session
    session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield session
        if seen_on_pages:
            session.execute(BUMP_VERSION)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def database_answers() -> bool:
    """Whether the database answers a trivial query (failures are logged, not raised)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("Health check: the database does not answer")
        db.session.rollback()
        return False
    return True
