import os
import stat

import pytest

from wiki import create_app


def test_testing_flag_and_paths(app, tmp_path, database_url):
    assert app.testing
    assert app.instance_path == str(tmp_path / "instance")
    assert os.path.isabs(app.template_folder) and os.path.isabs(app.static_folder)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_the_database_is_a_sqlite_file_in_the_instance_folder_by_default(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/instance/wiki.sqlite"


def test_config_layers_in_order(tmp_path, monkeypatch):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text(
        'SITE_NAME = "From instance"\nPAGE_SIZE = 7\nREGISTRATION = "open"\n'
    )
    monkeypatch.setenv("WIKI_PAGE_SIZE", "9")
    monkeypatch.setenv("WIKI_ANONYMOUS_READ", "false")
    app = create_app({"INSTANCE_PATH": str(instance), "REGISTRATION": "closed"})
    assert app.config["SITE_NAME"] == "From instance"  # instance file over defaults
    assert app.config["PAGE_SIZE"] == 9  # environment over instance file
    assert app.config["ANONYMOUS_READ"] is False  # env values are parsed as JSON
    assert app.config["REGISTRATION"] == "closed"  # test mapping over everything
    assert app.config["DEFAULT_ROLE"] == "reader"  # untouched default


def test_database_url_selects_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_secret_key_generated_once_with_private_mode(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 32
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".secret-")]


def test_configured_secret_key_wins_and_no_file_is_written(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "from-config"})
    assert app.config["SECRET_KEY"] == "from-config"
    assert not (tmp_path / "secret_key").exists()


def test_no_default_secret_in_code():
    from wiki import config

    assert not hasattr(config, "SECRET_KEY")


@pytest.mark.sqlite_only
def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(app):
    from sqlalchemy import text

    from wiki.extensions import db

    with app.app_context():
        connection = db.session.connection()
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_importing_the_package_has_no_side_effects(tmp_path):
    import subprocess
    import sys

    code = "import wiki, wiki.models, wiki.views.pages, wiki.cli"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert list(tmp_path.iterdir()) == []


# The Markdown parser and what it renders with: loaded with the first page rendered.
RENDERING_MODULES = ("markdown_it", "mdit_py_plugins", "pygments", "nh3", "latex2mathml",
                     "xml.etree.ElementTree")
# Imported where they are used, not by create_app(): each costs start-up time and every
# worker's memory, and a worker that shows pages may never need them. The CLI's commands
# import their own services.
DEFERRED_MODULES = ("alembic", "flask_migrate", "mako", "zxcvbn", "disarm", "PIL", "yaml",
                    "fsrs", *RENDERING_MODULES, "merge3", "wiki.services.importing",
                    "wiki.services.backup", "wiki.services.archives", "wiki.services.pruning",
                    "wiki.services.pages.reindexing")


def test_creating_the_app_leaves_heavy_libraries_unimported(tmp_path):
    import json
    import subprocess
    import sys

    code = ("import json, sys; from wiki import create_app; "
            f"create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'SECRET_KEY': 'x'}}); "
            f"print(json.dumps([name for name in {DEFERRED_MODULES!r} if name in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                          capture_output=True, text=True)
    assert json.loads(done.stdout) == []


def in_fresh_interpreter(script: str) -> object:
    """What *script* prints (as JSON), run in a new Python process from the project root."""
    import json
    import subprocess
    import sys

    from tests.servers import PROJECT_ROOT

    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


FORMULA_AND_CODE = "```python\nprint('hi')\n```\n\nArea $\\pi r^2$."


def test_the_renderer_loads_with_the_first_page_saved(database_url, users, tmp_path):
    """Not at start-up, nor on signing in: with the first page rendered, which it then
    highlights and typesets as ever."""
    instance = tmp_path / "fresh"
    instance.mkdir()
    loaded = in_fresh_interpreter(f"""
import json, sys
from tests.helpers import PASSWORD, save_page, submit
from wiki import create_app

app = create_app({{"TESTING": True, "INSTANCE_PATH": {str(instance)!r},
                  "DATABASE_URL": {database_url!r}}})
loaded = lambda: [name for name in {RENDERING_MODULES!r} if name in sys.modules]
at_start = loaded()
client = app.test_client()
submit(client, "/login", {{"username": "editor", "password": PASSWORD}})
after_sign_in = loaded()
save_page(client, "Code", "Code", {FORMULA_AND_CODE!r})
page = client.get("/wiki/code").get_data(as_text=True)
print(json.dumps([at_start, after_sign_in, loaded(), 'class="highlight"' in page,
                  "<math" in page]))
""")
    assert loaded == [[], [], list(RENDERING_MODULES), True, True]


def test_creating_the_app_sets_up_no_mapper(tmp_path):
    """Mappers are set up by the first query: a loader option built at import time (such as
    ``joinedload``) would set them all up in create_app(), a twentieth of its work."""
    configured = in_fresh_interpreter(f"""
import json
from wiki import create_app
from wiki.models import Page

create_app({{"INSTANCE_PATH": {str(tmp_path)!r}, "SECRET_KEY": "x"}})
print(json.dumps(Page.__mapper__.configured))
""")
    assert configured is False


def test_migrations_are_found_when_a_command_asks(app):
    from flask_migrate import Migrate

    with app.app_context():
        migrations = app.extensions["migrate"]
        assert migrations.directory.endswith("migrations")
        assert isinstance(app.extensions["migrate"].migrate, Migrate)
