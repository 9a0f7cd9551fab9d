"""Fixtures: an app on a clean database of its own, a client that reads CSRF tokens from
forms like a browser does, a CLI runner, and accounts of each role.

The database is SQLite by default: a file migrated once, copied for each test. With
``WIKI_TEST_DATABASE_URL`` naming a throw-away PostgreSQL database, the suite runs on that
instead: migrated once, then emptied around each test. Either way a test starts from an
empty wiki and leaves nothing behind; tests that need a second app on the same database
(two engines racing, say) get it from ``make_app``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from werkzeug.security import generate_password_hash

from tests import databases
from tests.helpers import PASSWORD, submit
from wiki import create_app
from wiki.extensions import db
from wiki.models import Role, User
from wiki.services.accounts import username_skeleton

# Password hashes as cheap as scrypt allows: the wiki's own setting costs 128 MB per hash.
TEST_HASH_METHOD = "scrypt:1024:8:1"

if databases.on_postgresql():
    # The browser tests drive their own server on its own SQLite wiki: they test the
    # browser, not the database, and run in the SQLite pass.
    collect_ignore = ["e2e"]


def pytest_report_header(config) -> str:
    url = databases.TEST_DATABASE_URL
    if url is None:
        return "database: SQLite (set WIKI_TEST_DATABASE_URL to run on PostgreSQL)"
    return f"database: PostgreSQL, {make_url(url).render_as_string(hide_password=True)}"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    skip = pytest.mark.skip(reason="tests SQLite itself; this run is on PostgreSQL")
    for item in items:
        if databases.on_postgresql() and item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)
        if item.get_closest_marker("e2e"):
            # Under `pytest -n` (--dist loadgroup): one worker drives the browser journeys,
            # in order, against one server.
            item.add_marker(pytest.mark.xdist_group("browser"))


def migrate(url: str, instance: Path) -> None:
    """Apply the real migrations to the database at *url*."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "test",
                      "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


class SQLiteDatabases:
    """A migrated SQLite file, copied for each test (or module) that asks for a database."""

    name = "sqlite"
    generation = 0  # a copy is never emptied under its users' feet

    def __init__(self, folder: Path):
        self.template = folder / "wiki.sqlite"
        migrate(f"sqlite:///{self.template}", folder)

    def new(self, folder: Path) -> str:
        """The URL of an empty, migrated database of one's own, a file in *folder*."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.template, folder / "wiki.sqlite")
        return f"sqlite:///{folder / 'wiki.sqlite'}"

    def used(self) -> None:
        pass

    def release(self) -> None:
        pass


class PostgreSQLDatabases:
    """One throw-away PostgreSQL database, migrated once and emptied between its users:
    every table but ``alembic_version`` truncated (identities restarted), then the rows the
    migrations themselves wrote (``wiki_state``'s) put back."""

    name = "postgresql"
    LOCK_TIMEOUT = "20s"  # a test that left a transaction open fails instead of hanging

    def __init__(self, url: str, folder: Path):
        database = make_url(url).database or ""
        if "test" not in database:
            pytest.exit(f"WIKI_TEST_DATABASE_URL must name a throw-away database with 'test' "
                        f"in its name: every table of {database!r} is emptied", returncode=4)
        if not databases.answers(url):
            pytest.exit(f"WIKI_TEST_DATABASE_URL: no PostgreSQL answers at "
                        f"{make_url(url).render_as_string(hide_password=True)}", returncode=4)
        self.url = url
        self.created = not databases.database_exists(url)
        if self.created:
            databases.create_database(url, database)
        migrate(url, folder)
        self.engine = create_engine(url, poolclass=NullPool)
        self.tables, self.seeds = self._inventory()
        self.generation = 0  # how many times the database was emptied
        self.dirty = True

    def _inventory(self) -> tuple[list[Table], dict[Table, list[dict]]]:
        """The wiki's tables, and the rows each holds right after migrating."""
        metadata = MetaData()
        with self.engine.connect() as connection:
            names = connection.scalars(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version' ORDER BY tablename")).all()
            tables = [Table(name, metadata, autoload_with=connection) for name in names]
            seeds = {table: [dict(row) for row in connection.execute(select(table)).mappings()]
                     for table in tables}
        return tables, {table: rows for table, rows in seeds.items() if rows}

    def new(self, folder: Path) -> str:
        """The URL of the database, empty."""
        if self.dirty:
            self.empty()
        self.dirty = True
        return self.url

    def used(self) -> None:
        """Someone wrote to it outside :meth:`new`: empty it before the next user."""
        self.dirty = True

    def release(self) -> None:
        self.empty()

    def empty(self) -> None:
        preparer = self.engine.dialect.identifier_preparer
        names = ", ".join(preparer.format_table(table) for table in self.tables)
        with self.engine.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{self.LOCK_TIMEOUT}'"))
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table, rows in self.seeds.items():
                stored = {column.name for column in table.columns if column.computed is None}
                connection.execute(insert(table), [
                    {name: value for name, value in row.items() if name in stored}
                    for row in rows
                ])
        self.generation += 1
        self.dirty = False

    def close(self) -> None:
        self.engine.dispose()
        if self.created:
            databases.drop_database(self.url, make_url(self.url).database)


@pytest.fixture(scope="session")
def test_database(tmp_path_factory) -> Iterator[SQLiteDatabases | PostgreSQLDatabases]:
    """Where this run's wikis live; see the module's docstring."""
    folder = tmp_path_factory.mktemp("template")
    if not databases.on_postgresql():
        yield SQLiteDatabases(folder)
        return
    postgresql = PostgreSQLDatabases(databases.for_this_worker(databases.TEST_DATABASE_URL),
                                     folder)
    yield postgresql
    postgresql.close()


@pytest.fixture
def database_url(test_database, tmp_path) -> Iterator[str]:
    """The URL of this test's database: empty, migrated, and emptied again after it."""
    yield test_database.new(tmp_path / "instance")
    test_database.release()


@pytest.fixture
def other_database_url(test_database, tmp_path) -> Iterator[str]:
    """A second empty wiki database, apart from :func:`database_url`'s."""
    if test_database.name == "sqlite":
        yield test_database.new(tmp_path / "other-database")
        return
    with databases.throwaway_database(test_database.url, "other") as url:
        migrate(url, tmp_path)
        yield url


@pytest.fixture
def make_app(database_url, tmp_path):
    """``make_app(name="instance", **config)``: an app on this test's database, with the
    instance folder *name* and *config* over the test settings. Several apps made here share
    the database (each with its own engine) and are all closed after the test."""
    made = []

    def make(name: str = "instance", **config):
        instance = tmp_path / name
        instance.mkdir(exist_ok=True)
        app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance),
                          "DATABASE_URL": database_url,
                          "PASSWORD_HASH_METHOD": TEST_HASH_METHOD, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture(scope="session")
def password_hash() -> str:
    return generate_password_hash(PASSWORD, TEST_HASH_METHOD)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def users(app, password_hash) -> dict[str, User]:
    """One account of each role, plus a deactivated one; all with the password PASSWORD."""
    specs = {"admin": (Role.ADMIN, True), "editor": (Role.EDITOR, True),
             "reader": (Role.READER, True), "gone": (Role.EDITOR, False)}
    with app.app_context():
        accounts = {
            name: User(username=name.capitalize(), username_key=name,
                       username_skeleton=username_skeleton(name), password_hash=password_hash,
                       role=role, active=active)
            for name, (role, active) in specs.items()
        }
        db.session.add_all(accounts.values())
        db.session.commit()
        for user in accounts.values():
            db.session.refresh(user)
        db.session.expunge_all()
    return accounts


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str = "editor", password: str = PASSWORD, **extra):
        return submit(self.client, "/login", {"username": username, "password": password, **extra})

    def logout(self):
        return submit(self.client, "/logout")


@pytest.fixture
def auth(client, users) -> Auth:
    return Auth(client)


@pytest.fixture
def editor(auth):
    """A client signed in as an editor."""
    auth.login("editor")
    return auth.client


@pytest.fixture
def admin(auth):
    auth.login("admin")
    return auth.client


@pytest.fixture
def notes(app):
    """The shipped notes, imported as they are by ``flask init``."""
    from wiki.services.importing import import_shipped_notes

    with app.app_context():
        return import_shipped_notes()
