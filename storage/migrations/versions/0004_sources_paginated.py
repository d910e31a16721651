"""sources.paginated: whether a source's last page read linked to a next one

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-12 10:00:00

A poll that is not a full crawl follows a page's rel="next" only while the page holds a
post the store does not hold unchanged; the scheduler reads what the store holds before
the crawl, and only for the sources this column marks (`storage/known.py`). Stored
sources are marked when one of their crawls read more than one page: the others are
marked by their next crawl that finds a next link.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sources",
        sa.Column("paginated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE sources SET paginated = EXISTS "
        "(SELECT 1 FROM crawl_runs WHERE crawl_runs.source_id = sources.id "
        "AND crawl_runs.pages > 1)"
    )


def downgrade() -> None:
    # Not batch mode: on SQLite it would recreate `sources`, whose rows other tables
    # reference with ON DELETE CASCADE. SQLite drops a column itself since 3.35.
    op.execute("ALTER TABLE sources DROP COLUMN paginated")
