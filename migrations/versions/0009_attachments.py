"""Attachments: files on pages, their bytes stored once by SHA-256

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:20:00

- ``blob``: the bytes of a file (``bytea`` on PostgreSQL), keyed by their SHA-256.
- ``attachment``: one row per version of a file attached to a page.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blob'))
    )
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['blob_sha256'], ['blob.sha256'],
                            name=op.f('fk_attachment_blob_sha256_blob')),
    sa.ForeignKeyConstraint(['page_id'], ['page.id'], name=op.f('fk_attachment_page_id_page'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['user.id'],
                            name=op.f('fk_attachment_uploader_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['user.id'],
                            name=op.f('fk_attachment_deleted_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('page_id', 'name', 'version',
                        name='uq_attachment_page_id_name_version')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_blob_sha256'), ['blob_sha256'],
                              unique=False)


def downgrade():
    op.drop_table('attachment')
    op.drop_table('blob')
