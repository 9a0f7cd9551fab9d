"""What pages were: their revisions, the changes each made, recent changes across the wiki
and the deleted pages. Reading only: the pages service writes."""

import functools

from sqlalchemy import select, tuple_
from sqlalchemy.orm import defer, selectinload

from wiki.extensions import db
from wiki.models import Page, Revision, Tag, User, page_tags
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.paging import START, Ordering, Position, Slice, keyset


@functools.cache
def without_texts() -> tuple:
    """Lists of revisions show no texts, which may be 1 MB each: they are not loaded (and a
    template that reached for one would fail its tests rather than query once per row).
    Built on first use: a loader option sets up every mapper, which start-up need not do."""
    return defer(Revision.body, raiseload=True), defer(Revision.html, raiseload=True)


# The orders the lists are walked in, by key (see wiki.services.paging.keyset).
NEWEST_REVISION_FIRST = Ordering((Revision.number,), descending=True)
NEWEST_CHANGE_FIRST = Ordering((Revision.created_at, Revision.id), descending=True)
LAST_DELETED_FIRST = Ordering((Page.updated_at, Page.id), descending=True)


def history_query(page: Page):
    """The revisions of *page*, newest first, with their authors, without their texts."""
    return (
        select(Revision).options(selectinload(Revision.author), *without_texts())
        .where(Revision.page_id == page.id).order_by(Revision.number.desc())
    )


def revisions(page: Page, position: Position, per_page: int) -> Slice:
    """The page of *page*'s revisions at *position*, newest first (see :func:`history_query`).

    :raises paging.BadCursor: *position* is no revision number.
    """
    return keyset(history_query(page), NEWEST_REVISION_FIRST, position, per_page)


def size_changes(page: Page, revisions: list[Revision]) -> dict[int, int]:
    """Characters added (+) or removed (−) by each revision, with one query for the sizes before."""
    before = {revision.number - 1 for revision in revisions}
    rows = db.session.execute(
        select(Revision.number, Revision.size)
        .where(Revision.page_id == page.id, Revision.number.in_(before))
    )
    sizes = {number: size for number, size in rows}
    return {r.number: r.size - sizes.get(r.number - 1, 0) for r in revisions}


def recent_changes_query(username: str = "", hide_minor: bool = False,
                         visible: Visibility = EVERYTHING):
    """Every live page's revisions, newest first, with their pages and authors: each loaded
    by a second query, so a window deep in the list skips index entries rather than joins.
    Deleted pages are left out by their ids (few, and asked for first), for the same reason;
    so are the pages *visible* hides, found by their slugs."""
    query = (
        select(Revision)
        .options(selectinload(Revision.author), selectinload(Revision.page))
        .order_by(*NEWEST_CHANGE_FIRST.order())
    )
    if deleted := deleted_page_ids():
        query = query.where(Revision.page_id.not_in(deleted))
    if username:
        author = db.session.scalar(select(User.id).where(User.username_key == username.casefold()))
        query = query.where(Revision.author_id == author)
    if hide_minor:
        query = query.where(Revision.minor.is_(False))
    if not visible.hides_nothing:
        query = query.where(visible.page_id_condition(Revision.page_id))
    return query


def recent_changes(position: Position, per_page: int, *, username: str = "",
                   hide_minor: bool = False, visible: Visibility = EVERYTHING) -> Slice:
    """The page at *position* of the recent changes (by *username* only, and without minor
    edits if asked; of the pages *visible* shows), without the revisions' texts.

    :raises paging.BadCursor: *position* is no time and revision id.
    """
    query = recent_changes_query(username, hide_minor, visible).options(*without_texts())
    return keyset(query, NEWEST_CHANGE_FIRST, position, per_page)


def latest_changes(count: int, visible: Visibility = EVERYTHING) -> list[Revision]:
    """The *count* newest revisions of live pages (that *visible* shows), with their texts
    (the feed shows diffs)."""
    return keyset(recent_changes_query(visible=visible), NEWEST_CHANGE_FIRST, START,
                  count).items


def page_changes(page: Page, count: int) -> list[Revision]:
    """The *count* newest revisions of *page*, with their texts (a page's feed)."""
    query = (select(Revision).options(selectinload(Revision.author), selectinload(Revision.page))
             .where(Revision.page_id == page.id).order_by(Revision.number.desc()).limit(count))
    return list(db.session.scalars(query))


def tagged_changes(tag: str, count: int, visible: Visibility = EVERYTHING) -> list[Revision]:
    """The *count* newest revisions of the live pages (that *visible* shows) tagged *tag* now
    (a tag's feed)."""
    tagged = (select(page_tags.c.page_id).join(Tag, Tag.id == page_tags.c.tag_id)
              .where(Tag.name == tag))
    query = (recent_changes_query(visible=visible).where(Revision.page_id.in_(tagged))
             .limit(count))
    return list(db.session.scalars(query))


def previous_bodies(revisions: list[Revision]) -> dict[tuple[int, int], str]:
    """The text before each of *revisions*, by (page id, number), in one query."""
    wanted = {(revision.page_id, revision.number - 1) for revision in revisions}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Revision.page_id, Revision.number, Revision.body)
        .where(tuple_(Revision.page_id, Revision.number).in_(wanted))
    )
    return {(page_id, number): body for page_id, number, body in rows}


def deleted_page_ids_query():
    """The deleted pages' ids: a few entries of their own index (``ix_page_deleted_id``)."""
    return select(Page.id).where(Page.deleted.is_(True))


def deleted_page_ids() -> list[int]:
    return list(db.session.scalars(deleted_page_ids_query()))


def deleted_pages(position: Position, per_page: int) -> Slice:
    """The page at *position* of the deleted pages, the most recently deleted first."""
    query = select(Page).where(Page.deleted.is_(True))
    return keyset(query, LAST_DELETED_FIRST, position, per_page)
