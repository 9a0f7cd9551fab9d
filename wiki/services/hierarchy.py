"""Sub-pages: a slug's ``/`` makes ``flask/routing`` a child of ``flask``."""

from functools import lru_cache

from sqlalchemy import bindparam, select

from wiki.extensions import db
from wiki.models import Page
from wiki.services.access import EVERYTHING, Visibility


def children_query(page: Page, visible: Visibility = EVERYTHING):
    """Live sub-pages one level below *page* (``flask/routing`` under ``flask``).

    Sub-pages are the slugs between ``"flask/"`` and ``"flask0"`` (``"0"`` follows ``"/"``):
    a range the slug index answers, where ``LIKE 'flask/%'`` would scan every page.
    """
    return children_statement(visible).params(**sub_page_range(page.slug))


@lru_cache(maxsize=64)
def children_statement(visible: Visibility, limit: int | None = None):
    """:func:`children_query` built once for readers who see what *visible* shows, the
    range a parameter (building a statement costs more than SQLite takes to answer it)."""
    return (
        select(Page)
        .where(Page.slug > bindparam("below"), Page.slug < bindparam("after"),
               Page.deleted.is_(False))
        .where(Page.slug.not_like(bindparam("deeper"), escape="\\"), visible.slug_condition())
        .order_by(Page.slug)
        .limit(limit)
    )


def sub_page_range(slug: str) -> dict[str, str]:
    """The parameters of :func:`children_statement` for the sub-pages of *slug*."""
    prefix = slug + "/"
    deeper = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%/%"
    return {"below": prefix, "after": slug + "0", "deeper": deeper}


def children(page: Page, limit: int, visible: Visibility = EVERYTHING) -> list[Page]:
    """The first *limit* sub-pages one level below *page* (that *visible* shows), A–Z."""
    return list(db.session.scalars(children_statement(visible, limit), sub_page_range(page.slug)))


def parents(slug: str) -> list[str]:
    """The slugs of the pages *slug* is under, outermost first (``a``, ``a/b`` for ``a/b/c``)."""
    parts = slug.split("/")[:-1]
    return ["/".join(parts[: depth + 1]) for depth in range(len(parts))]


@lru_cache(maxsize=64)
def parent_titles_statement(visible: Visibility, depth: int):
    """Slug and title of the live pages (that *visible* shows) among the *depth* slugs
    ``parent_0``, ``parent_1``…: one parameter each, as an expanding list would have the
    statement's text rewritten at every run."""
    return select(Page.slug, Page.title).where(
        Page.slug.in_([bindparam(name, type_=Page.slug.type) for name in parent_parameters(depth)]),
        Page.deleted.is_(False), visible.slug_condition())


def parent_parameters(depth: int) -> list[str]:
    return [f"parent_{number}" for number in range(depth)]


def parent_values(parent_slugs: list[str]) -> dict[str, str]:
    """The parameters of :func:`parent_titles_statement` for *parent_slugs*."""
    return {f"parent_{number}": slug for number, slug in enumerate(parent_slugs)}


def breadcrumbs(parent_slugs: list[str], titles: dict[str, str]) -> list[tuple[str, str]]:
    """``(slug, title)`` of each parent of a sub-page, outermost first, from the *titles* of
    those found (:func:`parent_titles_statement`): a missing parent (or one the reader may not
    see) keeps its last slug segment as title."""
    return [(parent, titles.get(parent, parent.rsplit("/", 1)[-1])) for parent in parent_slugs]
