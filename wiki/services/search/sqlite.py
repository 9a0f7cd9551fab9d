"""The SQLite backend: FTS5 tables (migrations 0002, 0006 and 0013), ranked by bm25."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import sqlalchemy as sa
from sqlalchemy import func, select

from wiki.models import Page
from wiki.services.access import EVERYTHING
from wiki.services.search.backend import (
    DEFAULT_BOUNDS,
    HEADINGS_TABLE,
    INDEX_TABLE,
    MARK_CLOSE,
    MARK_OPEN,
    SNIPPET_TOKENS,
    TITLES_TABLE,
    Bounds,
    SearchBackend,
    SearchHit,
    listed,
    marked_html,
    slice_of_tiers,
    tag_filter,
    title_key,
)
from wiki.services.search.query import Field, Query, Term, clean_text

_page_search = sa.table(
    INDEX_TABLE, sa.column("rowid", sa.Integer), sa.column("tags", sa.String)
)
# The FTS5 table's own name is the handle MATCH and the auxiliary functions take.
_FTS = sa.literal_column(INDEX_TABLE)
_titles = sa.table(TITLES_TABLE, sa.column("rowid", sa.Integer))
_TITLES = sa.literal_column(TITLES_TABLE)
_FTS_COLUMNS: dict[Field, str] = {"all": "", "title": "title : ", "tag": "tags : "}
_TITLE_COLUMN, _BODY_COLUMN = 0, 2
_headings = sa.table(HEADINGS_TABLE, sa.column("rowid", sa.Integer))
_HEADINGS = sa.literal_column(HEADINGS_TABLE)
_TABLES = (INDEX_TABLE, HEADINGS_TABLE, TITLES_TABLE)  # each holds a row per live page
_ROWID_UNINDEXED = sa.literal_column(f"+{INDEX_TABLE}.rowid", sa.Integer)
# bm25 weight of a match in each column, in table order (title, tags, body).
COLUMN_WEIGHTS = (10.0, 5.0, 1.0)
_BM25 = func.bm25(_FTS, *COLUMN_WEIGHTS)


class SQLiteSearch(SearchBackend):
    """The ``page_search`` FTS5 table (migration 0002): rowid = page id, its own copy of
    the text, porter stemming over unicode61 with diacritics removed. It holds live pages
    only (deleting a page removes it), so counting and ranking need no other table.

    Beside it, ``page_search_titles`` (migration 0006) holds each title's :func:`title_key`
    with the trigram tokenizer, for quick-jump: any three characters or more of it are an
    index lookup, unstemmed (typing ``routin`` must find "Routing", whose stem is ``rout``).
    And ``page_search_headings`` (migration 0013) holds titles and tags alone, tokenized as
    ``page_search`` is: which pages have a word in their title is then a short read.
    """

    def index_page(self, session, page_id, title, text, tags) -> None:
        self.remove_page(session, page_id)
        title, tags = clean_text(title), clean_text(" ".join(tags))
        session.execute(
            sa.text("INSERT INTO page_search (rowid, title, tags, body) "
                    "VALUES (:id, :title, :tags, :body)"),
            {"id": page_id, "title": title, "tags": tags, "body": clean_text(text)},
        )
        session.execute(
            sa.text("INSERT INTO page_search_headings (rowid, title, tags) "
                    "VALUES (:id, :title, :tags)"),
            {"id": page_id, "title": title, "tags": tags},
        )
        session.execute(
            sa.text("INSERT INTO page_search_titles (rowid, title_key) VALUES (:id, :key)"),
            {"id": page_id, "key": title_key(title)},
        )

    def index_pages(self, session, entries) -> None:
        if not entries:
            return
        ids = [{"id": entry.page_id} for entry in entries]
        session.execute(sa.text("DELETE FROM page_search WHERE rowid = :id"), ids)
        session.execute(sa.text("DELETE FROM page_search_headings WHERE rowid = :id"), ids)
        session.execute(sa.text("DELETE FROM page_search_titles WHERE rowid = :id"), ids)
        titles = [clean_text(entry.title) for entry in entries]
        rows = [{"id": entry.page_id, "title": title, "tags": clean_text(" ".join(entry.tags)),
                 "body": clean_text(entry.text)}
                for entry, title in zip(entries, titles, strict=True)]
        session.execute(
            sa.text("INSERT INTO page_search (rowid, title, tags, body) "
                    "VALUES (:id, :title, :tags, :body)"), rows)
        session.execute(
            sa.text("INSERT INTO page_search_headings (rowid, title, tags) "
                    "VALUES (:id, :title, :tags)"), rows)
        session.execute(
            sa.text("INSERT INTO page_search_titles (rowid, title_key) VALUES (:id, :key)"),
            [{"id": entry.page_id, "key": title_key(title)}
             for entry, title in zip(entries, titles, strict=True)],
        )

    def remove_page(self, session, page_id) -> None:
        for table in _TABLES:
            session.execute(sa.text(f"DELETE FROM {table} WHERE rowid = :id"),  # noqa: S608
                            {"id": page_id})

    def prune(self, session) -> None:
        for table in _TABLES:
            session.execute(sa.text(
                f"DELETE FROM {table} "  # noqa: S608 (our own table names)
                "WHERE rowid NOT IN (SELECT id FROM page WHERE NOT deleted)"
            ))

    def find(self, session, query, offset, limit, visible=EVERYTHING, bounds=DEFAULT_BOUNDS):
        """In two steps, so what costs per hit is done for one page of hits only: rank the
        matches by bm25 in the index alone (all of them up to ``bounds.counted``, else
        the candidates); then load the pages, highlighted titles and snippets of those *limit*
        (snippets cost most: each re-reads a page's text)."""
        expression = self.match_expression(query)
        if expression is None:
            return [], 0
        filters = self._filters(query, visible)
        total = _count_up_to(session, expression, filters, bounds.counted + 1)
        if total <= bounds.counted:
            ranked = _ranked(session, expression, filters, offset, limit)
        else:
            ranked = _ranked_candidates(session, query, expression, filters, bounds,
                                        offset, limit)
        if not ranked:
            return [], total
        rows = session.execute(
            select(
                Page.id, Page.slug, Page.title, _page_search.c.tags,
                func.highlight(_FTS, _TITLE_COLUMN, MARK_OPEN, MARK_CLOSE).label("title_html"),
                func.snippet(_FTS, _BODY_COLUMN, MARK_OPEN, MARK_CLOSE, "…",
                             SNIPPET_TOKENS).label("snippet"),
            )
            .select_from(_page_search).join(Page, Page.id == _page_search.c.rowid)
            .where(_FTS.match(expression), _page_search.c.rowid.in_(ranked),
                   Page.deleted.is_(False))
        )
        by_id = {row.id: row for row in rows}
        hits = [
            SearchHit(row.slug, row.title, marked_html(row.title_html),
                      tuple(row.tags.split()), marked_html(row.snippet))
            for row in (by_id.get(page_id) for page_id in ranked) if row is not None
        ]
        return hits, total

    @staticmethod
    def _filters(query: Query, visible) -> list:
        """What the query asks besides its MATCH: tags, and the pages *visible* shows."""
        filters = [tag_filter(term, _page_search.c.rowid)
                   for term in query.terms if term.field == "tag"]
        if not visible.hides_nothing:
            filters.append(visible.page_id_condition(_page_search.c.rowid))
        return filters

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


def _count_up_to(session, expression: str, filters: list, most: int) -> int:
    """How many pages match, counting no further than *most*."""
    matches = select(_page_search.c.rowid).where(_FTS.match(expression), *filters).limit(most)
    return session.scalar(select(func.count()).select_from(matches.subquery()))


def _ranked(session, expression: str, filters: list, offset: int, limit: int) -> list[int]:
    """Ids of the pages matching *expression* and *filters*, by bm25."""
    return list(session.scalars(
        select(_page_search.c.rowid).where(_FTS.match(expression), *filters)
        .order_by(_BM25, _page_search.c.rowid).offset(offset).limit(limit)
    ))


def _ranked_candidates(session, query: Query, expression: str, filters: list,
                       bounds: Bounds, offset: int, limit: int) -> list[int]:
    """Ids of the best candidates for a query matching more than ``bounds.counted``
    pages: the newest ``bounds.candidates`` with a word of it in their title or tags, then
    the newest ``bounds.candidates`` of the others, each kind ranked by bm25; then older
    matches, newest first, to ``bounds.counted`` in all.

    Every step reads a bounded stretch of the index: rowids only (never a match's
    positions), from the newest down, and bm25 on the candidates alone.
    """
    headed = _headed(session, query, expression, filters, bounds.candidates)
    others = [*filters, _ROWID_UNINDEXED.not_in(headed)] if headed else filters
    floor = session.scalar(
        select(_page_search.c.rowid).where(_FTS.match(expression), *others)
        .order_by(_page_search.c.rowid.desc()).offset(bounds.candidates - 1).limit(1)
    )
    if floor is None:
        return slice_of_tiers([listed(headed), (bounds.counted, partial(
            _ranked, session, expression, others))], offset, limit)
    rest = bounds.counted - len(headed) - bounds.candidates
    return slice_of_tiers(
        [listed(headed),
         (bounds.candidates, partial(_ranked, session, expression,
                                     [*others, _page_search.c.rowid >= floor])),
         (max(rest, 0), partial(_newest, session, expression,
                                [*others, _page_search.c.rowid < floor]))],
        offset, limit)


def _newest(session, expression: str, filters: list, offset: int, limit: int) -> list[int]:
    return list(session.scalars(
        select(_page_search.c.rowid).where(_FTS.match(expression), *filters)
        .order_by(_page_search.c.rowid.desc()).offset(offset).limit(limit)
    ))


def _headed(session, query: Query, expression: str, filters: list,
            candidates: int) -> list[int]:
    """The newest *candidates* pages with a word of *query* in their title or tags (from
    the small headings index) that match it all, by bm25."""
    words = [_fts_term(replace(term, field="all"))
             for term in query.included if term.field != "tag"]
    if not words:
        return []
    heads = list(session.scalars(
        select(_headings.c.rowid).where(_HEADINGS.match(" OR ".join(words)))
        .order_by(_headings.c.rowid.desc()).limit(candidates)
    ))
    if not heads:
        return []
    # The rowid range is what FTS5 reads; the list is checked row by row, as "+rowid"
    # keeps it from FTS5 (which would run the MATCH again for each id in it).
    return _ranked(session, expression,
                   [*filters, _page_search.c.rowid.between(heads[-1], heads[0]),
                    _ROWID_UNINDEXED.in_(heads)], 0, candidates)
