"""What the active scheduler does: defer the due sources as engine jobs, and take back the
jobs of workers that died.

When a source is due is the store's: each poll's save writes the source's `next_run_at`
(scheduler/policy.py: adaptive interval, backoff, Retry-After, ended lives), and every
`tick` the active scheduler defers the sources due now that no job waits for or runs
(storage/cluster.py). It holds no per-source state, so a scheduler that takes over starts
where the last one stopped. Deferred in one statement, through the leader's connection
(scheduler/cluster/leader.py: a deposed scheduler cannot enqueue).

The engine does not take back a dead worker's jobs by itself: every heartbeat the active
scheduler finishes, as failed, the running jobs of workers silent for `stall_after`; their
sources are still due (nothing was saved), so the next tick defers them again. A worker is
judged against the freshest heartbeat and not while the database or this scheduler was
away (everyone's heartbeat is old after an outage).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.jobs import Job, Status

from scheduler.cluster.engine import POLL_TASK, ClusterSettings, poll_jobs
from scheduler.cluster.leader import Leadership
from storage.cluster import SOURCE_IDS, due_sources, prune_workers
from storage.db import Store

log = logging.getLogger("vigie.cluster")

DUE_LIMIT = 5000  # sources deferred per tick at most: a huge backlog is fed in slices
FORGET_AFTER = timedelta(days=1)  # a silent process's registry row is deleted then


class Dispatcher:
    def __init__(
        self,
        store: Store,
        app: procrastinate.App,
        leader: Leadership,
        cluster: ClusterSettings,
    ) -> None:
        self.store = store
        self.app = app
        self.leader = leader
        self.cluster = cluster
        self.source_ids: list[int] = []  # the enabled sources (set by the node)
        self.deferred = 0
        self.recovered = 0
        self._last_recovery = 0.0
        self._quiet_until = 0.0  # no recovery before then (an outage just ended)

    async def tick(self) -> int:
        """Defer the sources due now, if this scheduler is the active one; how many."""
        if not await self.leader.check() or not self.source_ids:
            return 0
        now = datetime.now(UTC)
        try:
            due = await asyncio.to_thread(self._due, now)
        except Exception as exc:
            log.warning("dispatch: cannot read the due sources: %s", exc)
            self._quiet()
            return 0
        if not due:
            return 0
        jobs = poll_jobs([(i, n, d or now) for i, n, d in due], self.cluster.batch)
        deferred = await self._defer(jobs)
        self.deferred += deferred
        return deferred

    def _due(self, now: datetime) -> list[tuple[int, str, datetime | None]]:
        with self.store.read_session() as session:
            return due_sources(session, self.source_ids, POLL_TASK, now, DUE_LIMIT)

    async def _defer(self, jobs: Sequence[Job]) -> int:
        """Defer jobs through the leader's connection: in one statement; one at a time when
        one of them conflicts (a source whose job just finished was read as due while its
        next run was being saved); none if the lock was lost meanwhile."""
        manager = self.app.job_manager
        conn = self.leader.conn
        try:
            await manager.batch_defer_jobs_async(list(jobs), connection=conn)
            return len(jobs)
        except AlreadyEnqueued:
            pass
        except (ConnectorException, psycopg.Error, OSError) as exc:
            log.warning("dispatch: cannot defer: %s", exc)
            await self.leader.drop()
            return 0
        done = 0
        for job in jobs:
            try:
                await manager.batch_defer_jobs_async([job], connection=conn)
                done += 1
            except AlreadyEnqueued:
                continue
            except (ConnectorException, psycopg.Error, OSError) as exc:
                log.warning("dispatch: cannot defer: %s", exc)
                await self.leader.drop()
                break
        return done

    def _quiet(self) -> None:
        self._quiet_until = time.monotonic() + self.cluster.stall_after

    async def recover(self) -> int:
        """Take back the running jobs of dead workers; how many."""
        now = time.monotonic()
        gap = now - self._last_recovery
        self._last_recovery = now
        if gap > 3 * self.cluster.heartbeat:
            self._quiet()  # this process was stalled, or just started: heartbeats lag
        if not self.leader.active:
            return 0
        if now < self._quiet_until or now - self.leader.since < self.cluster.stall_after:
            return 0
        manager = self.app.job_manager
        try:
            if not await self._someone_alive():
                return 0  # the database was away, or every worker is: nobody to run them
            stalled = await manager.get_stalled_jobs(
                task_name=POLL_TASK, seconds_since_heartbeat=self.cluster.stall_after
            )
            for job in stalled:
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=True)
                log.warning(
                    "took back job %s of dead worker %s: sources %s polled again",
                    job.id,
                    job.worker_id,
                    job.task_kwargs.get(SOURCE_IDS),
                )
        except Exception as exc:  # the database, mostly: try again at the next heartbeat
            log.warning("recovery: %s: %s", type(exc).__name__, exc)
            self._quiet()
            return 0
        self.recovered += len(stalled)
        return len(stalled)

    async def _someone_alive(self) -> bool:
        """Whether some engine worker sent a heartbeat within `stall_after`."""
        rows = await self.app.connector.execute_query_all_async(
            "SELECT 1 AS ok FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => %(secs)s) LIMIT 1",
            secs=self.cluster.stall_after,
        )
        return bool(rows)

    async def prune(self) -> None:
        """Forget dead workers: the engine's rows, and the registry's after a day."""
        if not self.leader.active:
            return
        try:
            await self.app.job_manager.prune_stalled_workers(self.cluster.stall_after * 10)
            before = datetime.now(UTC) - FORGET_AFTER
            await asyncio.to_thread(self._prune_registry, before)
        except Exception as exc:
            log.warning("prune: %s", exc)

    def _prune_registry(self, before: datetime) -> None:
        with self.store.session() as session:
            prune_workers(session, before)
