"""Page views at any size: a change counter, and live pages by address

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:10:00

- ``wiki_state``: one row whose ``version`` every write transaction bumps
  (``wiki.database.write_transaction``). Each worker keeps rendered page views for anonymous
  readers (``wiki/caching.py``) and serves them again while the version is unchanged: one
  primary-key lookup instead of the page's queries and its template.
- ``ix_page_live_slug``: the page list (live pages A–Z) walked the unique slug index and
  read every row it skipped to check ``deleted``; this index of live pages' slugs lets a
  window deep in the list skip index entries only (at 100,000 pages, the middle of the
  list went from about 17 ms to 1 ms). It is partial rather than ``(deleted, slug)``:
  without statistics SQLite takes ``deleted = ?`` for a selective lookup and would start
  backlink counts, tag pages and quick-jump from it, reading every page.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    wiki_state = op.create_table('wiki_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wiki_state'))
    )
    op.bulk_insert(wiki_state, [{'id': 1, 'version': 0}])
    op.create_index('ix_page_live_slug', 'page', ['slug'], unique=False,
                    sqlite_where=sa.text('deleted IS 0'),
                    postgresql_where=sa.text('deleted IS false'))


def downgrade():
    op.drop_index('ix_page_live_slug', table_name='page')
    op.drop_table('wiki_state')
