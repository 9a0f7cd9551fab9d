"""Signing in and out with Flask-Login, and ending sessions everywhere.

The id kept in the session and the remember-me cookie is ``"<user id>:<session version>"``.
Bumping a user's session version (logout, password change, deactivation) makes every
cookie issued before it worthless, on every device.
"""

import time

from flask import Flask, Request, current_app, g, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature
from sqlalchemy import inspect

from wiki.extensions import db, login_manager
from wiki.models import User
from wiki.services import accounts
from wiki.web import caching

ACCOUNTS_KEPT = 10_000  # per worker; a few hundred bytes each
SESSIONS_KEPT = 10_000  # session cookies read, per worker; under a kilobyte each
PLAIN_VALUES = (str, int, float, bool, type(None))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "account.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "account.login"
    login_manager.needs_refresh_message = "Sign in again to continue."
    login_manager.session_protection = "basic"
    app.session_interface = KeptCookieSessionInterface()


class KeptCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with what each cookie holds kept per worker once its
    signature checked out: a browser's next request with the same cookie (most of them) is
    not verified and decoded again. It still expires when Flask would refuse it (its signing
    time is kept with it). Only sessions of plain values are kept: Flask changes lists
    (the messages to flash) in place, and those sessions last one request anyway."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[dict, float]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not app.secret_key:
            return super().open_session(app, request)
        if not cookie:  # Flask would make its signer first, for nothing
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        kept = self.kept.get(cookie)
        if kept is not None and still_valid(app, kept[1]):
            return self.session_class(kept[0])  # a copy: the kept one is never changed
        try:
            data, signed = self.get_signing_serializer(app).loads(
                cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(isinstance(value, PLAIN_VALUES) for value in data.values()):
            if len(self.kept) >= SESSIONS_KEPT:
                self.kept.clear()
            self.kept[cookie] = (dict(data), signed.timestamp())
        return self.session_class(data)

    def signed_at(self, app: Flask, request: Request) -> float | None:
        """When the session cookie of *request* was signed, if this worker keeps what it
        holds (None for one it does not: not signed in, or not of plain values)."""
        kept = self.kept.get(request.cookies.get(self.get_cookie_name(app), ""))
        return None if kept is None else kept[1]


def still_valid(app: Flask, signed_at: float) -> bool:
    """Whether a session cookie signed at *signed_at* is one Flask would still accept."""
    return 0 <= time.time() - signed_at <= int(app.permanent_session_lifetime.total_seconds())


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = kept_account(int(user_id)) if caching.reads_kept_page() else None
    if user is None:
        user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def kept_account(user_id: int) -> User | None:
    """The account, as this worker read it since the wiki last changed (every change to an
    account bumps the change counter, as every write seen on pages does): a page view asks
    the database only for the counter, which it reads anyway. One copy outside any session,
    shared by the worker's page views, which only show it: not one to change or load more of.
    None if the counter cannot be read or the account does not exist."""
    version = caching.request_version()
    if version is None:
        return None
    kept = current_app.extensions.setdefault("kept_accounts", {})
    found = kept.get(user_id)
    if found is None or found[0] != version:
        user = db.session.get(User, user_id)  # read after the counter: at least as new
        if user is None:
            return None
        if len(kept) >= ACCOUNTS_KEPT:
            kept.clear()
        found = kept[user_id] = (version, User(**{column.key: getattr(user, column.key)
                                                  for column in inspect(User).column_attrs}))
    return found[1]


def sign_in(user: User, remember: bool = False) -> None:
    """Start a fresh session for *user*: nothing from the anonymous session carries over."""
    session.clear()
    login_user(user, remember=remember)
    # The new session's CSRF secret, in the cookie sent now, so that the first page with a
    # form does not change the session (and every request a client makes with the cookie
    # it kept from signing in re-sign it). Any token made from the cleared session goes.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()


def sign_out(user: User) -> None:
    """End this session and every other session of *user*, remember-me cookies included."""
    accounts.end_sessions(user.id)
    forget_this_browser()


def forget_this_browser() -> None:
    """Empty this session and have the browser drop its remember-me cookie.

    Clearing comes first: ``logout_user`` leaves the note that deletes the cookie.
    """
    session.clear()
    logout_user()
