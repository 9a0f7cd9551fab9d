"""Full-text search: the index of page titles, tags and text, and the queries people type.

The interface, the same whatever the database:

    index_page(session, page, text, tags)   # in the transaction that saves the page
    index_pages(session, entries)           # many at once, in a bulk import's transaction
    remove_page(session, page_id)           # in the transaction that deletes it
    search(query, page=1, per_page=20)      # → SearchResults, ranked, with safe snippets
    titles(text, limit=10)                  # quick-jump: titles starting with, then containing

The query language is in :mod:`.query`; the backend is chosen by the database dialect
(``BACKENDS``): FTS5 on SQLite (:mod:`.sqlite`), a weighted ``tsvector`` on PostgreSQL
(:mod:`.postgresql`). Rebuilding the index is the pages service's
(:mod:`wiki.services.pages.reindexing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from wiki.extensions import db
from wiki.models import Page
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.paging import PageNumbers
from wiki.services.search.backend import (
    Bounds,
    IndexEntry,
    SearchBackend,
    SearchHit,
    TitleMatch,
    UnindexedSearch,
    title_key,
)
from wiki.services.search.postgresql import PostgresSearch
from wiki.services.search.query import MAX_QUERY_LENGTH, Query, clean_text, parse_query
from wiki.services.search.sqlite import SQLiteSearch
from wiki.services.slugs import HOME, slugify

MAX_RESULT_PAGE = 1_000  # deeper pages are not worth an OFFSET of that size
MAX_PER_PAGE = 100
QUICK_JUMP_CANDIDATES = 200  # titles read of each kind of match (newest first), to rank
TRIGRAM = 3  # characters the title index needs to find a piece of a title


@dataclass(frozen=True)
class SearchResults(PageNumbers):
    """One page of hits; has what ``_macros/pagination.html`` needs of a pagination."""

    query: str
    hits: list[SearchHit]
    total: int  # counted up to the setting SEARCH_COUNTED
    page: int
    per_page: int
    exact_title: TitleMatch | None = None  # the page the query names: offer "Go to page"
    parsed: Query = field(default_factory=Query)
    more: bool = False  # more than *total* pages match; hits come from the best candidates

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


BACKENDS: dict[str, SearchBackend] = {"sqlite": SQLiteSearch(), "postgresql": PostgresSearch()}


def backend() -> SearchBackend:
    return BACKENDS.get(db.engine.dialect.name) or UnindexedSearch()


# --- the interface ------------------------------------------------------------------------


def index_page(session: Session, page: Page, text: str, tags: list[str]) -> None:
    """Index *page* as it is now: its title, *tags*, and *text* (its Markdown as words)."""
    backend().index_page(session, page.id, page.title, text, tags)


def index_pages(session: Session, entries: list[IndexEntry]) -> None:
    """Index the pages of *entries* (each as :func:`index_page` would), in a few statements."""
    backend().index_pages(session, entries)


def remove_page(session: Session, page_id: int) -> None:
    backend().remove_page(session, page_id)


def search(query: str, page: int = 1, per_page: int = 20,
           visible: Visibility = EVERYTHING) -> SearchResults:
    """The *page*-th page of live pages (that *visible* shows) matching *query*, best first.

    Any text is a valid query: what cannot be searched for finds nothing, never an error.
    Hidden pages are left out by the query itself, so counts and pages of hits are right.
    Past ``SEARCH_COUNTED`` matches the count stops ("more than 1,000") and so do the pages
    of hits: those are the best of a bounded set of candidates (:class:`Bounds`).
    """
    parsed = parse_query(query)
    bounds = Bounds(current_app.config["SEARCH_COUNTED"], current_app.config["SEARCH_CANDIDATES"])
    page = min(max(page, 1), MAX_RESULT_PAGE)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    hits: list[SearchHit] = []
    total = 0
    if parsed.searchable:
        hits, total = backend().find(db.session, parsed, (page - 1) * per_page, per_page,
                                     visible, bounds)
    return SearchResults(query, hits, min(total, bounds.counted), page, per_page,
                         exact_title(query, visible), parsed, more=total > bounds.counted)


def exact_title(query: str, visible: Visibility = EVERYTHING) -> TitleMatch | None:
    """The live page *query* names: by its title (any case), else by its address."""
    wanted = clean_text(query).strip()[:MAX_QUERY_LENGTH]
    candidates = exact_title_query(wanted, visible)
    if candidates is None:
        return None
    rows = db.session.execute(candidates).all()
    named = [row for row in rows if row.title.casefold() == wanted.casefold()]
    named += [row for row in rows if row.slug == slugify(wanted)]
    return TitleMatch(named[0].slug, named[0].title) if named else None


def exact_title_query(wanted: str, visible: Visibility = EVERYTHING):
    """The pages that may be called *wanted*, found by address alone.

    Every page lives at the slug of its title, the home page excepted, so a page titled
    *wanted* (in any case) is at ``slugify(wanted)`` or at ``home``: two index lookups.
    """
    if not wanted:
        return None
    return (
        select(Page.slug, Page.title)
        .where(Page.slug.in_({slugify(wanted), HOME} - {""}), Page.deleted.is_(False),
               visible.slug_condition())
    )



def titles(text: str, limit: int = 10, visible: Visibility = EVERYTHING) -> list[TitleMatch]:
    """Live pages whose title matches *text* as typed into quick-jump, best first: titles
    (or addresses) starting with it, then titles with a word starting with it, then titles
    containing it anywhere; A–Z within each.

    Case, accents and punctuation fold: ``cafe`` finds "Café", ``lask`` finds "Flask".
    Where more than ``QUICK_JUMP_CANDIDATES`` titles hold the text one way, the newest pages'
    are ranked: typing on narrows the list, and a page just made is always offered.
    Pages *visible* hides are left out in the query.
    """
    statement = titles_query(text, limit, visible)
    if statement is None:
        return []
    key, slug = _typed(text)

    def closeness(row) -> int:
        row_key = title_key(row.title)
        if row_key.startswith(key) or (slug and row.slug.startswith(slug)):
            return 0
        return 1 if key in row_key else 2

    rows = sorted(db.session.execute(statement),
                  key=lambda row: (closeness(row), row.title.casefold(), row.slug))
    return [TitleMatch(row.slug, row.title) for row in rows[:limit]]


def titles_query(text: str, limit: int = 10, visible: Visibility = EVERYTHING):
    """The candidates :func:`titles` ranks, or None when *text* can match nothing.

    Each kind of match comes from an index, and only so many of each are read, so the work
    is the same whatever the size of the wiki: addresses starting with *text* (a range of
    the slug index, in order, ``slug >= "rout" AND slug < "rouu"``), and title keys holding
    it at a word's start or anywhere (the trigram index, for three characters or more,
    newest pages first).
    """
    key, slug = _typed(text)
    if limit < 1:
        return None
    candidates = []
    if slug:
        candidates.append(
            select(Page.id)
            .where(Page.deleted.is_(False), Page.slug >= slug, Page.slug < _next_string(slug))
            .order_by(Page.slug)
            .limit(limit)
        )
    for wanted in (key, key[1:]):  # at a word's start; anywhere
        if len(wanted) >= TRIGRAM and (ids := backend().titles_containing(wanted)) is not None:
            candidates.append(ids.limit(QUICK_JUMP_CANDIDATES))
    if not candidates:
        return None
    # One IN of all the candidates, not an OR of one IN each: PostgreSQL answers an OR of
    # subqueries by reading every page (50 ms and more at 100,000 pages), the IN by
    # looking up each candidate. Each kind is a subquery, since it has its own LIMIT.
    every_candidate = union_all(*(select(*ids.subquery().c) for ids in candidates))
    return select(Page.slug, Page.title).where(
        Page.deleted.is_(False), Page.id.in_(every_candidate), visible.slug_condition(),
    )


def _typed(text: str) -> tuple[str, str]:
    """What quick-jump looks for: *text* as a :func:`title_key`, and as an address."""
    text = text[:MAX_QUERY_LENGTH]
    return title_key(text)[:MAX_QUERY_LENGTH], slugify(clean_text(text))  # folding may grow it


def _next_string(text: str) -> str:
    """The least string after every string starting with *text* (code point order)."""
    return text[:-1] + chr(ord(text[-1]) + 1)

