"""The one permission policy. Views enforce it; templates use it to show or hide actions.

    can(current_user, Action.EDIT, page)   # in Python
    {% if can(current_user, "edit", page) %}   {# in templates #}

A page's access rules (wiki.services.access) narrow what a role may do with it; *page* may
be a page or the address of one that does not exist yet (who may create it there?).
"""

import enum

from flask import current_app

from wiki.models import Page, Role
from wiki.services import access
from wiki.services.slugs import HOME


class Action(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    EDIT = "edit"
    RENAME = "rename"
    REVERT = "revert"
    DELETE = "delete"
    RESTORE = "restore"  # bring back a deleted page
    MANAGE_USERS = "manage_users"  # accounts, roles and access rules
    EXPORT = "export"  # take the whole wiki at once (/export.zip)
    READ_HISTORY = "read_history"  # old revisions and diffs (WIKI_HISTORY_VISIBLE_TO)
    REVIEW = "review"  # review cards on one's own schedule: reading, not editing


_WRITE = {Action.CREATE, Action.EDIT, Action.RENAME, Action.REVERT, Action.DELETE}
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.READER: frozenset({Action.READ, Action.READ_HISTORY, Action.REVIEW}),
    Role.EDITOR: frozenset({Action.READ, Action.READ_HISTORY, Action.REVIEW, *_WRITE}),
    Role.ADMIN: frozenset(Action),
}
# What a page's rule decides by its edit role; anything else on a page by its read role.
_EDITING = _WRITE | {Action.RESTORE}


def can(user, action: Action | str, page: Page | str | None = None) -> bool:
    """Whether *user* (an account, or Flask-Login's anonymous user) may do *action* (on
    *page*, a page or an address, when given)."""
    action = Action(action)
    slug = page.slug if isinstance(page, Page) else page
    if action is Action.DELETE and slug == HOME:
        return False  # "/" shows the home page: it always needs one
    if not _role_may(user, action):
        return False
    if slug is None:
        return True
    rule = access.current_rules().rule_for(slug)
    if rule is None:
        return True
    return rank(user) >= (rule.edit_rank if action in _EDITING else rule.read_rank)


def _role_may(user, action: Action) -> bool:
    if action is Action.READ_HISTORY:
        wanted = access.ROLE_RANKS[current_app.config["HISTORY_VISIBLE_TO"]]
        return _role_may(user, Action.READ) and rank(user) >= wanted
    if not signed_in(user):
        return action is Action.READ and current_app.config["ANONYMOUS_READ"]
    return action in ROLE_ACTIONS[Role(user.role)]


def signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def rank(user) -> int:
    """The rank of *user*'s role in access rules (``anyone`` for visitors)."""
    return access.rank_of(user.role if signed_in(user) else None)


def visibility(user) -> access.Visibility:
    """Which pages *user* may see: what lists, counts and search are filtered by."""
    return access.visibility(rank(user))
