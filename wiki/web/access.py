"""The HTTP side of the one policy: a view asks :func:`require`, which answers a refusal
the way the client can use it (the login page, a 401 under ``/api/``, or a 403)."""

from flask import abort
from flask_login import current_user, fresh_login_required

from wiki.errors import wants_json
from wiki.extensions import login_manager
from wiki.models import Page
from wiki.permissions import Action, can, visibility
from wiki.services.access import Visibility


def require(action: Action | str, page: Page | None = None) -> None:
    """Abort unless the current user may do *action*.

    :raises: for anonymous users a redirect to the login page (via Flask-Login), or
        ``401 Unauthorized`` under ``/api/``; ``403 Forbidden`` for a signed-in user
        without the permission.
    """
    if can(reader(), action, page):
        return
    if not current_user.is_authenticated:
        abort(401 if wants_json() else login_manager.unauthorized())
    abort(403)


@fresh_login_required
def require_fresh_admin() -> None:
    """Guard administration pages (a blueprint's ``before_request``): an administrator who
    signed in with a password just now.

    :raises: a redirect to the login page for anonymous users and remembered (not fresh)
        sessions, ``403 Forbidden`` for everyone else who is not an administrator.
    """
    require(Action.MANAGE_USERS)


def reader():
    """The current user (an account, or Flask-Login's anonymous user) itself, not the proxy
    that looks it up again at every attribute the policy reads."""
    return current_user._get_current_object()


def visible() -> Visibility:
    """What the current user may see: the lists, counts and search a view asks for are
    filtered by it."""
    return visibility(reader())


def shown(page: Page | str) -> bool:
    """Whether the current user may see *page* (a page, or an address)."""
    return can(reader(), Action.READ, page)
