"""Quick-jump index of page titles (SQLite FTS5, words unstemmed)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:00:00

Quick-jump (``/api/v1/titles?q=``) looked for titles *containing* what was typed with
``lower(title) LIKE '%...%'``, which reads every page on every keystroke. This index holds
each live page's title alone, keyed by page id, so "a word of the title starts with" is an
index lookup. The words are not stemmed (``page_search`` stems ``Routing`` to ``rout``, so
a prefix such as ``routin`` would miss it); accents are removed. Other databases do nothing
here, as in 0002.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE page_search_titles USING fts5("
        "title, tokenize = 'unicode61 remove_diacritics 2')"
    )
    op.execute(
        "INSERT INTO page_search_titles (rowid, title) "
        "SELECT id, replace(replace(title, char(2), ''), char(3), '') FROM page "
        "WHERE NOT deleted"
    )


def downgrade():
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE page_search_titles")
