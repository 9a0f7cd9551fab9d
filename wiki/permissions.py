"""The one permission policy. Views enforce it; templates use it to show or hide actions.

    can(current_user, Action.EDIT, page)   # in Python
    {% if can(current_user, "edit", page) %}   {# in templates #}
"""

import enum

from flask import abort, current_app
from flask_login import current_user

from wiki.errors import wants_json
from wiki.extensions import login_manager
from wiki.models import Page, Role
from wiki.services.pages import HOME


class Action(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    EDIT = "edit"
    RENAME = "rename"
    REVERT = "revert"
    DELETE = "delete"
    RESTORE = "restore"  # bring back a deleted page
    MANAGE_USERS = "manage_users"


_WRITE = {Action.CREATE, Action.EDIT, Action.RENAME, Action.REVERT, Action.DELETE}
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.READER: frozenset({Action.READ}),
    Role.EDITOR: frozenset({Action.READ, *_WRITE}),
    Role.ADMIN: frozenset(Action),
}


def can(user, action: Action | str, page: Page | None = None) -> bool:
    """Whether *user* (an account, or Flask-Login's anonymous user) may do *action*.

    *page* is accepted so that page-level rules can be added without touching callers.
    """
    action = Action(action)
    if action is Action.DELETE and page is not None and page.slug == HOME:
        return False  # "/" shows the home page: it always needs one
    if user is None or not user.is_authenticated or not user.is_active:
        return action is Action.READ and current_app.config["ANONYMOUS_READ"]
    return action in ROLE_ACTIONS[Role(user.role)]


def require(action: Action | str, page: Page | None = None) -> None:
    """Abort unless the current user may do *action*.

    :raises: for anonymous users a redirect to the login page (via Flask-Login), or
        ``401 Unauthorized`` under ``/api/``; ``403 Forbidden`` for a signed-in user
        without the permission.
    """
    if can(current_user, action, page):
        return
    if not current_user.is_authenticated:
        abort(401 if wants_json() else login_manager.unauthorized())
    abort(403)
