"""Sign-in failures counted in the database; a skeleton of each username

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:30:00

- ``login_failure``: one row per wrong password (username key, client address, time), so
  throttling counts failures across every worker and host, kept only for its window.
- ``user.username_skeleton``: what the name looks like (Unicode TR39 skeleton, case
  folded), indexed, so a new name that looks like an existing one is refused with a lookup.
  Existing accounts get theirs from the application's own ``username_skeleton``, the
  function it looks names up with.
"""
import sqlalchemy as sa
from alembic import op

from wiki.services.accounts import username_skeleton

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username_key', sa.String(length=255), nullable=False),
        sa.Column('client_address', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')),
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_failed_at'), ['failed_at'])
        batch_op.create_index('ix_login_failure_username_key_client_address',
                              ['username_key', 'client_address', 'failed_at'])
        batch_op.create_index('ix_login_failure_client_address',
                              ['client_address', 'failed_at'])

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_skeleton', sa.String(length=255), nullable=True))
    connection = op.get_bind()
    users = sa.table('user', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('username_skeleton', sa.String))
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(username_skeleton=username_skeleton(username)[:255]))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('username_skeleton', existing_type=sa.String(length=255),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_user_username_skeleton'), ['username_skeleton'])


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_username_skeleton'))
        batch_op.drop_column('username_skeleton')
    op.drop_table('login_failure')
