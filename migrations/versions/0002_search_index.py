"""Full-text search index (SQLite FTS5)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00

The index is a SQLite FTS5 table keyed by page id (rowid), holding its own copy of each
page's title, tags and body text. Porter stemming over unicode61 with diacritics removed,
so ``routes`` finds ``routing`` and ``resume`` finds ``Résumé``. Other databases do nothing
here: PostgreSQL gets its own index in its own migration.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE page_search USING fts5("
        "title, tags, body, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    # A wiki that already has pages is searchable at once, on its raw Markdown;
    # `flask pages reindex` replaces that with the rendered text. Characters 2 and 3 mark
    # matches in snippets, so no indexed text may contain them.
    op.execute(
        "INSERT INTO page_search (rowid, title, tags, body) "
        "SELECT page.id, page.title, "
        "  coalesce((SELECT group_concat(tag.name, ' ') FROM page_tag "
        "            JOIN tag ON tag.id = page_tag.tag_id WHERE page_tag.page_id = page.id), ''), "
        "  replace(replace(revision.body, char(2), ''), char(3), '') "
        "FROM page JOIN revision ON revision.id = page.current_revision_id "
        "WHERE NOT page.deleted"
    )


def downgrade():
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE page_search")
