"""`vigie workers`: the processes that poll (a cluster's schedulers and workers, or the one
daemon), as their heartbeat rows say: role, load, last heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from vigie.shell import check_format, config, open_store

WORKER_FIELDS = (
    "name",
    "role",
    "host",
    "pid",
    "live",
    "active_scheduler",
    "running",
    "polls",
    "errors",
    "heartbeat_age",
    "heartbeat_at",
    "started_at",
    "version",
)
WORKER_TABLE = (
    "name",
    "role",
    "live",
    "active_scheduler",
    "running",
    "polls",
    "errors",
    "heartbeat_age",
)


def workers(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    every: Annotated[bool, typer.Option("--all", help="Dead ones too (up to a day)")] = False,
) -> None:
    """The live processes that poll (cluster or daemon): role, load and last heartbeat."""
    from storage.cluster import workers as registered
    from vigie.output import write_rows

    check_format(fmt, ("table", "json"))
    with open_store(config(channels=False)) as store, store.read_session() as session:
        rows = registered(session, datetime.now(UTC))
    write_rows(
        [r for r in rows if every or r["live"]],
        fmt,
        columns=WORKER_FIELDS,
        table_columns=WORKER_TABLE,
    )
