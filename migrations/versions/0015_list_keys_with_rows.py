"""A tag's pages and a page's backlinks listed A–Z from one index each

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:00:00

A tag's page list (/tags/<tag>) and a page's backlinks (/backlinks/<slug>) are sorted by
the listed pages' slugs, which lived on the page table only: the database joined every page
carrying the tag (or linking to the page), thousands on a big wiki, and sorted them all
before it could cut out one window of the list. Each row now carries that slug:

- ``page_tag.page_slug``, indexed with the tag: ``ix_page_tag_tag_id_page_slug`` replaces
  ``ix_page_tag_tag_id``;
- ``link.from_slug``, indexed with the target: ``ix_link_target_slug_from_slug`` replaces
  ``ix_link_target_slug``.

A window of either list is then a walk along its index from its key, as the page list's is.
The slugs are filled from the pages here; the services keep them right (a rename updates
them). On PostgreSQL they get the ``C`` collation of ``page.slug`` (migration 0005), so
the index is in the order the lists are sorted and walked in.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# table, slug column, the column naming its page, the key it is indexed after, old index
COPIES = [("page_tag", "page_slug", "page_id", "tag_id", "ix_page_tag_tag_id"),
          ("link", "from_slug", "from_page_id", "target_slug", "ix_link_target_slug")]


def upgrade():
    postgresql = op.get_context().dialect.name == "postgresql"
    slug = sa.String(255, collation="C" if postgresql else None)
    for table, column, page_id, first, old_index in COPIES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(column, slug, nullable=True))
        op.execute(f"UPDATE {table} SET {column} = "
                   f"(SELECT slug FROM page WHERE page.id = {table}.{page_id})")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=slug, nullable=False)
            batch_op.drop_index(old_index)
            batch_op.create_index(f"ix_{table}_{first}_{column}", [first, column], unique=False)


def downgrade():
    for table, column, _page_id, first, old_index in COPIES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_{first}_{column}")
            batch_op.create_index(old_index, [first], unique=False)
            batch_op.drop_column(column)
