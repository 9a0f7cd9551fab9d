"""Full-text search: the index of page titles, tags and text, and the queries people type.

The interface, the same whatever the database:

    index_page(session, page, text, tags)   # in the transaction that saves the page
    remove_page(session, page_id)           # in the transaction that deletes it
    search(query, page=1, per_page=20)      # → SearchResults, ranked, with safe snippets
    titles(text, limit=10)                  # quick-jump: titles starting with, then containing
    reindex()                               # rebuild index and links, one page at a time

The query language is parsed here, once, into a :class:`Query`; each backend compiles that
into its engine's own syntax, so user text never reaches a MATCH (or a tsquery) raw. The
backend is chosen by the database dialect (``BACKENDS``): FTS5 tables on SQLite, a weighted
``tsvector`` on PostgreSQL (see :class:`PostgresSearch` for how the two differ).
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
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, joinedload, selectinload

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import Page, Tag, page_tags
from wiki.services import links
from wiki.services.paging import PageNumbers
from wiki.services.slugs import fold, slugify

MAX_QUERY_LENGTH = 1_000  # characters of a query that are read; the rest is ignored
MAX_TERMS = 32  # terms of a query that are used: bounds the work one search can ask for
MAX_RESULT_PAGE = 1_000  # deeper pages are not worth an OFFSET of that size
MAX_PER_PAGE = 100
HOME_SLUG = "home"  # pages.HOME; that module imports this one
REINDEX_BATCH = 100  # pages per write transaction, so saves are never held up for long
QUICK_JUMP_CANDIDATES = 200  # titles read of each kind of match (newest first), to rank
TRIGRAM = 3  # characters the title index needs to find a piece of a title

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
class SearchResults(PageNumbers):
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
    def has_next(self) -> bool:
        return self.page < self.pages


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

    def titles_containing(self, key: str):
        """The ids of the live pages whose :func:`title_key` contains *key* (of three
        characters or more), newest page first, as a ``select`` answered from an index;
        None without one."""
        return None


def tag_filter(term: Term, page_id=Page.id):
    """Exactly the pages tagged *term* (or, for an excluded term, not tagged it); *page_id*
    is the column holding the page's id in the query it goes into."""
    if term.prefix:
        name_matches = Tag.name.startswith(term.text, autoescape=True)
    else:
        name_matches = Tag.name == term.text
    tagged = (
        select(page_tags.c.page_id)
        .join(Tag, Tag.id == page_tags.c.tag_id)
        .where(page_tags.c.page_id == page_id, name_matches)
        .exists()
    )
    return ~tagged if term.excluded else tagged


INDEX_TABLE = "page_search"
TITLES_TABLE = "page_search_titles"  # its name starts like INDEX_TABLE's: see known_to_models


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
_titles = sa.table(TITLES_TABLE, sa.column("rowid", sa.Integer))
_TITLES = sa.literal_column(TITLES_TABLE)
_WORD = re.compile(r"\w+")
_FTS_COLUMNS: dict[Field, str] = {"all": "", "title": "title : ", "tag": "tags : "}
_TITLE_COLUMN, _BODY_COLUMN = 0, 2
SNIPPET_TOKENS = 32
# bm25 weight of a match in each column, in table order (title, tags, body).
COLUMN_WEIGHTS = (10.0, 5.0, 1.0)


class SQLiteSearch(SearchBackend):
    """The ``page_search`` FTS5 table (migration 0002): rowid = page id, its own copy of
    the text, porter stemming over unicode61 with diacritics removed. It holds live pages
    only (deleting a page removes it), so counting and ranking need no other table.

    Beside it, ``page_search_titles`` (migration 0006) holds each title's :func:`title_key`
    with the trigram tokenizer, for quick-jump: any three characters or more of it are an
    index lookup, unstemmed (typing ``routin`` must find "Routing", whose stem is ``rout``).
    """

    def index_page(self, session, page_id, title, text, tags) -> None:
        self.remove_page(session, page_id)
        title = clean_text(title)
        session.execute(
            sa.text("INSERT INTO page_search (rowid, title, tags, body) "
                    "VALUES (:id, :title, :tags, :body)"),
            {"id": page_id, "title": title, "tags": clean_text(" ".join(tags)),
             "body": clean_text(text)},
        )
        session.execute(
            sa.text("INSERT INTO page_search_titles (rowid, title_key) VALUES (:id, :key)"),
            {"id": page_id, "key": title_key(title)},
        )

    def remove_page(self, session, page_id) -> None:
        session.execute(sa.text("DELETE FROM page_search WHERE rowid = :id"), {"id": page_id})
        session.execute(sa.text("DELETE FROM page_search_titles WHERE rowid = :id"),
                        {"id": page_id})

    def prune(self, session) -> None:
        session.execute(sa.text(
            "DELETE FROM page_search WHERE rowid NOT IN (SELECT id FROM page WHERE NOT deleted)"
        ))
        session.execute(sa.text(
            "DELETE FROM page_search_titles "
            "WHERE rowid NOT IN (SELECT id FROM page WHERE NOT deleted)"
        ))

    def find(self, session, query, offset, limit):
        """In two steps, so what costs per hit is done for one page of hits only: rank
        every match by bm25 in the index alone; then load the pages, highlighted titles
        and snippets of those *limit* (snippets cost most: each re-reads a page's text)."""
        matching = self._matching(query)
        if matching is None:
            return [], 0
        total = session.scalar(select(func.count()).select_from(_page_search).where(*matching))
        ranked = session.scalars(
            select(_page_search.c.rowid).where(*matching)
            .order_by(func.bm25(_FTS, *COLUMN_WEIGHTS), _page_search.c.rowid)
            .offset(offset).limit(limit)
        ).all()
        if not ranked:
            return [], total or 0
        rows = session.execute(
            select(
                Page.id, Page.slug, Page.title, _page_search.c.tags,
                func.highlight(_FTS, _TITLE_COLUMN, MARK_OPEN, MARK_CLOSE).label("title_html"),
                func.snippet(_FTS, _BODY_COLUMN, MARK_OPEN, MARK_CLOSE, "…",
                             SNIPPET_TOKENS).label("snippet"),
            )
            .select_from(_page_search).join(Page, Page.id == _page_search.c.rowid)
            .where(matching[0], _page_search.c.rowid.in_(ranked), Page.deleted.is_(False))
        )
        by_id = {row.id: row for row in rows}
        hits = [
            SearchHit(row.slug, row.title, marked_html(row.title_html),
                      tuple(row.tags.split()), marked_html(row.snippet))
            for row in (by_id.get(page_id) for page_id in ranked) if row is not None
        ]
        return hits, total or 0

    def _matching(self, query: Query) -> list | None:
        """The WHERE clause of *query* on the index (MATCH first), or None when it can
        match nothing."""
        expression = self.match_expression(query)
        if expression is None:
            return None
        tags = [tag_filter(term, _page_search.c.rowid)
                for term in query.terms if term.field == "tag"]
        return [_FTS.match(expression), *tags]

    def titles_containing(self, key):
        # A trigram MATCH of a quoted string finds it anywhere; a key holds no quote.
        matches = _TITLES.match(f'"{key}"')
        return select(_titles.c.rowid).where(matches).order_by(_titles.c.rowid.desc())

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


_pg_index = sa.table(
    INDEX_TABLE,
    sa.column("page_id", sa.Integer), sa.column("title", sa.Text), sa.column("tags", sa.Text),
    sa.column("body", sa.Text), sa.column("document", postgresql.TSVECTOR),
    sa.column("title_key", sa.Text),
)
# The text search configuration of migration 0005: english stemming, accents folded where
# the unaccent extension could be installed.
_PG_SEARCH = sa.literal_column("'wiki_search'::regconfig")
_PG_TITLE_WEIGHT = sa.literal_column("""'{a}'::"char"[]""")  # ts_filter: the title's words
# ts_rank's weights of a match in the text (D, unused), text (C), tags (B) and title (A).
_PG_RANK_WEIGHTS = sa.literal_column("'{0, 0.1, 0.5, 1.0}'::real[]")
_PG_INDEXED_CHARACTERS = 250_000  # of a page's text; a tsvector may not exceed 1 MB
# "<" is stored as this character (which clean_text removes from any text), or PostgreSQL's
# parser would take "<b>" or "<script>" for a tag and leave it out of words and snippets.
_PG_LESS_THAN = "\x01"
_PG_SNIPPET = (f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxFragments=1, "
               f"MaxWords={SNIPPET_TOKENS}, MinWords=16, ShortWord=0")
_PG_HIGHLIGHT_ALL = f"HighlightAll=true, StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}"
_PG_SHOWN_WHOLE = 200  # characters of a text short enough to be its own snippet
_LETTERS = re.compile(r"[^\W_]+")


class PostgresSearch(SearchBackend):
    """The ``page_search`` table (migration 0005): a row per live page keyed by page id, its
    own copy of the title, tags and text, and a generated ``tsvector`` of them weighted
    title A, tags B, text C (GIN index), english stemming, accents folded by ``unaccent``
    where the database has it. Ranked by ``ts_rank``, snippets by ``ts_headline``.

    Each term of the parsed query becomes a ``tsquery`` built by PostgreSQL's own functions
    from the term's text as a bound value (``phraseto_tsquery``; a prefix's last word, which
    holds letters and digits only, through ``to_tsquery`` as ``'word':*``); they are combined
    with ``&&``, ``title:`` keeps to the title's words with ``ts_filter``, and tags are
    matched exactly in SQL, as on SQLite. Where the engines differ (docs/deployment.md):

    - english stop words ("the", "and", "is") are not indexed: a query of stop words alone
      finds nothing, and a phrase skips over them;
    - ``unaccent`` folds ligatures too (``vitæ`` finds "vitae"); without the extension,
      accents are not folded at all;
    - a prefix is stemmed like a word (``routing*`` looks for ``rout*``);
    - only the first 250,000 characters of a page's text are indexed;
    - snippets carry no "…" where they cut the text.

    Quick-jump reads a ``title_key`` column (:func:`title_key`, folded in Python, so the same
    on both engines) through a ``pg_trgm`` GIN index where the extension could be installed.
    """

    def index_page(self, session, page_id, title, text, tags) -> None:
        row = {"title": _pg_stored(title), "tags": _pg_stored(" ".join(tags)),
               "body": _pg_stored(text), "title_key": title_key(title)}
        insert = postgresql.insert(_pg_index).values(page_id=page_id, **row)
        session.execute(insert.on_conflict_do_update(
            index_elements=["page_id"], set_={name: insert.excluded[name] for name in row}))

    def remove_page(self, session, page_id) -> None:
        session.execute(sa.delete(_pg_index).where(_pg_index.c.page_id == page_id))

    def prune(self, session) -> None:
        live = select(Page.id).where(Page.deleted.is_(False))
        session.execute(sa.delete(_pg_index).where(_pg_index.c.page_id.not_in(live)))

    def find(self, session, query, offset, limit):
        """Count and rank in the index alone; highlight one page of hits only."""
        wanted = _pg_wanted(query)
        matching = _pg_matching(query, wanted)
        total = session.scalar(select(func.count()).select_from(_pg_index).where(*matching))
        rank = (sa.literal(0.0) if wanted is None
                else func.ts_rank(_PG_RANK_WEIGHTS, _pg_index.c.document, wanted))
        ranked = (
            select(_pg_index.c.page_id, rank.label("rank")).where(*matching)
            .order_by(rank.desc(), _pg_index.c.page_id).offset(offset).limit(limit)
            .subquery()
        )
        rows = session.execute(
            select(Page.slug, Page.title, _pg_index.c.tags, *_pg_highlights(wanted))
            .select_from(ranked)
            .join(_pg_index, _pg_index.c.page_id == ranked.c.page_id)
            .join(Page, Page.id == ranked.c.page_id)
            .order_by(ranked.c.rank.desc(), ranked.c.page_id)
        )
        hits = [
            SearchHit(row.slug, row.title, _pg_marked(row.title_html),
                      tuple(row.tags.replace(_PG_LESS_THAN, "<").split()),
                      _pg_marked(row.snippet if wanted is not None else _lead(row.snippet)))
            for row in rows
        ]
        return hits, total or 0

    def titles_containing(self, key):
        # LIKE '%key%', which pg_trgm's GIN index answers (migration 0006); without the
        # extension it reads the table, and the answer is the same.
        contains = _pg_index.c.title_key.contains(key, autoescape=True)
        return select(_pg_index.c.page_id).where(contains).order_by(_pg_index.c.page_id.desc())


def _pg_stored(text: str) -> str:
    return clean_text(text).replace("<", _PG_LESS_THAN)


def _pg_marked(raw: str) -> Markup:
    return marked_html(raw.replace(_PG_LESS_THAN, "<"))


def _lead(text: str) -> str:
    """The first words of *text*, for a hit found by its tags alone."""
    words = text.split()
    return " ".join(words[:SNIPPET_TOKENS]) + (" …" if len(words) > SNIPPET_TOKENS else "")


def _pg_term(term: Term):
    """*term* as a tsquery: its words in order, the last one a prefix for ``word*``."""
    words = list(_LETTERS.finditer(term.text)) if term.prefix else []
    if not words:
        return func.phraseto_tsquery(_PG_SEARCH, term.text, type_=postgresql.TSQUERY)
    last = words[-1]
    prefix = func.to_tsquery(_PG_SEARCH, f"'{last.group()}':*", type_=postgresql.TSQUERY)
    head = term.text[:last.start()]
    if not _LETTERS.search(head):
        return prefix
    return func.tsquery_phrase(func.phraseto_tsquery(_PG_SEARCH, head), prefix,
                               type_=postgresql.TSQUERY)


def _pg_wanted(query: Query):
    """The words every hit has (all included terms but tags), as one tsquery; or None."""
    wanted = None
    for term in query.included:
        if term.field != "tag":
            tsquery = _pg_term(term)
            wanted = tsquery if wanted is None else wanted.op("&&")(tsquery)
    return wanted


def _pg_matching(query: Query, wanted) -> list:
    """The WHERE clause of *query* on the index: the GIN index answers ``wanted`` first."""
    document = _pg_index.c.document
    conditions = [] if wanted is None else [document.bool_op("@@")(wanted)]
    for term in query.terms:
        if term.field == "tag":
            conditions.append(tag_filter(term, _pg_index.c.page_id))
            continue
        searched = func.ts_filter(document, _PG_TITLE_WEIGHT) if term.field == "title" else document
        if term.excluded:
            conditions.append(sa.not_(searched.bool_op("@@")(_pg_term(term))))
        elif term.field == "title":
            conditions.append(searched.bool_op("@@")(_pg_term(term)))
    return conditions


def _pg_highlights(wanted) -> list:
    """The title with its matches marked, and a snippet of the text around them (a short
    text whole: a fragment would lose the punctuation at its ends)."""
    body = func.left(_pg_index.c.body, _PG_INDEXED_CHARACTERS)
    if wanted is None:  # tags alone matched: the title as it is, the text's first words
        return [_pg_index.c.title.label("title_html"), func.left(body, 1000).label("snippet")]
    snippet = case(
        (func.length(body) <= _PG_SHOWN_WHOLE,
         func.ts_headline(_PG_SEARCH, body, wanted, _PG_HIGHLIGHT_ALL)),
        else_=func.ts_headline(_PG_SEARCH, body, wanted, _PG_SNIPPET),
    )
    return [
        func.ts_headline(_PG_SEARCH, _pg_index.c.title, wanted, _PG_HIGHLIGHT_ALL)
        .label("title_html"),
        snippet.label("snippet"),
    ]


class UnindexedSearch(SearchBackend):
    """For a database without a backend: pages save as usual and search finds nothing
    (quick-jump still finds pages by address)."""

    def index_page(self, session, page_id, title, text, tags) -> None:
        pass

    def remove_page(self, session, page_id) -> None:
        pass

    def prune(self, session) -> None:
        pass

    def find(self, session, query, offset, limit):
        return [], 0


BACKENDS: dict[str, SearchBackend] = {"sqlite": SQLiteSearch(), "postgresql": PostgresSearch()}


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
    candidates = exact_title_query(wanted)
    if candidates is None:
        return None
    rows = db.session.execute(candidates).all()
    named = [row for row in rows if row.title.casefold() == wanted.casefold()]
    named += [row for row in rows if row.slug == slugify(wanted)]
    return TitleMatch(named[0].slug, named[0].title) if named else None


def exact_title_query(wanted: str):
    """The pages that may be called *wanted*, found by address alone.

    Every page lives at the slug of its title, the home page excepted, so a page titled
    *wanted* (in any case) is at ``slugify(wanted)`` or at ``home``: two index lookups.
    """
    if not wanted:
        return None
    return (
        select(Page.slug, Page.title)
        .where(Page.slug.in_({slugify(wanted), HOME_SLUG} - {""}), Page.deleted.is_(False))
    )


def title_key(title: str) -> str:
    """How quick-jump compares titles: folded (:func:`fold`), punctuation dropped, and each
    word after a space, so that ``" rou"`` means "a word starting with rou".

    ``"Flask: Routing & Views"`` → ``" flask routing views"``.
    """
    return "".join(" " + word for word in _WORD.findall(fold(clean_text(title))))


def titles(text: str, limit: int = 10) -> list[TitleMatch]:
    """Live pages whose title matches *text* as typed into quick-jump, best first: titles
    (or addresses) starting with it, then titles with a word starting with it, then titles
    containing it anywhere; A–Z within each.

    Case, accents and punctuation fold: ``cafe`` finds "Café", ``lask`` finds "Flask".
    Where more than ``QUICK_JUMP_CANDIDATES`` titles hold the text one way, the newest pages'
    are ranked: typing on narrows the list, and a page just made is always offered.
    """
    statement = titles_query(text, limit)
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


def titles_query(text: str, limit: int = 10):
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
    return select(Page.slug, Page.title).where(
        Page.deleted.is_(False), or_(*(Page.id.in_(ids) for ids in candidates))
    )


def _typed(text: str) -> tuple[str, str]:
    """What quick-jump looks for: *text* as a :func:`title_key`, and as an address."""
    text = text[:MAX_QUERY_LENGTH]
    return title_key(text)[:MAX_QUERY_LENGTH], slugify(clean_text(text))  # folding may grow it


def _next_string(text: str) -> str:
    """The least string after every string starting with *text* (code point order)."""
    return text[:-1] + chr(ord(text[-1]) + 1)


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
    links.set_links(session, page, rendered.link_titles)
    index_page(session, page, rendered.text, [tag.name for tag in page.tags])
