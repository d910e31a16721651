"""One process of a cluster in its role: `scheduler` (defers due polls; one of several is
active), `worker` (runs them through the crawler) or `all` (both, in one event loop).

Signals as the daemon's: SIGTERM/SIGINT stop (running polls get a grace period), SIGHUP
reads the config again ([[sources]] and [scheduler]; a bad file is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from crawler.runner import CrawlService
from scheduler import retention
from scheduler.alerts.sender import Sender
from scheduler.alerts.setup import AlertSetup
from scheduler.cluster.dispatch import Dispatcher
from scheduler.cluster.engine import ClusterSettings, make_app
from scheduler.cluster.leader import Leadership
from scheduler.cluster.registry import Load, Registry, default_name
from scheduler.cluster.worker import STOP_GRACE, PollWorker
from scheduler.config import DaemonSettings
from scheduler.jobs import Poller
from storage.db import Store
from storage.sources import ensure_sources

log = logging.getLogger("vigie.cluster")

ROLES = ("scheduler", "worker", "all")
PRUNE_EVERY = 60.0
RETENTION_AFTER = timedelta(seconds=60)
RETRY_EVERY = 2.0  # seconds between tries of a start-up step the database refused


class ClusterNode:
    def __init__(
        self, config: DaemonSettings, cluster: ClusterSettings, store: Store, role: str
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        self.config = config
        self.cluster = cluster
        self.store = store
        self.role = role
        self.name = cluster.worker_name or default_name()
        self.stop_event = asyncio.Event()
        self.crawler: CrawlService | None = None
        self.poller: Poller | None = None
        self.worker: PollWorker | None = None
        self.dispatcher: Dispatcher | None = None
        self.timer: AsyncIOScheduler | None = None
        self.sender: Sender | None = None
        self.sending: asyncio.Task[None] | None = None
        self.registry = Registry(store, self.name, role, cluster.heartbeat, self._load)

    def _load(self) -> Load:
        return Load(
            running=self.poller.running if self.poller else 0,
            polls=self.poller.polls if self.poller else 0,
            errors=self.poller.errors if self.poller else 0,
            active_scheduler=bool(self.dispatcher and self.dispatcher.leader.active),
            engine_id=self.worker.engine_id if self.worker else None,
        )

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        tasks = [asyncio.create_task(self.registry.run(self.stop_event), name="heartbeat")]
        try:
            if self.role in ("worker", "all"):
                tasks.append(asyncio.create_task(await self._start_worker(), name="worker"))
            if self.role in ("scheduler", "all"):
                await self._start_scheduler()
            log.info(
                "cluster %s %s started: %d sources", self.role, self.name, len(self.config.sources)
            )
            await self.stop_event.wait()
        finally:
            await self._shutdown(tasks)

    async def _start_worker(self):  # type: ignore[no-untyped-def]
        self.crawler = CrawlService(self.config.crawler)
        await self.crawler.start()
        self.poller = Poller(
            self.config,
            self.store,
            self.crawler,
            worker=self.name,
            engine_worker=lambda: self.worker.engine_id if self.worker else None,
        )
        app = make_app(self.store.url, max_size=max(4, self.cluster.concurrency // 4))
        self.worker = PollWorker(app, self.poller, self.config, self.cluster, self.name)
        # Every worker sends the alerts, as the one daemon does: deliveries are claimed per
        # sender (storage/alert_deliveries.py), so several senders never send one twice.
        setup = self.config.alert_setup() or AlertSetup()
        self.sender = Sender(self.store, setup, self.name, write=self.poller.queue.call)
        self.poller.alerts_written = self.sender.wake
        self.sending = asyncio.create_task(self.sender.run(self.stop_event), name="alerts")
        return self.worker.run()

    async def _start_scheduler(self) -> None:
        app = make_app(self.store.url, max_size=2)
        await self._until_done(app.open_async, "open the engine")
        self.dispatcher = Dispatcher(self.store, app, Leadership(self.store.url), self.cluster)
        await self._until_done(self._sync_sources, "sync the sources")
        self.timer = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        now = datetime.now(UTC)
        every = (
            (self.dispatcher.tick, self.cluster.tick, now),
            (self.dispatcher.recover, self.cluster.heartbeat, now),
            (self.dispatcher.prune, PRUNE_EVERY, now),
            # Once the first ticks have told whether this scheduler is the active one.
            (self._forget_old_polls, retention.EVERY, now + RETENTION_AFTER),
        )
        for job, seconds, first in every:
            self.timer.add_job(
                job,
                IntervalTrigger(seconds=seconds),
                next_run_time=first,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        self.timer.start()

    async def _forget_old_polls(self) -> None:
        """The active scheduler prunes the crawl records, as the one daemon does."""
        dispatcher = self.dispatcher
        if dispatcher is None or not dispatcher.leader.active:
            return

        def stopped() -> bool:  # between two batches: a stop, or another scheduler active
            return self.stop_event.is_set() or not dispatcher.leader.active

        try:
            pruned = await retention.prune_once(
                self._in_transaction,
                self.config.storage.keep_crawl_runs,
                datetime.now(UTC),
                stopped,
            )
            if pruned:
                log.info("retention: %d crawl records pruned", pruned)
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("retention: %s", exc)

    async def _in_transaction(self, fn: Callable[[Session], int]) -> int:
        def step() -> int:
            with self.store.session() as session:
                return fn(session)

        return await asyncio.to_thread(step)

    async def _until_done(self, step, what: str) -> None:  # type: ignore[no-untyped-def]
        """Run a start-up step, again every RETRY_EVERY while the database refuses it."""
        warned = False
        while not self.stop_event.is_set():
            try:
                result = step()
                if inspect.isawaitable(result):
                    await result
                return
            except Exception as exc:
                if not warned:
                    log.warning("cannot %s yet (%s): trying again", what, exc)
                warned = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), RETRY_EVERY)

    async def _sync_sources(self) -> None:
        def sync() -> list[int]:
            with self.store.session() as session:
                ids = ensure_sources(
                    session, [(s.name, s.url, s.kind) for s in self.config.sources]
                )
            return [ids[s.name] for s in self.config.enabled_sources()]

        assert self.dispatcher is not None
        self.dispatcher.source_ids = await asyncio.to_thread(sync)

    async def reload(self) -> None:
        """SIGHUP: the config read again; the old one runs on when the new one is bad."""
        try:
            new = await asyncio.to_thread(self.config.reloaded, self.config.path)
        except Exception as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return
        self.config = new
        if self.poller is not None and self.worker is not None:
            self.poller.config = self.worker.config = new
        if self.sender is not None:
            self.sender.configure(new.alert_setup() or AlertSetup())
        if self.dispatcher is not None:
            try:
                await self._sync_sources()
            except Exception as exc:
                log.error("reload: cannot sync the sources: %s", exc)
                return
        log.info("config reloaded: %d sources enabled", len(new.enabled_sources()))

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        log.info("cluster %s %s stopping", self.role, self.name)
        self.stop_event.set()
        if self.timer is not None:
            self.timer.shutdown(wait=False)
        if self.poller is not None:
            self.poller.stopping = True
        if self.worker is not None:
            self.worker.stop()
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE * 3)
        for task in late:
            task.cancel()
        if self.sending is not None:  # before the store queue it writes through closes
            await asyncio.wait([self.sending], timeout=STOP_GRACE)
        if self.crawler is not None:
            await self.crawler.stop()
        if self.poller is not None:
            self.poller.close()
        if self.dispatcher is not None:
            await self.dispatcher.leader.drop()
            with contextlib.suppress(Exception):
                await self.dispatcher.app.close_async()
        await asyncio.to_thread(self.registry.leave)
        log.info("cluster %s %s stopped", self.role, self.name)
