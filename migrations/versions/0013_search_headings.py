"""Search: an index of each page's title and tags alone, to rank title matches first fast

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 07:30:00

A search for a common word ranks a bounded set of candidates (wiki.services.search,
``COUNTED``), the pages with a word of the query in their title or tags first. Finding
those in the full index means reading the positions of every match of the word; an index
of titles and tags alone answers it from a few entries:

- SQLite: ``page_search_headings``, an FTS5 table (rowid = page id) of title and tags,
  tokenized as ``page_search`` is;
- PostgreSQL: ``page_search.heading``, a generated ``tsvector`` of the title (A) and tags
  (B), with a GIN index.

Both are filled from what ``page_search`` holds, so nothing needs re-rendering.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE page_search_headings USING fts5("
                   "title, tags, tokenize = 'porter unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO page_search_headings (rowid, title, tags) "
                   "SELECT rowid, title, tags FROM page_search")
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE page_search ADD COLUMN heading tsvector GENERATED ALWAYS AS ("
            " setweight(to_tsvector('wiki_search', title), 'A')"
            " || setweight(to_tsvector('wiki_search', tags), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_page_search_heading ON page_search USING gin (heading)")


def downgrade():
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE page_search_headings")
    elif dialect == "postgresql":
        op.execute("DROP INDEX ix_page_search_heading")
        op.execute("ALTER TABLE page_search DROP COLUMN heading")
