"""The notes wiki: ``create_app`` builds the Flask application.

Read this module as the table of contents of the app: where its files are, how its
settings are layered, which extensions, blueprints, error pages and commands it has.
"""

import gc
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from wiki.web.requests import WikiRequest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the wiki.

    Settings come, each layer overriding the one before, from ``wiki/config.py``, then
    ``instance/config.py``, then ``WIKI_*`` environment variables, then *test_config*.
    """
    with collector_paused():
        return build_app(test_config or {})


def build_app(test_config: dict[str, Any]) -> Flask:
    """The factory's steps, in order: paths, settings, then what the app is made of."""
    instance_path = test_config.get("INSTANCE_PATH") or os.environ.get(
        "WIKI_INSTANCE_PATH", PROJECT_ROOT / "instance"
    )
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = WikiRequest  # closes every file an upload was spooled into
    load_config(app, test_config)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_context(app)
    register_commands(app)
    register_middleware(app)
    return app


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the app is built: building imports most of the
    app and its libraries, objects that all live on, so each pass found nothing to free and
    together they took about a fifth of the start-up time. Garbage made meanwhile is
    collected on the next pass after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_config(app: Flask, test_config: dict[str, Any]) -> None:
    app.config.from_object("wiki.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("WIKI")
    app.config.from_mapping(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"] or (
        f"sqlite:///{Path(app.instance_path) / 'wiki.sqlite'}"
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(Path(app.instance_path))
    if app.config["HISTORY_VISIBLE_TO"] not in ("anyone", "reader", "editor", "admin"):
        raise ValueError("WIKI_HISTORY_VISIBLE_TO is one of anyone, reader, editor, admin; "
                         f"not {app.config['HISTORY_VISIBLE_TO']!r}")
    # Cookies follow the one HTTPS switch unless set one by one.
    app.config["REMEMBER_COOKIE_SECURE"] = (
        app.config["REMEMBER_COOKIE_SECURE"] or app.config["SESSION_COOKIE_SECURE"]
    )


def load_secret_key(instance: Path) -> str:
    """Read the instance's secret key, generating it (mode 0600) on first use.

    The key is written to a private temporary file and hard-linked into place, so several
    Gunicorn workers starting at once all end up reading the same key.
    """
    key_file = instance / SECRET_KEY_FILE
    if not key_file.exists():
        fd, tmp_name = tempfile.mkstemp(dir=instance, prefix=".secret-")  # created 0600
        with os.fdopen(fd, "w") as tmp:
            tmp.write(secrets.token_hex(32))
        try:
            os.link(tmp_name, key_file)
        except FileExistsError:
            pass  # another worker won the race; use its key
        finally:
            os.unlink(tmp_name)
    return key_file.read_text().strip()


def register_extensions(app: Flask) -> None:
    from wiki import database
    from wiki.extensions import csrf, db, limiter
    from wiki.web import auth, security, timing

    db.init_app(app)
    database.init_app(app)
    timing.init_app(app)
    database.init_migrations(app, PROJECT_ROOT / "migrations")
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    from wiki.views import (
        access,
        account,
        admin,
        api,
        api_v1,
        attachments,
        exports,
        health,
        history,
        links,
        pages,
        review,
        search,
        site,
        tokens,
    )

    for module in (pages, history, links, search, attachments, review, account, tokens, admin,
                   access, api, api_v1, exports, health, site):
        app.register_blueprint(module.bp)


def register_error_handlers(app: Flask) -> None:
    from wiki import errors

    errors.init_app(app)


def register_template_context(app: Flask) -> None:
    from wiki.web import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    from wiki import cli

    cli.init_app(app)


def register_middleware(app: Flask) -> None:
    from wiki.web import caching, signed_in

    # Innermost first: anonymous page views answered from the worker's cache, signed-in ones
    # as Flask last answered them, then ProxyFix.
    app.wsgi_app = caching.PageCacheMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]
    signed_in.init_app(app)
    proxies = int(app.config["PROXY_FIX"])
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
