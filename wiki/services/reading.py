"""What a reader is shown of a page: the revision asked for and where the page sits among
the others (who links to it, its parents and its sub-pages)."""

from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import bindparam, select

from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import cards, hierarchy, links, tags
from wiki.services.access import EVERYTHING, Visibility

CHILDREN_SHOWN = 100


@dataclass(frozen=True)
class PageView:
    page: Page
    revision: Revision
    backlinks: int  # how many live pages link here
    breadcrumbs: list[tuple[str, str]]  # (slug, title) of each parent, outermost first
    children: list[Page]  # the first CHILDREN_SHOWN sub-pages, A–Z
    html: str  # the revision's HTML, its links to pages the reader may not see red
    cards: int  # how many review cards its current text has
    tags: list[str]  # the page's tags, A–Z


def page_view(page: Page, revision: Revision | None = None,
              visible: Visibility = EVERYTHING) -> PageView:
    """*page* as shown with *revision* (its current one if None) to a reader who sees what
    *visible* shows: other pages hidden from them look missing."""
    revision = revision or page.current_revision
    backlinks, card_count, tag_names = db.session.execute(
        _counts_and_tags(visible), {"page_id": page.id, "page_slug": page.slug}).one()
    return PageView(
        page=page, revision=revision, backlinks=backlinks,
        breadcrumbs=hierarchy.breadcrumbs(page.slug, visible),
        children=hierarchy.children(page, CHILDREN_SHOWN, visible),
        html=links.as_seen(revision.html, visible), cards=card_count,
        tags=tags.split_tag_names(tag_names),
    )


# The page as the parameters of a statement built once (building one costs more than
# SQLite takes to answer it).
_ANY_PAGE = SimpleNamespace(id=bindparam("page_id"), slug=bindparam("page_slug"))


@lru_cache(maxsize=64)
def _counts_and_tags(visible: Visibility):
    """The statement of a page's backlink count, card count and tags in one round trip, for
    readers who see what *visible* shows; ``page_id`` and ``page_slug`` are its parameters."""
    return select(
        links.backlink_count_query(_ANY_PAGE, visible).scalar_subquery(),
        cards.count_on_page_query(_ANY_PAGE).scalar_subquery(),
        tags.tag_names_query(_ANY_PAGE).scalar_subquery(),
    )
