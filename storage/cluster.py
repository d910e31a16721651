"""What cluster mode keeps in the store besides the engine's own tables: the registry of
the cluster's processes (`cluster_workers`), the active scheduler's due query, the save
fence, and what /health and /metrics read of the engine's queue.

The engine (procrastinate, driven by scheduler/cluster/) owns the `procrastinate` schema;
this module only reads its job table by name, in plain SQL: a poll job carries its sources'
ids under `SOURCE_IDS` in its arguments. Nothing here imports the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from storage.models import ClusterWorker, Source

ENGINE_SCHEMA = "procrastinate"
JOBS = f"{ENGINE_SCHEMA}.procrastinate_jobs"
SOURCE_IDS = "source_ids"  # the job argument listing the sources a poll job polls
LIVE_HEARTBEATS = 3  # a process is live while its last heartbeat is this many intervals old


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    """One heartbeat of a process: its row in `cluster_workers`, as it is now."""

    name: str
    role: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_every: float
    running: int
    polls: int
    errors: int
    active_scheduler: bool
    engine_id: int | None
    version: str | None


def beat(session: Session, row: WorkerBeat) -> None:
    """Write a process's heartbeat (its row created or rewritten)."""
    values = asdict(row)
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(ClusterWorker).values(values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], set_={k: stmt.excluded[k] for k in values if k != "name"}
            )
        )
    else:
        session.merge(ClusterWorker(**values))


def leave(session: Session, name: str) -> None:
    """A process that stops cleanly takes its row out (a killed one ages out)."""
    session.execute(delete(ClusterWorker).where(ClusterWorker.name == name))


def workers(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every registered process, live ones first, with `live` and `heartbeat_age` (s)."""
    out = []
    for w in session.execute(select(ClusterWorker)).scalars():
        age = max(0.0, (now - w.heartbeat_at).total_seconds())
        out.append(
            {
                "name": w.name,
                "role": w.role,
                "host": w.host,
                "pid": w.pid,
                "live": age <= LIVE_HEARTBEATS * w.heartbeat_every,
                "active_scheduler": w.active_scheduler,
                "running": w.running,
                "polls": w.polls,
                "errors": w.errors,
                "heartbeat_age": round(age, 1),
                "heartbeat_at": w.heartbeat_at,
                "started_at": w.started_at,
                "engine_id": w.engine_id,
                "version": w.version,
            }
        )
    out.sort(key=lambda w: (not w["live"], w["role"], w["name"]))
    return out


def prune_workers(session: Session, before: datetime) -> int:
    """Forget the processes silent since `before` (killed, or their host gone)."""
    result = session.execute(delete(ClusterWorker).where(ClusterWorker.heartbeat_at < before))
    return result.rowcount


_DUE = text(
    f"""
    WITH busy AS (
        SELECT DISTINCT (jsonb_array_elements_text(args->'{SOURCE_IDS}'))::int AS id
          FROM {JOBS}
         WHERE task_name = :task AND status IN ('todo', 'doing')
    )
    SELECT s.id, s.name, s.next_run_at FROM sources s
     WHERE s.id = ANY(:ids) AND NOT s.ended AND NOT s.gone
       AND (s.next_run_at IS NULL OR s.next_run_at <= :now)
       AND s.id NOT IN (SELECT id FROM busy)
     ORDER BY s.next_run_at NULLS FIRST, s.id
     LIMIT :limit
    """
)


def due_sources(
    session: Session, source_ids: Sequence[int], task: str, now: datetime, limit: int
) -> list[tuple[int, str, datetime | None]]:
    """Of these sources, those due at `now` (never polled counts as due) that no job of
    `task` waits for or runs: (id, name, when it was due), most overdue first."""
    params = {"ids": list(source_ids), "task": task, "now": now, "limit": limit}
    return [(r[0], r[1], r[2]) for r in session.execute(_DUE, params)]


_FENCE = text(
    f"SELECT id FROM {JOBS} WHERE id = ANY(:ids) AND status = 'doing' AND worker_id = :wid "
    "FOR SHARE"
)


def jobs_still_ours(session: Session, engine_worker: int, job_ids: Sequence[int]) -> set[int]:
    """Of these jobs, those the engine still says this worker runs; they stay so until the
    caller's transaction ends (a recovery that would take one back waits for it). A job
    missing here was taken back (its worker was thought dead): its poll must not save."""
    rows = session.execute(_FENCE, {"ids": list(job_ids), "wid": engine_worker})
    return set(rows.scalars())


# A poll job is deferred with `scheduled_at` = when its sources were due (scheduler/cluster/).
_QUEUE = text(
    f"SELECT status::text, count(*), min(scheduled_at) FROM {JOBS} "
    "WHERE task_name = :task AND status IN ('todo', 'doing') GROUP BY status"
)


@dataclass(frozen=True, slots=True)
class QueueState:
    waiting: int  # jobs deferred, not started
    running: int
    oldest_wait: float  # seconds since the sources of the oldest waiting job were due


def queue_state(session: Session, task: str, now: datetime) -> QueueState:
    """The engine's queue of `task` jobs, now (PostgreSQL only)."""
    waiting = running = 0
    oldest = 0.0
    for status, count, due in session.execute(_QUEUE, {"task": task}):
        if status == "todo":
            waiting = count
            if due is not None:
                oldest = max(0.0, (now - due).total_seconds())
        else:
            running = count
    return QueueState(waiting, running, oldest)


def overdue_sources(session: Session, now: datetime, late: timedelta) -> int:
    """Enabled sources (any stored one not ended or gone) due more than `late` ago."""
    rows = session.execute(
        select(Source.id).where(
            Source.ended.is_(False), Source.gone.is_(False), Source.next_run_at < now - late
        )
    )
    return len(rows.all())
