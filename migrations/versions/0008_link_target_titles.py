"""Links keep their target's title as written

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:20:00

- ``link.target_title``: ``[[Request Lifecycle]]`` records "Request Lifecycle" beside the
  slug ``request-lifecycle``, so the wanted-pages list shows the title a page would get.
  Links recorded before are left without one (the list falls back to a title made from the
  slug) until their page is saved again or ``flask pages reindex`` runs.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_title', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_column('target_title')
