"""The daemon: APScheduler 3 on the shared asyncio loop, one job per enabled source.

Each source's job is a one-shot date trigger that reschedules itself to the `next_run_at`
the poll decided (adaptive interval, backoff, end of coverage), so the schedule always
equals what the database says and a restart resumes it. `max_instances=1` and coalescing
keep a slow source from piling up runs; jobs never wait on each other.
Signals: SIGTERM/SIGINT stop (in-flight crawls get a grace period, then are abandoned
without writing), SIGHUP reloads the config file (a bad one is refused, the old one runs;
live blogs that ended and pages that are gone stay unpolled, unless re-pointed).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from crawler.runner import CrawlService
from scheduler.alerts.sender import Sender
from scheduler.alerts.setup import AlertSetup
from scheduler.config import DaemonSettings
from scheduler.jobs import Poller, now_utc
from scheduler.retention import prune_forever
from scheduler.store_steps import Clock
from storage import leases
from storage.db import Store
from storage.sources import sources_overview

log = logging.getLogger("vigie.daemon")

STOP_GRACE = 5.0  # seconds in-flight polls may take to finish after SIGTERM
RESCHEDULE_GAP = timedelta(milliseconds=20)  # see _run_source
STARTUP_SPREAD = 0.2  # seconds between overdue sources at start, to avoid a thundering herd


class Daemon:
    def __init__(
        self,
        config: DaemonSettings,
        store: Store,
        config_path: Path | None = None,
        *,
        clock: Clock = now_utc,
    ) -> None:
        """`config_path`: the file SIGHUP reads again (else the config's own); `clock`:
        what time it is, for every schedule decision (APScheduler fires jobs by its own)."""
        self.config = config
        self.config_path = config_path or config.path
        self.store = store
        self.clock = clock
        self.crawler = CrawlService(config.crawler)
        self.owner = leases.worker_id()
        self.poller = Poller(
            config, store, self.crawler, owner=self.owner, sticky=True, clock=clock
        )
        self.scheduler: AsyncIOScheduler | None = None
        self.stop_event = asyncio.Event()
        self.running: dict[str, asyncio.Task[object]] = {}
        self.sender = Sender(
            store, config.alert_setup() or AlertSetup(), self.owner, write=self.poller.queue.call
        )
        self.sending: asyncio.Task[None] | None = None
        self.pruning: asyncio.Task[None] | None = None
        self.poller.alerts_written = self.sender.wake

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        # Handlers first: a SIGTERM that comes while the crawler starts is a clean stop too,
        # not the default action (killed with -15 before anything was set up).
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        await self.crawler.start()
        await asyncio.to_thread(self.poller.sync_sources)
        self.scheduler = AsyncIOScheduler(event_loop=loop, timezone=UTC)
        self.scheduler.start()
        self._schedule_all()
        self.sending = asyncio.ensure_future(self.sender.run(self.stop_event))
        self.pruning = asyncio.ensure_future(
            prune_forever(
                lambda fn: self.poller.queue.run(fn, alone=True),
                lambda: self.config.storage.keep_crawl_runs,
                self.clock,
                self.stop_event,
            )
        )
        log.info(
            "daemon started: %d sources, worker %s", len(self.config.enabled_sources()), self.owner
        )
        try:
            await self.stop_event.wait()
        finally:
            await self._shutdown()

    def _schedule_all(self) -> None:
        with self.store.session() as session:
            states = sources_overview(session, [s.name for s in self.config.sources])
        now = self.clock()
        overdue = 0
        for source in self.config.enabled_sources():
            st = states.get(source.name, {})
            if st.get("ended") or st.get("gone"):
                continue
            when = st.get("next_run_at")
            if when is None or when <= now:
                when = now + timedelta(seconds=STARTUP_SPREAD * overdue)
                overdue += 1
            self._schedule(source.name, when)

    def _schedule(self, name: str, when: datetime) -> None:
        assert self.scheduler is not None
        self.scheduler.add_job(
            self._run_source,
            trigger=DateTrigger(run_date=when),
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    async def _run_source(self, name: str) -> None:
        try:
            source = self.config.source(name)
        except KeyError:
            return  # removed by a reload while it waited
        if not source.enabled or self.stop_event.is_set():
            return
        task = asyncio.current_task()
        if task is not None:
            self.running[name] = task
        try:
            report = await self.poller.poll(source)
        finally:
            self.running.pop(name, None)
        if self.stop_event.is_set() or report.status == "abandoned":
            return
        if report.status == "leased":
            # Another worker polls it; look again when its lease runs out (it may have died).
            now = self.clock()
            retry = max(report.next_run_at or now, now) + timedelta(seconds=1)
            self._schedule(name, retry)
            return
        if report.next_run_at is not None and self._still_wanted(name):
            # Never due at once: when the next run is already past (a save slower than the
            # interval), the new job would fire before this run has ended, be skipped
            # (max_instances) and, a date job, dropped: the source never polled again.
            self._schedule(name, max(report.next_run_at, self.clock() + RESCHEDULE_GAP))
        elif report.next_run_at is None and report.status != "error":
            log.info(
                "source %s: %s, no further polls", name, "ended" if report.ended else report.status
            )

    def _still_wanted(self, name: str) -> bool:
        return any(s.name == name and s.enabled for s in self.config.sources)

    async def reload(self) -> None:
        """SIGHUP: read the config again; apply it, or keep the old one if it is bad."""
        if self.scheduler is None:
            log.warning("reload: the daemon is still starting; send SIGHUP again once it runs")
            return
        try:
            new = await asyncio.to_thread(self.config.reloaded, self.config_path)
        except Exception as exc:  # a bad file (ConfigError), or whatever reading it raised
            log.error("reload refused, keeping the running config: %s", exc)
            return
        old = {s.name: s for s in self.config.sources}
        self.config = self.poller.config = new
        self.sender.configure(new.alert_setup() or AlertSetup())
        await asyncio.to_thread(self.poller.sync_sources)  # a new URL clears ended and gone
        finished = await asyncio.to_thread(self.poller.finished)
        assert self.scheduler is not None
        wanted = {s.name for s in new.enabled_sources()} - finished
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        now = self.clock()
        for source in new.enabled_sources():
            if source.name in finished:
                continue
            before = old.get(source.name)
            job = self.scheduler.get_job(source.name)
            moved = before is None or before.url != source.url or not before.enabled
            if moved or (job is None and source.name not in self.running):
                self._schedule(source.name, now)
            elif before.interval != source.interval and job is not None:
                soonest = now + timedelta(seconds=new.interval_of(source))
                if job.next_run_time and job.next_run_time > soonest:
                    self._schedule(source.name, soonest)
        log.info(
            "config reloaded: %d sources enabled, %d of them ended or gone",
            len(new.enabled_sources()),
            len(finished & {s.name for s in new.enabled_sources()}),
        )

    async def _shutdown(self) -> None:
        log.info("daemon stopping")
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.poller.stopping = True
        if self.running:
            await asyncio.wait(list(self.running.values()), timeout=STOP_GRACE)
        await self.crawler.stop()
        if self.running:
            await asyncio.wait(list(self.running.values()), timeout=STOP_GRACE)
        tasks = [t for t in (self.sending, self.pruning) if t is not None]
        if tasks:  # before the store queue they write through closes
            await asyncio.wait(tasks, timeout=STOP_GRACE)
        self.poller.close()  # after the store batch in flight, if any
        with self.store.session() as session:
            leases.release_all(session, self.owner)
        log.info("daemon stopped")
