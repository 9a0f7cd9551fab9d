"""The SQLite backend: FTS5 tables (migrations 0002 and 0006), ranked by bm25."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import func, select

from wiki.models import Page
from wiki.services.access import EVERYTHING
from wiki.services.search.backend import (
    INDEX_TABLE,
    MARK_CLOSE,
    MARK_OPEN,
    SNIPPET_TOKENS,
    TITLES_TABLE,
    SearchBackend,
    SearchHit,
    marked_html,
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

    def index_pages(self, session, entries) -> None:
        if not entries:
            return
        ids = [{"id": entry.page_id} for entry in entries]
        session.execute(sa.text("DELETE FROM page_search WHERE rowid = :id"), ids)
        session.execute(sa.text("DELETE FROM page_search_titles WHERE rowid = :id"), ids)
        titles = [clean_text(entry.title) for entry in entries]
        session.execute(
            sa.text("INSERT INTO page_search (rowid, title, tags, body) "
                    "VALUES (:id, :title, :tags, :body)"),
            [{"id": entry.page_id, "title": title, "tags": clean_text(" ".join(entry.tags)),
              "body": clean_text(entry.text)} for entry, title in zip(entries, titles,
                                                                      strict=True)],
        )
        session.execute(
            sa.text("INSERT INTO page_search_titles (rowid, title_key) VALUES (:id, :key)"),
            [{"id": entry.page_id, "key": title_key(title)}
             for entry, title in zip(entries, titles, strict=True)],
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

    def find(self, session, query, offset, limit, visible=EVERYTHING):
        """In two steps, so what costs per hit is done for one page of hits only: rank
        every match by bm25 in the index alone; then load the pages, highlighted titles
        and snippets of those *limit* (snippets cost most: each re-reads a page's text)."""
        matching = self._matching(query)
        if matching is None:
            return [], 0
        if not visible.hides_nothing:
            matching.append(visible.page_id_condition(_page_search.c.rowid))
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
