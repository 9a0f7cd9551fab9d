"""Search on PostgreSQL: each page's tsvector kept in its row, not in the TOAST table

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:00:00

A search for a common word checks the newest pages' ``page_search.document`` one by one
until it has counted enough matches (wiki.services.search.postgresql), and ranks a few
hundred candidates by it. A typical page's row (its text, and the tsvector of it, each about
2 KB) is over PostgreSQL's 2 KB TOAST threshold, and the toaster moved the largest value, the
tsvector, out of the row: each check was a lookup in the TOAST table's index and a read of
its chunks (about 7 ms for the 2,000 checks of a word on half of 100,000 pages).

Now the row may be 4 KB before anything is moved out, and the tsvector stays in the row
(storage ``MAIN``: compressed or moved out only when nothing else makes the row fit): the
text, which only the snippets of one page of hits read, is compressed or moved out first.
The same checks then read about 2,000 heap rows (about 2 ms), and at 100,000 pages the
table takes 543 MB, not 723 MB.

``CLUSTER`` rewrites the rows already there by these rules, in page id order, the order a
search walks them in (newest first): about 20 seconds for 100,000 pages, during which the
table is locked. SQLite has no TOAST: nothing changes there.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

ROW_BYTES_KEPT_WHOLE = 4080  # toast_tuple_target: two rows to an 8 KB page


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE page_search SET (toast_tuple_target = {ROW_BYTES_KEPT_WHOLE})")
    op.execute("ALTER TABLE page_search ALTER COLUMN document SET STORAGE MAIN")
    op.execute("CLUSTER page_search USING pk_page_search")


def downgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE page_search ALTER COLUMN document SET STORAGE EXTENDED")
    op.execute("ALTER TABLE page_search RESET (toast_tuple_target)")
