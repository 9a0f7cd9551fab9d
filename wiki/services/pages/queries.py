"""Finding pages: by address, the one a renamed address leads to, a revision, the list A–Z."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from wiki.extensions import db
from wiki.models import Page, Redirect, Revision
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.paging import Ordering, Position, Slice, keyset

BY_ADDRESS = Ordering((Page.slug,))  # A–Z: the order lists of pages are walked in


@functools.cache
def live_page_statement() -> Select:
    """Built once, the slug a parameter: every page view asks it, and building costs more
    than SQLite takes to answer it. Built on first use, not at import: its joinedload sets
    up every mapper, a twentieth of create_app()'s work, which the first query does anyway."""
    return (
        select(Page)
        .options(joinedload(Page.current_revision).joinedload(Revision.author))
        .where(Page.slug == bindparam("slug"), Page.deleted.is_(False))
    )


def live_page_query(slug: str):
    """The live page at *slug*, its current revision and author loaded with it."""
    return live_page_statement().params(slug=slug)


def get_page(slug: str) -> Page | None:
    """The live page at *slug*, or None (deleted pages count as missing)."""
    return db.session.scalar(live_page_statement(), {"slug": slug})


def find_redirect(slug: str) -> Page | None:
    """The page that *slug* pointed to before a rename, if any."""
    return db.session.scalar(
        select(Page).join(Redirect, Redirect.page_id == Page.id).where(Redirect.old_slug == slug)
    )


def get_revision(page: Page, number: int) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.page_id == page.id, Revision.number == number)
    )


def get_any_page(slug: str) -> Page | None:
    """The page at *slug*, deleted or not."""
    return db.session.scalar(select(Page).where(Page.slug == slug))


def page_list_query(visible: Visibility = EVERYTHING):
    """Live pages A–Z by address: a walk along the slug index, one window at a time."""
    return (select(Page).where(Page.deleted.is_(False), visible.slug_condition())
            .order_by(*BY_ADDRESS.order()))


def page_list(position: Position, per_page: int, visible: Visibility = EVERYTHING) -> Slice:
    """The page at *position* of the live pages (that *visible* shows), A–Z.

    :raises paging.BadCursor: *position* is no address.
    """
    return keyset(page_list_query(visible), BY_ADDRESS, position, per_page)
