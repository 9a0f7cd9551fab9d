"""The one permission policy. Views enforce it; templates use it to show or hide actions.

    can(current_user, Action.EDIT, page)   # in Python
    {% if can(current_user, "edit", page) %}   {# in templates #}
"""

import enum

from flask import current_app

from wiki.models import Page, Role
from wiki.services.slugs import HOME


class Action(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    EDIT = "edit"
    RENAME = "rename"
    REVERT = "revert"
    DELETE = "delete"
    RESTORE = "restore"  # bring back a deleted page
    MANAGE_USERS = "manage_users"
    REVIEW = "review"  # review cards on one's own schedule: reading, not editing


_WRITE = {Action.CREATE, Action.EDIT, Action.RENAME, Action.REVERT, Action.DELETE}
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.READER: frozenset({Action.READ, Action.REVIEW}),
    Role.EDITOR: frozenset({Action.READ, Action.REVIEW, *_WRITE}),
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
