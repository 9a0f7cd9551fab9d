"""The PostgreSQL backend: a weighted ``tsvector`` (migration 0005), ranked by ``ts_rank``.
Where it differs from SQLite's, and why: docs/architecture.md, "Search"."""

from __future__ import annotations

import re
from functools import partial, reduce

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql

from wiki.models import Page
from wiki.services.access import EVERYTHING
from wiki.services.search.backend import (
    DEFAULT_BOUNDS,
    INDEX_TABLE,
    MARK_CLOSE,
    MARK_OPEN,
    SNIPPET_TOKENS,
    Bounds,
    SearchBackend,
    SearchHit,
    listed,
    marked_html,
    slice_of_tiers,
    tag_filter,
    title_key,
)
from wiki.services.search.query import Query, Term, clean_text

_pg_index = sa.table(
    INDEX_TABLE,
    sa.column("page_id", sa.Integer), sa.column("title", sa.Text), sa.column("tags", sa.Text),
    sa.column("body", sa.Text), sa.column("document", postgresql.TSVECTOR),
    sa.column("title_key", sa.Text), sa.column("heading", postgresql.TSVECTOR),
)
_PG_IDS = postgresql.ARRAY(sa.Integer)
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
_PG_NEWEST_SPAN = 4  # ids looked through per match wanted: a word on a quarter of the pages
_PG_SHOWN_WHOLE = 200  # characters of a text short enough to be its own snippet
_LETTERS = re.compile(r"[^\W_]+")


class PostgresSearch(SearchBackend):
    """The ``page_search`` table: a row per live page, its own copy of the title, tags and
    text, and a generated ``tsvector`` of them weighted title A, tags B, text C (and one of
    the title and tags alone, ``heading``, migration 0013). Each query term becomes a
    ``tsquery`` built by PostgreSQL's own functions from a bound value."""

    def index_page(self, session, page_id, title, text, tags) -> None:
        row = {"title": _pg_stored(title), "tags": _pg_stored(" ".join(tags)),
               "body": _pg_stored(text), "title_key": title_key(title)}
        insert = postgresql.insert(_pg_index).values(page_id=page_id, **row)
        session.execute(insert.on_conflict_do_update(
            index_elements=["page_id"], set_={name: insert.excluded[name] for name in row}))

    def index_pages(self, session, entries) -> None:
        if not entries:
            return
        rows = [{"page_id": entry.page_id, "title": _pg_stored(entry.title),
                 "tags": _pg_stored(" ".join(entry.tags)), "body": _pg_stored(entry.text),
                 "title_key": title_key(entry.title)} for entry in entries]
        insert = postgresql.insert(_pg_index)
        session.execute(insert.on_conflict_do_update(
            index_elements=["page_id"],
            set_={name: insert.excluded[name] for name in rows[0] if name != "page_id"}), rows)

    def remove_page(self, session, page_id) -> None:
        session.execute(sa.delete(_pg_index).where(_pg_index.c.page_id == page_id))

    def prune(self, session) -> None:
        live = select(Page.id).where(Page.deleted.is_(False))
        session.execute(sa.delete(_pg_index).where(_pg_index.c.page_id.not_in(live)))

    def find(self, session, query, offset, limit, visible=EVERYTHING, bounds=DEFAULT_BOUNDS):
        """Count and rank in the index alone; highlight one page of hits only.

        The newest matches, up to ``bounds.counted + 1`` (:func:`_pg_newest_matches`), both
        count them and give the candidates; ``ts_rank`` then reads the ``tsvector`` of
        those alone (reading one is what costs: it is stored compressed, apart from the row).
        """
        wanted = _pg_wanted(query)
        matching = _pg_matching(query, wanted)
        if not visible.hides_nothing:
            matching.append(visible.page_id_condition(_pg_index.c.page_id))
        newest = _pg_newest_matches(session, matching, bounds.counted + 1)
        rank = (sa.literal(0.0) if wanted is None
                else func.ts_rank(_PG_RANK_WEIGHTS, _pg_index.c.document, wanted))
        if len(newest) <= bounds.counted:
            ranked = _pg_ranked(session, rank, newest, offset, limit)
        else:
            ranked = _pg_ranked_candidates(session, query, matching, rank, newest, bounds,
                                           offset, limit)
        if not ranked:
            return [], len(newest)
        rows = session.execute(
            select(Page.id, Page.slug, Page.title, _pg_index.c.tags, *_pg_highlights(wanted))
            .select_from(_pg_index).join(Page, Page.id == _pg_index.c.page_id)
            .where(_pg_index.c.page_id == sa.any_(sa.literal(ranked, _PG_IDS)))
        )
        by_id = {row.id: row for row in rows}
        hits = [
            SearchHit(row.slug, row.title, _pg_marked(row.title_html),
                      tuple(row.tags.replace(_PG_LESS_THAN, "<").split()),
                      _pg_marked(row.snippet if wanted is not None else _lead(row.snippet)))
            for row in (by_id.get(page_id) for page_id in ranked) if row is not None
        ]
        return hits, len(newest)

    def titles_containing(self, key):
        # LIKE '%key%', which pg_trgm's GIN index answers (migration 0006); without the
        # extension it reads the table, and the answer is the same.
        contains = _pg_index.c.title_key.contains(key, autoescape=True)
        return select(_pg_index.c.page_id).where(contains).order_by(_pg_index.c.page_id.desc())


def _pg_newest_matches(session, matching: list, most: int) -> list[int]:
    """The ids of the newest *most* pages matching the query, newest first.

    Looked for first among the newest ``_PG_NEWEST_SPAN * most`` ids: there a common word's
    index entries are intersected with the range of ids, and only its pages in the range
    are visited (5 ms for a word on half of 100,000 pages, against 24 ms visiting each of
    its pages to keep the newest). Found there, they are the newest anywhere; a rarer word,
    which has fewer pages to visit, is then looked for everywhere."""
    last = session.scalar(select(func.max(_pg_index.c.page_id)))
    if last is None:
        return []
    found = _pg_newest(session, [*matching, _pg_index.c.page_id > last - _PG_NEWEST_SPAN * most],
                       most)
    return found if len(found) == most else _pg_newest(session, matching, most)


def _pg_newest(session, conditions: list, most: int) -> list[int]:
    """The ids of the newest *most* pages meeting *conditions*, newest first: as one array,
    which the driver reads at once (a thousand rows fetched one by one cost about 0.5 ms
    more)."""
    newest = (select(_pg_index.c.page_id).where(*conditions)
              .order_by(_pg_index.c.page_id.desc()).limit(most).subquery())
    ids = func.array_agg(postgresql.aggregate_order_by(newest.c.page_id,
                                                        newest.c.page_id.desc()))
    return session.scalar(select(ids)) or []


def _pg_ranked(session, rank, page_ids: list[int], offset: int, limit: int) -> list[int]:
    """The ids of *page_ids* (pages known to match) from *offset*, best *rank* first."""
    if not page_ids:
        return []
    return list(session.scalars(
        select(_pg_index.c.page_id)
        .where(_pg_index.c.page_id == sa.any_(sa.literal(page_ids, _PG_IDS)))
        .order_by(rank.desc(), _pg_index.c.page_id).offset(offset).limit(limit)
    ))


def _pg_ranked_candidates(session, query: Query, matching: list, rank, newest: list[int],
                          bounds: Bounds, offset: int, limit: int) -> list[int]:
    """The best candidates for a query matching more than ``bounds.counted`` pages, of
    which *newest* are the newest: those with a word of it in their title or tags, then
    the newest ``bounds.candidates`` of the others, each kind by rank; then older
    matches, newest first, to ``bounds.counted`` in all."""
    headed = _pg_headed(session, query, matching, rank, bounds.candidates)
    shown = set(headed)
    others = [page_id for page_id in newest if page_id not in shown]
    others = others[:max(bounds.counted - len(headed), 0)]
    return slice_of_tiers(
        [listed(headed),
         (len(others[:bounds.candidates]),
          partial(_pg_ranked, session, rank, others[:bounds.candidates])),
         listed(others[bounds.candidates:])],
        offset, limit)


def _pg_headed(session, query: Query, matching: list, rank, candidates: int) -> list[int]:
    """The newest *candidates* pages with a word of *query* in their title or tags (the
    ``heading`` column's index answers it, reading no text) that match it all, by rank."""
    words = [_pg_term(term) for term in query.included if term.field != "tag"]
    if not words:
        return []
    heads = _pg_newest(session, [_pg_index.c.heading.bool_op("@@")(reduce(_pg_or, words))],
                       candidates)
    if not heads:
        return []
    return list(session.scalars(
        select(_pg_index.c.page_id)
        .where(_pg_index.c.page_id == sa.any_(sa.literal(heads, _PG_IDS)), *matching)
        .order_by(rank.desc(), _pg_index.c.page_id)
    ))


def _pg_or(left, right):
    return left.op("||")(right)


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
