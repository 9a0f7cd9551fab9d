"""Full-text search: the index of page titles, tags and text, and the queries people type.

The interface, the same whatever the database:

    index_page(session, page, text, tags)   # in the transaction that saves the page
    remove_page(session, page_id)           # in the transaction that deletes it
    search(query, page=1, per_page=20)      # → SearchResults, ranked, with safe snippets
    titles(prefix, limit=10)                # quick-jump: titles starting with, then containing
    reindex()                               # rebuild index and links, one page at a time

The query language is parsed here, once, into a :class:`Query`; each backend compiles that
into its engine's own syntax, so user text never reaches a MATCH (or a tsquery) raw. The
backend is chosen by the database dialect: SQLite FTS5 now; a PostgreSQL class implementing
:class:`SearchBackend` can be added to ``BACKENDS``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import Page, Tag, page_tags
from wiki.services import links
from wiki.services.slugs import slugify

MAX_QUERY_LENGTH = 1_000  # characters of a query that are read; the rest is ignored
MAX_TERMS = 32  # terms of a query that are used: bounds the work one search can ask for
MAX_RESULT_PAGE = 1_000  # deeper pages are not worth an OFFSET of that size
MAX_PER_PAGE = 100
REINDEX_BATCH = 100  # pages per write transaction, so saves are never held up for long

# --- the query language -------------------------------------------------------------------

Field = Literal["all", "title", "tag"]


@dataclass(frozen=True)
class Term:
    """One thing to look for: a word or phrase, in any field or only the title or tags."""

    text: str
    field: Field = "all"
    prefix: bool = False  # ``rout*``: the last word may continue
    excluded: bool = False  # ``-word``: pages containing it are left out


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()

    @property
    def included(self) -> list[Term]:
        return [term for term in self.terms if not term.excluded]

    @property
    def excluded(self) -> list[Term]:
        return [term for term in self.terms if term.excluded]

    @property
    def searchable(self) -> bool:
        """Whether the query asks for anything: excluding alone finds nothing."""
        return bool(self.included)


# One term: optional "-", optional "title:"/"tag:", then a quoted phrase (its closing quote
# optional, so an unbalanced quote runs to the end) or a bare word, then an optional "*".
_TERM = re.compile(
    r"""
    (?P<minus>-)?
    (?:(?P<field>title|tag):)?
    (?: "(?P<quoted>[^"]*)"? | (?P<bare>[^\s"]+) )
    (?P<star>\*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IGNORED_OPERATORS = {"AND", "OR", "NEAR"}  # all words must match anyway; there is no OR


def parse_query(raw: str) -> Query:
    """Read what a person typed: ``flask "app factory" rout* -django tag:web title:blueprint``.

    Never fails: what cannot be read as a term is ignored, as are terms with no letter or
    digit (the index has no words for them). A bare ``NOT`` excludes the next term.
    """
    terms: list[Term] = []
    negate_next = False
    for match in _TERM.finditer(clean_text(raw)[:MAX_QUERY_LENGTH]):
        bare = match["bare"] or ""
        if not match["minus"] and not match["field"] and bare in (*_IGNORED_OPERATORS, "NOT"):
            negate_next = bare == "NOT"
            continue
        term = _term(match, excluded=bool(match["minus"]) or negate_next)
        negate_next = False
        if term is not None:
            terms.append(term)
    return Query(tuple(terms[:MAX_TERMS]))


def _term(match: re.Match[str], excluded: bool) -> Term | None:
    text = match["quoted"] if match["quoted"] is not None else match["bare"]
    prefix = bool(match["star"]) or text.endswith("*")
    text = " ".join(text.rstrip("*").split())
    field: Field = (match["field"] or "all").lower()  # type: ignore[assignment]
    if field == "tag":
        text = text.lower().replace(" ", "-")  # as tags are stored: see pages.normalise_tags
    if not any(char.isalnum() for char in text):
        return None
    return Term(text, field, prefix, excluded)


def clean_text(text: str) -> str:
    """*text* without control characters (NUL, and the snippet markers) or lone surrogates."""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return _CONTROL.sub(" ", text)


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TitleMatch:
    slug: str
    title: str


@dataclass(frozen=True)
class SearchHit:
    slug: str
    title: str
    title_html: Markup  # the title, escaped, matched words in <mark>
    tags: tuple[str, ...]
    snippet: Markup  # a piece of the text around the matches, escaped, matches in <mark>


@dataclass(frozen=True)
class SearchResults:
    """One page of hits; has what ``_macros/pagination.html`` needs of a pagination."""

    query: str
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    exact_title: TitleMatch | None = None  # the page the query names: offer "Go to page"
    parsed: Query = field(default_factory=Query)

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


# Snippets come back from the index with matches between these two characters, which no
# indexed text contains (clean_text removes them); escaping the text and then turning them
# into <mark> tags is what makes a snippet safe HTML.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"


_MARK_START, _MARK_END = Markup("<mark>"), Markup("</mark>")


def marked_html(raw: str) -> Markup:
    """*raw* escaped, with its marked matches wrapped in ``<mark>``."""
    return escape(raw).replace(MARK_OPEN, _MARK_START).replace(MARK_CLOSE, _MARK_END)


# --- backends -----------------------------------------------------------------------------


class SearchBackend(ABC):
    """What a database needs to offer full-text search. Every method runs in the caller's
    transaction: indexing commits or rolls back with the save that asked for it."""

    @abstractmethod
    def index_page(self, session: Session, page_id: int, title: str, text: str,
                   tags: list[str]) -> None:
        """Add the page to the index, or replace what the index has of it."""

    @abstractmethod
    def remove_page(self, session: Session, page_id: int) -> None: ...

    @abstractmethod
    def prune(self, session: Session) -> None:
        """Remove every page that is no longer live (deleted, or gone) from the index."""

    @abstractmethod
    def find(self, session: Session, query: Query, offset: int,
             limit: int) -> tuple[list[SearchHit], int]:
        """The hits from *offset* to *offset + limit*, best first, and how many there are."""


def tag_filter(term: Term):
    """Exactly the pages tagged *term* (or, for an excluded term, not tagged it)."""
    if term.prefix:
        name_matches = Tag.name.startswith(term.text, autoescape=True)
    else:
        name_matches = Tag.name == term.text
    tagged = (
        select(page_tags.c.page_id)
        .join(Tag, Tag.id == page_tags.c.tag_id)
        .where(page_tags.c.page_id == Page.id, name_matches)
        .exists()
    )
    return ~tagged if term.excluded else tagged


INDEX_TABLE = "page_search"


def known_to_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's autogenerate filter: leave out the index and FTS5's shadow tables.

    Migration 0002 makes them, not the models, so autogenerate would otherwise offer to drop
    them in every new migration.
    """
    return not (type_ == "table" and name and name.startswith(INDEX_TABLE))


_page_search = sa.table(
    INDEX_TABLE, sa.column("rowid", sa.Integer), sa.column("tags", sa.String)
)
# The FTS5 table's own name is the handle MATCH and the auxiliary functions take.
_FTS = sa.literal_column(INDEX_TABLE)
_FTS_COLUMNS: dict[Field, str] = {"all": "", "title": "title : ", "tag": "tags : "}
_TITLE_COLUMN, _BODY_COLUMN = 0, 2
SNIPPET_TOKENS = 32
# bm25 weight of a match in each column, in table order (title, tags, body).
COLUMN_WEIGHTS = (10.0, 5.0, 1.0)


class SQLiteSearch(SearchBackend):
    """The ``page_search`` FTS5 table (migration 0002): rowid = page id, its own copy of
    the text, porter stemming over unicode61 with diacritics removed."""

    def index_page(self, session, page_id, title, text, tags) -> None:
        self.remove_page(session, page_id)
        session.execute(
            sa.text("INSERT INTO page_search (rowid, title, tags, body) "
                    "VALUES (:id, :title, :tags, :body)"),
            {"id": page_id, "title": clean_text(title), "tags": clean_text(" ".join(tags)),
             "body": clean_text(text)},
        )

    def remove_page(self, session, page_id) -> None:
        session.execute(sa.text("DELETE FROM page_search WHERE rowid = :id"), {"id": page_id})

    def prune(self, session) -> None:
        session.execute(sa.text(
            "DELETE FROM page_search WHERE rowid NOT IN (SELECT id FROM page WHERE NOT deleted)"
        ))

    def find(self, session, query, offset, limit):
        conditions = self._conditions(query)
        if conditions is None:
            return [], 0
        total = session.scalar(
            select(func.count()).select_from(_page_search)
            .join(Page, Page.id == _page_search.c.rowid).where(*conditions)
        )
        rows = session.execute(
            select(
                Page.slug, Page.title, _page_search.c.tags,
                func.highlight(_FTS, _TITLE_COLUMN, MARK_OPEN, MARK_CLOSE).label("title_html"),
                func.snippet(_FTS, _BODY_COLUMN, MARK_OPEN, MARK_CLOSE, "…",
                             SNIPPET_TOKENS).label("snippet"),
            )
            .select_from(_page_search).join(Page, Page.id == _page_search.c.rowid)
            .where(*conditions)
            .order_by(func.bm25(_FTS, *COLUMN_WEIGHTS), Page.title)
            .offset(offset).limit(limit)
        )
        hits = [
            SearchHit(row.slug, row.title, marked_html(row.title_html),
                      tuple(row.tags.split()), marked_html(row.snippet))
            for row in rows
        ]
        return hits, total or 0

    def _conditions(self, query: Query) -> list | None:
        """The WHERE clause of *query*, or None when it can match nothing."""
        expression = self.match_expression(query)
        if expression is None:
            return None
        tags = [tag_filter(term) for term in query.terms if term.field == "tag"]
        return [_FTS.match(expression), Page.deleted.is_(False), *tags]

    @staticmethod
    def match_expression(query: Query) -> str | None:
        """*query* in FTS5 syntax, every term a quoted FTS5 string so nothing is an operator.

        ``flask "app factory" rout* -django title:blueprint`` becomes
        ``("flask" AND "app factory" AND "rout"* AND title : "blueprint") NOT ("django")``.
        Excluded tags are left to :func:`tag_filter`, which matches tag names exactly.
        """
        wanted = [_fts_term(term) for term in query.included]
        if not wanted:
            return None
        expression = " AND ".join(wanted)
        unwanted = [_fts_term(term) for term in query.excluded if term.field != "tag"]
        if unwanted:
            expression = f"({expression}) NOT ({' OR '.join(unwanted)})"
        return expression


def _fts_term(term: Term) -> str:
    quoted = '"' + term.text.replace('"', '""') + '"'
    return _FTS_COLUMNS[term.field] + quoted + ("*" if term.prefix else "")


class UnindexedSearch(SearchBackend):
    """For a database without a backend yet: pages save as usual and search finds nothing
    (quick-jump by title still works). The PostgreSQL issue replaces this with its own."""

    def index_page(self, session, page_id, title, text, tags) -> None:
        pass

    def remove_page(self, session, page_id) -> None:
        pass

    def prune(self, session) -> None:
        pass

    def find(self, session, query, offset, limit):
        return [], 0


BACKENDS: dict[str, SearchBackend] = {"sqlite": SQLiteSearch()}


def backend() -> SearchBackend:
    return BACKENDS.get(db.engine.dialect.name) or UnindexedSearch()


# --- the interface ------------------------------------------------------------------------


def index_page(session: Session, page: Page, text: str, tags: list[str]) -> None:
    """Index *page* as it is now: its title, *tags*, and *text* (its Markdown as words)."""
    backend().index_page(session, page.id, page.title, text, tags)


def remove_page(session: Session, page_id: int) -> None:
    backend().remove_page(session, page_id)


def search(query: str, page: int = 1, per_page: int = 20) -> SearchResults:
    """The *page*-th page of live pages matching *query*, best first.

    Any text is a valid query: what cannot be searched for finds nothing, never an error.
    """
    parsed = parse_query(query)
    page = min(max(page, 1), MAX_RESULT_PAGE)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    hits: list[SearchHit] = []
    total = 0
    if parsed.searchable:
        hits, total = backend().find(db.session, parsed, (page - 1) * per_page, per_page)
    return SearchResults(query, hits, total, page, per_page, exact_title(query), parsed)


def exact_title(query: str) -> TitleMatch | None:
    """The live page *query* names: by its title (any case), else by its address."""
    wanted = clean_text(query).strip()[:MAX_QUERY_LENGTH]
    if not wanted:
        return None
    same_title = func.lower(Page.title) == wanted.lower()
    slug = slugify(wanted)
    named = or_(same_title, Page.slug == slug) if slug else same_title
    row = db.session.execute(
        select(Page.slug, Page.title)
        .where(Page.deleted.is_(False), named)
        .order_by(case((same_title, 0), else_=1))
        .limit(1)
    ).first()
    return TitleMatch(row.slug, row.title) if row else None


def titles(prefix: str, limit: int = 10) -> list[TitleMatch]:
    """Live pages whose title (or address) starts with *prefix*, then those containing it.

    Case-insensitive; the address match also folds accents and punctuation (``cafe`` finds
    "Café"). Within each group, A–Z.
    """
    needle = " ".join(clean_text(prefix).split())[:MAX_QUERY_LENGTH].lower()
    if not needle or limit < 1:
        return []
    title = func.lower(Page.title)
    starts = title.startswith(needle, autoescape=True)
    contains = title.contains(needle, autoescape=True)
    if slug := slugify(needle):
        starts = or_(starts, Page.slug.startswith(slug, autoescape=True))
        contains = or_(contains, Page.slug.contains(slug, autoescape=True))
    rows = db.session.execute(
        select(Page.slug, Page.title)
        .where(Page.deleted.is_(False), contains)
        .order_by(case((starts, 0), else_=1), title, Page.slug)
        .limit(limit)
    )
    return [TitleMatch(row.slug, row.title) for row in rows]


# --- rebuilding ---------------------------------------------------------------------------


@dataclass
class Reindexing:
    """A rebuild of the index and the links: iterate to run it (yields each page's slug as
    it is done); ``len()`` is the number of pages, for a progress bar.

    Pages are re-indexed in place, a batch per transaction, so search keeps working and
    saves are never held up for long while it runs.
    """

    page_ids: list[int]

    def __len__(self) -> int:
        return len(self.page_ids)

    def __iter__(self) -> Iterator[str]:
        with write_transaction() as session:
            backend().prune(session)
        for start in range(0, len(self.page_ids), REINDEX_BATCH):
            yield from _reindex_batch(self.page_ids[start:start + REINDEX_BATCH])


def reindex() -> Reindexing:
    """Rebuild the search index, and each page's links and rendered HTML, for every live page."""
    ids = db.session.scalars(select(Page.id).where(Page.deleted.is_(False)).order_by(Page.id))
    return Reindexing(list(ids))


def _reindex_batch(page_ids: list[int]) -> list[str]:
    with write_transaction() as session:
        batch = session.scalars(
            select(Page)
            .where(Page.id.in_(page_ids), Page.deleted.is_(False))
            .options(joinedload(Page.current_revision), selectinload(Page.tags))
        ).all()
        for page in batch:
            _reindex_page(session, page)
        return [page.slug for page in batch]


def _reindex_page(session: Session, page: Page) -> None:
    revision = page.current_revision
    if revision is None:
        return
    rendered = links.render(session, revision.body, also_existing={page.slug})
    revision.html = rendered.html  # links to pages made or deleted since turn blue or red
    links.set_links(session, page, rendered.links)
    index_page(session, page, rendered.text, [tag.name for tag in page.tags])
