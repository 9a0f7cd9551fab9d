"""Access rules, and the log of admin actions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:15:00

- ``access_rule``: pages matching a slug pattern may be read by one role and edited by
  another (wiki.services.access).
- ``admin_action``: who changed what in the wiki's administration, and when.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=255), nullable=False),
    sa.Column('read_role', sa.String(length=16), nullable=False),
    sa.Column('edit_role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_rule')),
    sa.UniqueConstraint('pattern', name=op.f('uq_access_rule_pattern'))
    )
    op.create_table('admin_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_admin_action_user_id_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_action'))
    )
    with op.batch_alter_table('admin_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_action_at'), ['at'], unique=False)


def downgrade():
    op.drop_table('admin_action')
    op.drop_table('access_rule')
