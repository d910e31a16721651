"""text stored once, LSH bands in one b-tree clustered by band

Revision ID: 0008
Revises: 0007
Create Date: 2027-02-10 10:00:00

Bytes on disk per post (issue #19): revision 1 held a second copy of every update's text,
and each of the 16 LSH bands of an update cost a table row and two index entries.

- `revisions.headline`/`body` become nullable: the current version's row holds NULL (its
  text is the update's), a superseded version keeps its text. Rows whose text is the
  update's own are emptied here.
- `lsh_bands` becomes (band, update_id) as its primary key, on SQLite a table WITHOUT
  ROWID: the band lookups read that b-tree alone, and a new update adds 16 entries to one
  b-tree instead of 16 rows to a table and two indexes. No foreign key (see
  `storage.models.LshBand`). The rows are copied in band order, one sorted build.

Downgrade restores both layouts (and the text of every current revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_CURRENT = (
    "EXISTS (SELECT 1 FROM updates u WHERE u.id = revisions.update_id "
    "AND u.revisions = revisions.number AND u.headline = revisions.headline "
    "AND u.body = revisions.body)"
)


def upgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.alter_column("headline", existing_type=sa.Text(), nullable=True)
        batch.alter_column("body", existing_type=sa.Text(), nullable=True)
    op.execute(f"UPDATE revisions SET headline = NULL, body = NULL WHERE {_CURRENT}")

    op.execute("CREATE TABLE lsh_bands_old AS SELECT band, update_id FROM lsh_bands")
    op.drop_table("lsh_bands")
    op.create_table(
        "lsh_bands",
        sa.Column("band", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("update_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("band", "update_id"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO lsh_bands (band, update_id) "
        "SELECT DISTINCT band, update_id FROM lsh_bands_old ORDER BY band, update_id"
    )
    op.drop_table("lsh_bands_old")


def downgrade() -> None:
    op.execute("CREATE TABLE lsh_bands_new AS SELECT band, update_id FROM lsh_bands")
    op.drop_table("lsh_bands")
    op.create_table(
        "lsh_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["update_id"], ["updates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(
        "INSERT INTO lsh_bands (band, update_id) SELECT band, update_id FROM lsh_bands_new "
        "WHERE update_id IN (SELECT id FROM updates) ORDER BY update_id, band"
    )
    op.drop_table("lsh_bands_new")
    op.create_index("ix_lsh_bands_band", "lsh_bands", ["band"])
    op.create_index("ix_lsh_bands_update_id", "lsh_bands", ["update_id"])

    op.execute(
        "UPDATE revisions SET "
        "headline = (SELECT u.headline FROM updates u WHERE u.id = revisions.update_id), "
        "body = (SELECT u.body FROM updates u WHERE u.id = revisions.update_id) "
        "WHERE headline IS NULL OR body IS NULL"
    )
    with op.batch_alter_table("revisions") as batch:
        batch.alter_column("headline", existing_type=sa.Text(), nullable=False)
        batch.alter_column("body", existing_type=sa.Text(), nullable=False)
