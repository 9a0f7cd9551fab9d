"""Quick-jump finds any part of a title: trigram indexes of title keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 16:00:00

Quick-jump (``/api/v1/titles?q=``) found titles whose *words start with* what was typed
(0003 on SQLite, a ``title_words`` tsvector from 0005 on PostgreSQL), so ``lask`` did not
find "Flask". Each live page's title is now indexed as its key (``title_key`` in
``wiki.services.search``: folded, punctuation dropped, each word after a space) by trigrams,
so any piece of three characters or more is an index lookup, ``" rou"`` (a word starting
with "rou") included:

- SQLite: ``page_search_titles`` becomes an FTS5 table with the ``trigram`` tokenizer
  (SQLite 3.34 or newer);
- PostgreSQL: ``page_search`` gains a ``title_key`` column with a ``pg_trgm`` GIN index,
  which answers ``LIKE '%...%'``. Where the extension cannot be installed (not shipped, or no
  permission) the column has no index, and quick-jump reads the table instead: the same
  answers, more slowly. ``title_words`` and its ``wiki_titles`` configuration go.

The keys are made by the application's own ``title_key``: they are what it looks them up
by, and like the rest of the search index they are derived data (``flask pages reindex``
remakes them).
"""
import sqlalchemy as sa
from alembic import op

from wiki.services.search import title_key

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

LIVE_TITLES = "SELECT id, title FROM page WHERE NOT deleted"


def upgrade():
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE page_search_titles")
        op.execute("CREATE VIRTUAL TABLE page_search_titles USING fts5("
                   "title_key, tokenize = 'trigram')")
        _insert_keys("INSERT INTO page_search_titles (rowid, title_key) VALUES (:id, :key)")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE page_search ADD COLUMN title_key text NOT NULL DEFAULT ''")
        _insert_keys("UPDATE page_search SET title_key = :key WHERE page_id = :id")
        if operators := _install_pg_trgm():
            op.execute("CREATE INDEX ix_page_search_title_key ON page_search "
                       f"USING gin (title_key {operators})")
        op.execute("DROP INDEX ix_page_search_title_words")
        op.execute("ALTER TABLE page_search DROP COLUMN title_words")
        op.execute("DROP TEXT SEARCH CONFIGURATION wiki_titles")


def _insert_keys(statement: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(LIVE_TITLES)).all()
    if rows:
        bind.execute(sa.text(statement), [{"id": id_, "key": title_key(title)}
                                          for id_, title in rows])


def _install_pg_trgm() -> str | None:
    """The schema-qualified name of pg_trgm's GIN operator class, installing the extension
    if it is available and we may (it is trusted since PostgreSQL 13); None if it cannot be
    had. A failed attempt is rolled back to a savepoint, so the migration goes on."""
    bind = op.get_bind()
    available = bind.scalar(sa.text(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'"))
    if not available:
        return None
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:  # typically: permission denied to create extension
        return None
    schema = bind.scalar(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"))
    return f"{schema}.gin_trgm_ops"


def downgrade():
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE page_search_titles")
        op.execute("CREATE VIRTUAL TABLE page_search_titles USING fts5("
                   "title, tokenize = 'unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO page_search_titles (rowid, title) "
                   "SELECT id, replace(replace(title, char(2), ''), char(3), '') FROM page "
                   "WHERE NOT deleted")
    elif dialect == "postgresql":
        # wiki_titles as 0005 made it, folding accents if unaccent is there.
        unaccent = op.get_bind().scalar(sa.text(
            "SELECT extnamespace::regnamespace::text || '.unaccent' FROM pg_extension "
            "WHERE extname = 'unaccent'"))
        op.execute("CREATE TEXT SEARCH CONFIGURATION wiki_titles (COPY = pg_catalog.simple)")
        if unaccent:
            op.execute("ALTER TEXT SEARCH CONFIGURATION wiki_titles "
                       f"ALTER MAPPING FOR hword, hword_part, word WITH {unaccent}, simple")
        op.execute("ALTER TABLE page_search ADD COLUMN title_words tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('wiki_titles', title)) STORED")
        op.execute("CREATE INDEX ix_page_search_title_words ON page_search "
                   "USING gin (title_words)")
        op.execute("DROP INDEX IF EXISTS ix_page_search_title_key")
        op.execute("ALTER TABLE page_search DROP COLUMN title_key")
        # pg_trgm stays: other applications of the database may use it too.
