"""Initial schema: users, pages, revisions, tags, links, redirects

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 13:11:36

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # page and revision refer to each other. SQLite accepts the reference before the table
    # exists; PostgreSQL gets the foreign key once both tables are there.
    sqlite = op.get_context().dialect.name == "sqlite"
    current_revision_fk = sa.ForeignKeyConstraint(
        ['current_revision_id'], ['revision.id'],
        name=op.f('fk_page_current_revision_id_revision'), ondelete='SET NULL',
    )
    op.create_table('page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('current_revision_id', sa.Integer(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page')),
    sa.UniqueConstraint('slug', name=op.f('uq_page_slug')),
    *([current_revision_fk] if sqlite else []),
    )
    op.create_table('tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('name', name=op.f('uq_tag_name'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('username_key', sa.String(length=40), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('username_key', name=op.f('uq_user_username_key'))
    )
    op.create_table('link',
    sa.Column('from_page_id', sa.Integer(), nullable=False),
    sa.Column('target_slug', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['from_page_id'], ['page.id'], name=op.f('fk_link_from_page_id_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('from_page_id', 'target_slug', name=op.f('pk_link'))
    )
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_target_slug'), ['target_slug'], unique=False)

    op.create_table('page_tag',
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['page.id'], name=op.f('fk_page_tag_page_id_page'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_page_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id', 'tag_id', name=op.f('pk_page_tag'))
    )
    with op.batch_alter_table('page_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_tag_tag_id'), ['tag_id'], unique=False)

    op.create_table('redirect',
    sa.Column('old_slug', sa.String(length=255), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['page.id'], name=op.f('fk_redirect_page_id_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('old_slug', name=op.f('pk_redirect'))
    )
    with op.batch_alter_table('redirect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redirect_page_id'), ['page_id'], unique=False)

    op.create_table('revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('summary', sa.String(length=255), nullable=False),
    sa.Column('minor', sa.Boolean(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_revision_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['page_id'], ['page.id'], name=op.f('fk_revision_page_id_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision')),
    sa.UniqueConstraint('page_id', 'number', name='uq_revision_page_id_number')
    )
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.create_index('ix_revision_author_id_created_at', ['author_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_created_at'), ['created_at'], unique=False)

    if not sqlite:
        op.create_foreign_key(
            op.f('fk_page_current_revision_id_revision'), 'page', 'revision',
            ['current_revision_id'], ['id'], ondelete='SET NULL',
        )


def downgrade():
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(op.f('fk_page_current_revision_id_revision'), 'page', type_='foreignkey')
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_created_at'))
        batch_op.drop_index('ix_revision_author_id_created_at')

    op.drop_table('revision')
    with op.batch_alter_table('redirect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redirect_page_id'))

    op.drop_table('redirect')
    with op.batch_alter_table('page_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_tag_tag_id'))

    op.drop_table('page_tag')
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_target_slug'))

    op.drop_table('link')
    op.drop_table('user')
    op.drop_table('tag')
    op.drop_table('page')
