"""cluster mode: procrastinate's schema, the worker registry, sources.last_worker

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-20 10:00:00

Both dialects: `sources.last_worker` (who saved the last crawl), `cluster_workers` (each
process of a cluster rewrites its row at every heartbeat: `vigie workers`, /health) and an
index on `sources.next_run_at` (the active scheduler's due query, every tick).

PostgreSQL: the schema of the procrastinate task engine (scheduler/cluster/), in its own
PostgreSQL schema `procrastinate` so that its 4 tables, 18 functions and 7 triggers stay
apart from vigie's (every engine connection sets search_path=procrastinate). procrastinate
keeps no version of its schema: this migration is that record. It installs the schema of
the procrastinate pinned in pyproject.toml (3.10); a later bump adds a migration running
the files of procrastinate's sql/migrations/ between the two versions. ANALYZE right
after: without statistics the engine's fetch plans scan the whole queue (353 ms against
0.4 ms at 3,000 queued jobs, measured). The job and event tables churn (every poll inserts,
updates and deletes rows): autovacuum runs on them at 5% of dead rows, not 20%.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ENGINE_SCHEMA = "procrastinate"
CHURNING = ("procrastinate_jobs", "procrastinate_events")


def upgrade() -> None:
    op.add_column("sources", sa.Column("last_worker", sa.String(128), nullable=True))
    op.create_index("ix_sources_next_run_at", "sources", ["next_run_at"])
    op.create_table(
        "cluster_workers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_every", sa.Float, nullable=False),
        sa.Column("running", sa.Integer, nullable=False, server_default="0"),
        sa.Column("polls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active_scheduler", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("engine_id", sa.BigInteger, nullable=True),
        sa.Column("version", sa.String(32), nullable=True),
    )
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {ENGINE_SCHEMA}")
    conn.exec_driver_sql(f"SET LOCAL search_path TO {ENGINE_SCHEMA}")
    # SQLAlchemy hands psycopg an empty parameter list: a literal % must be doubled.
    conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    conn.exec_driver_sql("RESET search_path")
    for table in CHURNING:
        conn.exec_driver_sql(
            f"ALTER TABLE {ENGINE_SCHEMA}.{table} SET (autovacuum_vacuum_scale_factor = 0.05, "
            "autovacuum_analyze_scale_factor = 0.05)"
        )
        conn.exec_driver_sql(f"ANALYZE {ENGINE_SCHEMA}.{table}")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {ENGINE_SCHEMA} CASCADE")
    op.drop_table("cluster_workers")
    op.drop_index("ix_sources_next_run_at", "sources")
    op.execute("ALTER TABLE sources DROP COLUMN last_worker")
