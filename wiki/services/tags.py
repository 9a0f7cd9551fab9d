"""Tags: which tags are in use, the pages that carry one, and giving a page its tags."""

from collections.abc import Sequence

from sqlalchemy import delete, false, func, insert, select, union, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from wiki.extensions import db
from wiki.models import Page, Tag, page_tags
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.paging import Ordering, Position, Slice, keyset

TAG_SEPARATOR = "\n"  # never in a tag: whitespace is turned into "-"
# A tag's pages A–Z by the copy of their slugs in page_tag, which ix_page_tag_tag_id_page_slug
# holds in order; the key is read off each page as its slug (the same value).
BY_TAGGED_ADDRESS = Ordering((page_tags.c.page_slug,), attributes=("slug",))


def set_tags(session: Session, page: Page, names: Sequence[str]) -> None:
    """Give *page* exactly the tags *names*, making the tags not used before. The rows
    carry the page's slug (see :data:`BY_TAGGED_ADDRESS`), so they are written here, not
    through ``Page.tags`` (which is read only)."""
    names = sorted(set(names))
    known = {tag.name: tag for tag in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    new = [Tag(name=name) for name in names if name not in known]
    if new:
        session.add_all(new)
        session.flush()
        known.update((tag.name, tag) for tag in new)
    session.execute(delete(page_tags).where(page_tags.c.page_id == page.id))
    if names:
        session.execute(insert(page_tags), [
            {"page_id": page.id, "tag_id": known[name].id, "page_slug": page.slug}
            for name in names])
    set_committed_value(page, "tags", [known[name] for name in names])


def page_moved(session: Session, page: Page) -> None:
    """Bring the copies of *page*'s slug in its tags' rows up to date, after a rename."""
    session.execute(update(page_tags).where(page_tags.c.page_id == page.id)
                    .values(page_slug=page.slug))


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
    """Tags in use on live pages (that *visible* shows), A–Z, with how many pages have each:
    every row of page_tag counted per tag along ix_page_tag_tag_id_page_slug, reading no
    page, less the rows of the pages that do not count (deleted, or hidden from the
    reader), found by their ids: few, as a rule, where the wiki's pages are many."""
    left_out = select(Page.id).where(Page.deleted.is_(True))  # ix_page_deleted_id
    hidden = visible.hidden_condition(Page.slug)
    if hidden is not None:
        left_out = union(left_out, select(Page.id).where(hidden))
    tagged = (select(page_tags.c.tag_id, func.count().label("pages"))
              .group_by(page_tags.c.tag_id).subquery("tagged"))
    uncounted = (select(page_tags.c.tag_id, func.count().label("pages"))
                 .where(page_tags.c.page_id.in_(left_out))
                 .group_by(page_tags.c.tag_id).subquery("uncounted"))
    pages = (tagged.c.pages - func.coalesce(uncounted.c.pages, 0)).label("pages")
    return (select(Tag.name, pages)
            .join(tagged, tagged.c.tag_id == Tag.id)
            .outerjoin(uncounted, uncounted.c.tag_id == Tag.id)
            .where(pages > 0)
            .order_by(Tag.name))


def tag_counts(visible: Visibility = EVERYTHING) -> list[tuple[str, int]]:
    """Every tag in use on a live page (that *visible* shows), A–Z, with how many have it."""
    return [(name, count) for name, count in db.session.execute(tag_counts_query(visible))]


def tag_id(name: str) -> int | None:
    """The id of the tag called *name*, or None if no page has ever had it."""
    return db.session.scalar(select(Tag.id).where(Tag.name == name))


def tagged_pages_query(tag: int | None, visible: Visibility = EVERYTHING):
    """Live pages tagged with the tag whose id is *tag* (None: no such tag, no pages), A–Z:
    from the tag to its pages along the tag's stretch of ix_page_tag_tag_id_page_slug, in
    order, so a window of the list reads that window's rows however many pages carry the
    tag (and an EXISTS per page, walking every page, is not needed for a rare one).

    The id is a value, not a subquery, so that PostgreSQL plans with the tag's own number
    of pages: a tag on half the wiki's pages is then read in order along the index, not
    gathered whole and sorted (94 ms for its first page at 100,000 pages)."""
    return (
        select(Page)
        .join(page_tags, page_tags.c.page_id == Page.id)
        .where(page_tags.c.tag_id == tag if tag is not None else false(),
               Page.deleted.is_(False), visible.slug_condition(page_tags.c.page_slug))
        .order_by(*BY_TAGGED_ADDRESS.order())
    )


def tagged_pages(tag: str, position: Position, per_page: int,
                 visible: Visibility = EVERYTHING) -> Slice:
    """The page at *position* of the live pages (that *visible* shows) tagged *tag*, A–Z.

    :raises paging.BadCursor: *position* is no address.
    """
    return keyset(tagged_pages_query(tag_id(tag), visible), BY_TAGGED_ADDRESS, position,
                  per_page)
