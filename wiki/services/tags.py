"""Tags: which tags are in use, and the pages that carry one."""

from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Page, Tag, page_tags
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.pages.queries import BY_ADDRESS
from wiki.services.paging import Position, Slice, keyset

TAG_SEPARATOR = "\n"  # never in a tag: whitespace is turned into "-"


def tag_names_query(page: Page):
    """One value: *page*'s tag names joined by TAG_SEPARATOR (None if it has none), so a
    page view can ask for them with its other facts; :func:`split_tag_names` reads it."""
    return (select(func.aggregate_strings(Tag.name, TAG_SEPARATOR))
            .join(page_tags, page_tags.c.tag_id == Tag.id)
            .where(page_tags.c.page_id == page.id))


def split_tag_names(joined: str | None) -> list[str]:
    """What :func:`tag_names_query` gives, as the tag names A–Z."""
    return sorted(joined.split(TAG_SEPARATOR)) if joined else []


def tag_counts_query(visible: Visibility = EVERYTHING):
    pages_count = func.count(page_tags.c.page_id).label("pages")
    return (
        select(Tag.name, pages_count)
        .join(page_tags, page_tags.c.tag_id == Tag.id)
        .join(Page, Page.id == page_tags.c.page_id)
        .where(Page.deleted.is_(False), visible.slug_condition())
        .group_by(Tag.name)
        .order_by(Tag.name)
    )


def tag_counts(visible: Visibility = EVERYTHING) -> list[tuple[str, int]]:
    """Every tag in use on a live page (that *visible* shows), A–Z, with how many have it."""
    return [(name, count) for name, count in db.session.execute(tag_counts_query(visible))]


def tagged_pages_query(tag: str, visible: Visibility = EVERYTHING):
    """Live pages tagged *tag*, A–Z: from the tag to its pages, so the work grows with the
    tag, not with the wiki (an EXISTS per page would walk every page for a rare tag)."""
    return (
        select(Page)
        .join(page_tags, page_tags.c.page_id == Page.id)
        .join(Tag, Tag.id == page_tags.c.tag_id)
        .where(Tag.name == tag, Page.deleted.is_(False), visible.slug_condition())
        .order_by(*BY_ADDRESS.order())
    )


def tagged_pages(tag: str, position: Position, per_page: int,
                 visible: Visibility = EVERYTHING) -> Slice:
    """The page at *position* of the live pages (that *visible* shows) tagged *tag*, A–Z.

    :raises paging.BadCursor: *position* is no address.
    """
    return keyset(tagged_pages_query(tag, visible), BY_ADDRESS, position, per_page)
