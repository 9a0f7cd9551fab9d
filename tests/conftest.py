"""Fixtures: an app on a temporary SQLite file, a client that reads CSRF tokens from forms
like a browser does, a CLI runner, and accounts of each role."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from tests.helpers import PASSWORD, submit
from wiki import create_app
from wiki.extensions import db
from wiki.models import Role, User


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """A SQLite file with the schema applied once by the real migrations, copied per test."""
    folder = tmp_path_factory.mktemp("template")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder), "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return folder / "wiki.sqlite"


@pytest.fixture(scope="session")
def password_hash() -> str:
    return generate_password_hash(PASSWORD, "scrypt")


@pytest.fixture
def app(tmp_path, migrated_database):
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "wiki.sqlite")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance)})
    yield app
    with app.app_context():
        db.engine.dispose()


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
            name: User(username=name.capitalize(), username_key=name, password_hash=password_hash,
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
