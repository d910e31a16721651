"""an index on when updates arrived, for arrivals per hour and --seen-since

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00

`ix_updates_first_seen` on (first_seen_at, source_id): the sources page counts each
source's arrivals per hour over the last day (`storage.activity`), and `seen_since`
filters on first_seen_at. Without it both read the whole table; with it they read the
index alone (the source id is in it), whatever the size of the store.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_updates_first_seen", "updates", ["first_seen_at", "source_id"])


def downgrade() -> None:
    op.drop_index("ix_updates_first_seen", table_name="updates")
