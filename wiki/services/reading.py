"""What a reader is shown of a page: the revision asked for and where the page sits among
the others (who links to it, its parents and its sub-pages)."""

from dataclasses import dataclass

from sqlalchemy import select

from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import cards, hierarchy, links
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


def page_view(page: Page, revision: Revision | None = None,
              visible: Visibility = EVERYTHING) -> PageView:
    """*page* as shown with *revision* (its current one if None) to a reader who sees what
    *visible* shows: other pages hidden from them look missing."""
    revision = revision or page.current_revision
    backlinks, card_count = db.session.execute(select(  # two counts, one round trip
        links.backlink_count_query(page, visible).scalar_subquery(),
        cards.count_on_page_query(page).scalar_subquery(),
    )).one()
    return PageView(
        page=page, revision=revision, backlinks=backlinks,
        breadcrumbs=hierarchy.breadcrumbs(page.slug, visible),
        children=hierarchy.children(page, CHILDREN_SHOWN, visible),
        html=links.as_seen(revision.html, visible), cards=card_count,
    )
