"""What a reader is shown of a page: the revision asked for and where the page sits among
the others (who links to it, its parents and its sub-pages)."""

from dataclasses import dataclass

from wiki.models import Page, Revision
from wiki.services import cards, hierarchy, links

CHILDREN_SHOWN = 100


@dataclass(frozen=True)
class PageView:
    page: Page
    revision: Revision
    backlinks: int  # how many live pages link here
    breadcrumbs: list[tuple[str, str]]  # (slug, title) of each parent, outermost first
    children: list[Page]  # the first CHILDREN_SHOWN sub-pages, A–Z
    cards: int  # how many review cards its current text has


def page_view(page: Page, revision: Revision | None = None) -> PageView:
    """*page* as shown with *revision* (its current one if None)."""
    return PageView(
        page=page, revision=revision or page.current_revision,
        backlinks=links.backlink_count(page), breadcrumbs=hierarchy.breadcrumbs(page.slug),
        children=hierarchy.children(page, CHILDREN_SHOWN), cards=cards.count_on_page(page),
    )
