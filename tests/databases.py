"""PostgreSQL for the tests: which server to use, and throw-away databases on it.

The suite runs on PostgreSQL when ``WIKI_TEST_DATABASE_URL`` names a throw-away database
(``postgresql+psycopg://postgres@127.0.0.1:5432/wiki_test_mine``). Tests that need a
database of their own (several servers on one database, say) create it on the same server,
or, in the SQLite run, on the machine's own PostgreSQL if it answers.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

TEST_DATABASE_URL = os.environ.get("WIKI_TEST_DATABASE_URL") or None
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Set by .ci/run: there, a PostgreSQL that cannot be reached fails the run instead of
# skipping the tests that need it.
REQUIRED = bool(os.environ.get("POSTGRESQL_REQUIRED"))


def on_postgresql() -> bool:
    """Whether this run's wikis live on PostgreSQL (else: SQLite files)."""
    return TEST_DATABASE_URL is not None


def for_this_worker(url: str) -> str:
    """*url*; or, in a pytest-xdist worker, a database of the worker's own beside it (its
    name ends ``_gw0``, ``_gw1``...): each run empties its database between tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(
        hide_password=False)


def server_url() -> str | None:
    """A PostgreSQL server tests may create databases on, or None if there is none."""
    url = TEST_DATABASE_URL or LOCAL_SERVER
    return url if answers(url) else None


def answers(url: str) -> bool:
    engine = create_engine(_maintenance(url), poolclass=NullPool,
                           connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        return False
    finally:
        engine.dispose()
    return True


@contextmanager
def throwaway_database(server: str, purpose: str) -> Iterator[str]:
    """Create an empty database on *server*; yield its URL; drop it (and end its sessions)
    on the way out. Its name says what it is for and cannot collide with another run's."""
    name = f"wiki_test_{purpose}_{os.getpid()}_{secrets.token_hex(4)}"
    create_database(server, name)
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(server, name)


def create_database(server: str, name: str) -> None:
    with _admin(server) as connection:
        connection.execute(text(f'CREATE DATABASE "{_checked(name)}"'))


def drop_database(server: str, name: str) -> None:
    with _admin(server) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)'))


def database_exists(url: str) -> bool:
    name = make_url(url).database
    with _admin(url) as connection:
        return bool(connection.scalar(
            text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": name}))


@contextmanager
def _admin(url: str):
    """A connection to the server's ``postgres`` database, outside any transaction (as
    CREATE and DROP DATABASE require)."""
    engine = create_engine(_maintenance(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _maintenance(url: str) -> URL:
    return make_url(url).set(database="postgres")


def _checked(name: str) -> str:
    """*name*, if it is a plain identifier (it goes into SQL that cannot take a parameter)."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not a plain database name: {name!r}")
    return name
