"""PostgreSQL: full-text search index, and slugs compared byte by byte

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:00:00

PostgreSQL only; SQLite (whose index is FTS5: 0002, 0003) does nothing here.

``page_search`` holds one row per live page, keyed by page id, with its own copy of the
title, tags and text (as SQLite's FTS5 table does) and two generated ``tsvector`` columns,
each with a GIN index:

- ``document``: title (weight A), tags (B) and text (C), english stemming, for search;
- ``title_words``: the title alone, unstemmed, for quick-jump's "a word starts with".

Both are made by text search configurations of their own, ``wiki_search`` (a copy of
``english``) and ``wiki_titles`` (a copy of ``simple``). Where the ``unaccent`` extension
can be installed, both fold accents through it, so ``resume`` finds "Résumé"; where it
cannot (not shipped, or no permission), they work without, and accents must be typed.
Queries name the same configurations, so the indexes answer them whichever it is.

A ``tsvector`` is limited to 1 MB, which a 1 MB page of unusual words could exceed: the
text indexed is the first 250,000 characters of a page (its title and tags always).

Slugs are compared by code point, as on SQLite: quick-jump and sub-page lists look slugs up
by range (``slug >= 'flask/' AND slug < 'flask0'``), which a linguistic collation such as
``en_US`` would order differently. So the slug columns get the ``C`` collation.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

INDEXED_CHARACTERS = 250_000
SLUG_COLUMNS = [("page", "slug"), ("link", "target_slug"), ("redirect", "old_slug")]
# Characters 2 and 3 mark matches in snippets, so no indexed text may contain them; "<"
# is kept as character 1, or the parser would take "<b>" for a tag and drop it (the search
# backend turns it back into "<"). Here as in wiki.services.search.postgresql.
STORED = "translate({}, chr(60) || chr(2) || chr(3), chr(1))"


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    unaccent = _install_unaccent()
    _create_configuration("wiki_search", "english", "english_stem", unaccent)
    _create_configuration("wiki_titles", "simple", "simple", unaccent)
    op.execute(
        "CREATE TABLE page_search ("
        " page_id integer NOT NULL,"
        " title text NOT NULL,"
        " tags text NOT NULL,"
        " body text NOT NULL,"
        " document tsvector GENERATED ALWAYS AS ("
        "  setweight(to_tsvector('wiki_search', title), 'A')"
        "  || setweight(to_tsvector('wiki_search', tags), 'B')"
        f"  || setweight(to_tsvector('wiki_search', left(body, {INDEXED_CHARACTERS})), 'C')"
        " ) STORED,"
        " title_words tsvector GENERATED ALWAYS AS (to_tsvector('wiki_titles', title)) STORED,"
        " CONSTRAINT pk_page_search PRIMARY KEY (page_id))"
    )
    op.execute("CREATE INDEX ix_page_search_document ON page_search USING gin (document)")
    op.execute("CREATE INDEX ix_page_search_title_words ON page_search USING gin (title_words)")
    _index_existing_pages()
    for table, column in SLUG_COLUMNS:
        op.alter_column(table, column, type_=sa.String(255, collation="C"),
                        existing_type=sa.String(255), existing_nullable=False)


def _install_unaccent() -> str | None:
    """The schema-qualified name of the unaccent dictionary, installing the extension if it
    is available and we may; None if it cannot be had. A failed attempt is rolled back to
    a savepoint, so the rest of the migration goes on."""
    bind = op.get_bind()
    available = bind.scalar(sa.text(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'"))
    if not available:
        return None
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError:  # typically: permission denied to create extension
        return None
    schema = bind.scalar(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"))
    return f"{schema}.unaccent"


def _create_configuration(name: str, template: str, stemmer: str, unaccent: str | None):
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{template})")
    if unaccent:
        # Words with letters beyond ASCII go through unaccent first, then the usual dictionary.
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION {name} "
                   f"ALTER MAPPING FOR hword, hword_part, word WITH {unaccent}, {stemmer}")


def _index_existing_pages():
    """Index a wiki's pages at once, on their raw Markdown, as 0002 does on SQLite;
    ``flask pages reindex`` replaces that with the rendered text."""
    tags = ("coalesce((SELECT string_agg(tag.name, ' ' ORDER BY tag.name) FROM page_tag"
            " JOIN tag ON tag.id = page_tag.tag_id WHERE page_tag.page_id = page.id), '')")
    op.execute(
        "INSERT INTO page_search (page_id, title, tags, body) "
        f"SELECT page.id, {STORED.format('page.title')}, {tags}, "
        f"{STORED.format('revision.body')} "
        "FROM page JOIN revision ON revision.id = page.current_revision_id "
        "WHERE NOT page.deleted"
    )


def downgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    for table, column in SLUG_COLUMNS:
        op.alter_column(table, column, type_=sa.String(255),
                        existing_type=sa.String(255, collation="C"), existing_nullable=False)
    op.execute("DROP TABLE page_search")
    op.execute("DROP TEXT SEARCH CONFIGURATION wiki_titles")
    op.execute("DROP TEXT SEARCH CONFIGURATION wiki_search")
    # unaccent stays: other applications of the database may use it too.
