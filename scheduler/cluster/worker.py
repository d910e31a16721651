"""A worker process's engine loop: it takes poll jobs and runs them through the `Poller`,
on the event loop of the long-lived crawler.

A job polls its sources at once and never fails for what a source did (`Poller.poll`
turns every failure into a report, saved with its backoff): the engine's retries are not
used, the due query is the retry (a source whose poll saved nothing is still due). Each
save is fenced by the job (scheduler/store_steps.py): a worker taken for dead whose job was
taken back writes nothing.

The engine's worker stops on a database outage longer than its pool's timeout, and on a
failed side task (heartbeat, listener): the loop here starts it again with a backoff, and
the crawler and the store outlive it. The engine's side-task monitor only watches while a
periodic task is registered (engine 3.10): `vigie.prune` is that task, and prunes the
engine's dead workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import procrastinate
from procrastinate.worker import Worker

from scheduler.cluster.engine import POLL_TASK, PRUNE_TASK, QUEUE, ClusterSettings
from scheduler.config import DaemonSettings
from scheduler.jobs import Poller
from scheduler.metrics import observe_lateness

log = logging.getLogger("vigie.cluster")

FETCH_EVERY = 1.0  # seconds: a job whose wake-up was lost waits no longer (engine 3.10)
STOP_GRACE = 5.0  # seconds running polls may take to finish on a stop
RESTART_BACKOFF = (1.0, 30.0)


class PollWorker:
    """Runs poll jobs for `poller`, named `name`, until `stop()`."""

    def __init__(
        self,
        app: procrastinate.App,
        poller: Poller,
        config: DaemonSettings,
        cluster: ClusterSettings,
        name: str,
    ) -> None:
        self.app = app
        self.poller = poller
        self.config = config
        self.cluster = cluster
        self.name = name
        self.engine: Worker | None = None
        self._stopping = asyncio.Event()
        self._register()

    @property
    def engine_id(self) -> int | None:
        """The engine's id of this worker now (a new one at each restart of its loop)."""
        return self.engine.worker_id if self.engine is not None else None

    def _register(self) -> None:
        app = self.app

        @app.task(name=POLL_TASK, queue=QUEUE, pass_context=True)
        async def poll(ctx: Any, source_ids: list[int], names: list[str], due: list[float]) -> None:
            await self.run_job(ctx.job.id, source_ids, names, due)

        @app.periodic(cron="*/5 * * * *", periodic_id="vigie-prune")
        @app.task(name=PRUNE_TASK, queue=QUEUE)
        async def prune(timestamp: int) -> None:
            await app.job_manager.prune_stalled_workers(10 * self.cluster.stall_after)

    async def run_job(
        self, job: int | None, source_ids: list[int], names: list[str], due: list[float]
    ) -> None:
        """Poll the sources of one job."""
        polls = []
        now = time.time()
        for source_id, name, when in zip(source_ids, names, due, strict=True):
            try:
                source = self.config.source(name)
            except KeyError:
                log.warning("job %s: source %r is not in this worker's config: skipped", job, name)
                continue
            if not source.enabled:
                continue
            self.poller.source_ids[name] = source_id
            observe_lateness(now - when)
            polls.append(self.poller.poll(source, job=job))
        await asyncio.gather(*polls)

    async def run(self) -> None:
        """The engine's worker loop, started again after it fails, until `stop()`."""
        backoff = RESTART_BACKOFF[0]
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                async with self.app.open_async():
                    self.engine = Worker(
                        app=self.app,
                        queues=[QUEUE],
                        name=self.name,
                        concurrency=self.cluster.concurrency,
                        fetch_job_polling_interval=FETCH_EVERY,
                        abort_job_polling_interval=FETCH_EVERY * 5,
                        shutdown_graceful_timeout=STOP_GRACE,
                        listen_notify=True,
                        delete_jobs="always",
                        install_signal_handlers=False,
                        update_heartbeat_interval=self.cluster.heartbeat,
                        stalled_worker_timeout=self.cluster.stall_after,
                    )
                    await self.engine.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("engine worker stopped (%s: %s): restarting", type(exc).__name__, exc)
            finally:
                self.engine = None
            if time.monotonic() - started > RESTART_BACKOFF[1]:
                backoff = RESTART_BACKOFF[0]  # it ran a while: a new failure, not a loop
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(backoff * 2, RESTART_BACKOFF[1])

    def stop(self) -> None:
        """Stop taking jobs; running ones get `STOP_GRACE` to finish."""
        self._stopping.set()
        if self.engine is not None:
            self.engine.stop()
