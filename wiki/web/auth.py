"""Signing in and out with Flask-Login, and ending sessions everywhere.

The id kept in the session and the remember-me cookie is ``"<user id>:<session version>"``.
Bumping a user's session version (logout, password change, deactivation) makes every
cookie issued before it worthless, on every device.
"""

from flask import Flask, session
from flask_login import login_user, logout_user

from wiki.extensions import db, login_manager
from wiki.models import User
from wiki.services import accounts


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "account.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "account.login"
    login_manager.needs_refresh_message = "Sign in again to continue."
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def sign_in(user: User, remember: bool = False) -> None:
    """Start a fresh session for *user*: nothing from the anonymous session carries over."""
    session.clear()
    login_user(user, remember=remember)


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
