"""Load what a URL names or answer 404: the views' one way to find a page or a revision."""

from typing import NoReturn

from flask import abort
from flask_login import current_user

from wiki.models import Card, Page, Revision, User
from wiki.permissions import Action, can
from wiki.services import accounts, cards, pages
from wiki.services.reading import ShownPage
from wiki.web.access import require
from wiki.web.arguments import DATABASE_INT_MAX


def get_page_or_404(slug: str) -> Page:
    """The live page at *slug*, its current revision loaded.

    :raises NotFound: there is no such page (a deleted page counts as missing, and so does
        a page the access rules hide from the current user).
    """
    page = pages.get_page(slug)
    if page is None:
        abort(404)
    return unless_hidden(page)


def unless_hidden(page: Page) -> Page:
    """*page*, if the current user may read it.

    :raises: a visitor who may read no page is sent to sign in (``require``); for anyone
        else a page the access rules hide is not found, as if it did not exist.
    """
    if not can(current_user, Action.READ, page):
        require(Action.READ)
        abort(404)
    return page


def get_page_with_history_or_404(slug: str) -> Page:
    """The page at *slug*; a deleted one only for those who may restore it.

    :raises NotFound: no such page, or deleted and the user may not restore pages, or hidden
        from the user by the access rules.
    """
    page = pages.get_any_page(slug)
    if page is None or not page.revision_number:
        abort(404)
    if page.deleted and not can(current_user, Action.RESTORE):
        abort(404)
    return unless_hidden(page)


def get_revision_or_404(page: Page, number: int | None) -> Revision:
    """Revision *number* of *page*.

    :raises NotFound: with a message naming the revisions the page does have.
    """
    revision = pages.get_revision(page, number) if number is not None else None
    if revision is None:
        abort_no_revision(page, number)
    return revision


def abort_no_revision(page: Page | ShownPage, number: int | None) -> NoReturn:
    """:raises NotFound: with a message naming the revisions *page* does have."""
    abort(404, f"“{page.title}” has no revision {number if number is not None else ''}. "
               f"It has revisions 1 to {page.revision_number}.")


def get_user_or_404(user_id: int) -> User:
    """The account with id *user_id*.

    :raises NotFound: there is no such account.
    """
    user = accounts.get_user(user_id)
    if user is None:
        abort(404)
    return user


def get_card_or_404(card_id: int) -> Card:
    """The review card *card_id*.

    :raises NotFound: no such card, or it is retired (its line or its page is gone), or its
        page is hidden from the current user by the access rules.
    """
    card = cards.get_card(card_id) if card_id <= DATABASE_INT_MAX else None
    if card is None or not can(current_user, Action.READ, card.page):
        abort(404, "This card is no longer on its page.")
    return card
