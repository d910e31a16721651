"""The procrastinate app of a cluster, and the shape of its poll jobs.

Every engine connection sets `search_path=procrastinate`: the engine's tables, functions and
triggers live in their own PostgreSQL schema (installed by migration 0005), apart from
vigie's. The pool is in autocommit: each engine call is one statement, BEGIN/COMMIT around
it would double the statements per job (measured: 6 against 2). `configure` does it, not
`kwargs={"autocommit": True}`, which the engine's listener connection refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import procrastinate
from procrastinate.jobs import Job
from sqlalchemy.engine import make_url

from storage.cluster import ENGINE_SCHEMA, SOURCE_IDS

POLL_TASK = "vigie.poll"
PRUNE_TASK = "vigie.prune"
QUEUE = "polls"
POOL_TIMEOUT = 60.0  # seconds an engine call waits for a connection: rides out outages

# The engine logs every job at INFO with large extra dicts.
logging.getLogger("procrastinate").setLevel(logging.WARNING)


class ClusterSettings(Protocol):
    """`[cluster]` (vigie/config.py)."""

    @property
    def batch(self) -> int: ...  # sources per job
    @property
    def concurrency(self) -> int: ...  # jobs a worker runs at once
    @property
    def heartbeat(self) -> float: ...
    @property
    def stall_after(self) -> float: ...
    @property
    def tick(self) -> float: ...
    @property
    def worker_name(self) -> str | None: ...


def conninfo(storage_url: str) -> str:
    """A libpq URL for psycopg from the store's SQLAlchemy URL."""
    url = make_url(storage_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def connect_options(**settings: str) -> str:
    """libpq `options` for an engine connection: its search_path, and more settings."""
    pairs = {"search_path": ENGINE_SCHEMA} | settings
    return " ".join(f"-c {k}={v}" for k, v in pairs.items())


async def _autocommit(conn: Any) -> None:
    await conn.set_autocommit(True)


def make_app(storage_url: str, *, max_size: int = 4, autocommit: bool = True) -> procrastinate.App:
    """The engine app over the store's database; open it with `open_async()` (a sync
    `open()`, as the engine's CLI does, needs `autocommit=False`: it would not await it)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(storage_url),
        kwargs={"options": connect_options()},
        configure=_autocommit if autocommit else None,
        min_size=1,
        max_size=max_size,
        timeout=POOL_TIMEOUT,
    )
    return procrastinate.App(connector=connector)


def poll_jobs(due: Sequence[tuple[int, str, datetime]], batch: int) -> list[Job]:
    """Jobs for due sources (id, name, when due), `batch` sources each. With one source a
    job, the engine's `lock` (never two runs at once) and `queueing_lock` (never two
    waiting) are the source's; batched, the dispatcher's exclusion of busy sources and the
    save fence keep that. A job is scheduled at when its first source was due: it can run
    at once, and the queue's oldest `scheduled_at` is how late polling is."""
    jobs = []
    for i in range(0, len(due), batch):
        part = due[i : i + batch]
        key = f"source:{part[0][0]}" if batch == 1 else None
        jobs.append(
            Job(
                queue=QUEUE,
                task_name=POLL_TASK,
                lock=key,
                queueing_lock=key,
                scheduled_at=min(d for _, _, d in part),
                task_kwargs={
                    SOURCE_IDS: [i for i, _, _ in part],
                    "names": [n for _, n, _ in part],
                    "due": [d.timestamp() for _, _, d in part],
                },
            )
        )
    return jobs
