"""One poll of one source: the store step before the crawl, the crawl, the store step after.

`Poller.poll` never raises: whatever the source or the store did ends as a `PollReport`
and a log line with fixed keys (source, status, new, changed, unchanged, duration). A poll
that raised (the store failed, or a bug) is recorded like a failed crawl, in a transaction
of its own: `last_status` "error", `last_error` "store: ..." or "internal: ExcType: ...",
and a next run with backoff, so the daemon tries again later instead of never.
Database work (scheduler/store_steps.py) runs on the store's thread so the shared event
loop keeps crawling meanwhile, batched with that of the other polls in flight
(`scheduler/batches.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError, StatementError

from crawler.models import CrawlResult
from crawler.runner import CrawlService
from scheduler.batches import StoreQueue
from scheduler.config import PollSettings, SourceSettings
from scheduler.metrics import observe_poll
from scheduler.policy import Outcome, next_state
from scheduler.store_steps import Cadence, Clock, CrawlContext, PollEnd, PollStart, PollSteps
from storage import leases
from storage.db import Store, StoreError
from storage.sources import ensure_sources, finished_sources

log = logging.getLogger("vigie.poll")
PG_STORE_THREADS = 4
ALONE_POSTS = 50  # a crawl with more posts is saved in a transaction of its own
ERROR_CHARS = 500  # of an exception's message kept in last_error


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PollReport:
    source: str
    status: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    pages: int = 0
    duration: float = 0.0
    error: str | None = None
    next_run_at: datetime | None = None
    ended: bool = False


class Poller:
    """Crawls sources of a config into a store, one poll at a time per source."""

    def __init__(
        self,
        config: PollSettings,
        store: Store,
        crawler: CrawlService,
        *,
        owner: str | None = None,
        sticky: bool = False,
        clock: Clock = now_utc,
        worker: str | None = None,
        engine_worker: Callable[[], int | None] | None = None,
    ) -> None:
        """`owner`: poll only sources whose lease this worker holds or can take.
        `sticky`: keep the lease between polls (the daemon), else release it after each.
        `clock`: what time it is (the schedule's decisions are taken from it).
        `worker`, `engine_worker`: cluster mode (scheduler/store_steps.py)."""
        self.config = config
        self.store = store
        self.crawler = crawler
        self.owner = owner
        self.clock = clock
        self.steps = PollSteps(
            owner,
            sticky=sticky,
            clock=clock,
            alerts=lambda: self.config.alert_setup(),
            worker=worker,
            engine_worker=engine_worker,
        )
        self.alerts_written: Callable[[], None] | None = None  # the daemon's sender, told
        self.running = 0  # polls in flight
        self.polls = 0  # polls done, and how many of them ended in error
        self.errors = 0
        self.source_ids: dict[str, int] = {}
        self.stopping = False
        # Failed polls the store could not record either (it is down): their backoff.
        self.unrecorded: dict[str, int] = {}
        # Store work runs off the event loop, which keeps crawling meanwhile, batched
        # across the polls that ask for it at once (scheduler/batches.py).
        threads = 1 if store.dialect == "sqlite" else PG_STORE_THREADS
        self.queue = StoreQueue(store, threads)

    def close(self) -> None:
        """Let the store thread go, once the batch it runs is done; the poller cannot poll
        any more. Called where its life ends (the daemon's stop, `run --once`, `crawl`)."""
        self.queue.close()

    def _lease_hold(self) -> timedelta:
        """How long one poll may take: a dead worker's claim expires after this."""
        c = self.config.crawler
        return timedelta(seconds=15 + c.timeout * (c.retries + 1))

    def _cadence(self, source: SourceSettings, ctx: CrawlContext | None = None) -> Cadence:
        s = self.config.scheduler
        return Cadence(
            base_interval=self.config.interval_of(source),
            current_interval=ctx.current_interval if ctx else None,
            failures=ctx.failures if ctx else 0,
            jitter=s.jitter,
            max_backoff=s.max_backoff,
        )

    def sync_sources(self) -> dict[str, int]:
        """Make sure every configured source has its row; remember their ids."""
        with self.store.session() as session:
            self.source_ids = ensure_sources(
                session, [(s.name, s.url, s.kind) for s in self.config.sources]
            )
            if self.owner is not None:
                leases.release_dead_local(session)
        return self.source_ids

    async def poll(
        self, source: SourceSettings, *, force_full: bool = False, job: int | None = None
    ) -> PollReport:
        """`job`: the engine job the poll runs in (cluster mode), which fences its save."""
        self.running += 1
        try:
            report = await self._poll_reported(source, force_full=force_full, job=job)
        finally:
            self.running -= 1
        self.polls += 1
        self.errors += report.status == "error"
        observe_poll(report.status, report.duration, report.new, report.changed)
        return report

    async def _poll_reported(
        self, source: SourceSettings, *, force_full: bool, job: int | None
    ) -> PollReport:
        started = time.monotonic()
        try:
            return await self._poll(source, force_full=force_full, job=job)
        except Exception as exc:  # the store failed, or a bug: record it, keep the daemon alive
            error = poll_error(exc)
            log.exception("poll of %s failed: %r", source.name, error)
            next_run = await asyncio.to_thread(self._record_failure, source, error, job)
            report = PollReport(
                source.name,
                "error",
                error=error,
                duration=time.monotonic() - started,
                next_run_at=next_run,
            )
            log_report(report)
            return report

    def _record_failure(
        self, source: SourceSettings, error: str, job: int | None = None
    ) -> datetime | None:
        """A poll that raised, saved as a failed crawl in a transaction of its own (the
        poll's may be what failed); the next run, with backoff. When the store cannot record
        it either, the backoff grows here until it can. `job`: fenced as a save is."""
        crawl = CrawlResult(source.name, source.url, status="error", error=error)
        try:
            with self.store.session() as session:
                source_id = self.source_ids.get(source.name)
                if source_id is None:
                    source_id = ensure_sources(session, [(source.name, source.url, source.kind)])[
                        source.name
                    ]
                stored = self.steps.record_failure(
                    session, source_id, crawl, self._cadence(source), job=job
                )
        except Exception:
            log.exception("store: cannot record the failed poll of %s", source.name)
            failures = self.unrecorded[source.name] = self.unrecorded.get(source.name, 0) + 1
            c = self._cadence(source)
            return next_state(  # type: ignore[no-any-return]
                now=self.clock(),
                base_interval=c.base_interval,
                current_interval=None,
                failures=failures - 1,
                outcome=Outcome(status="error"),
                jitter=c.jitter,
                max_backoff=c.max_backoff,
            )["next_run_at"]
        self.unrecorded.pop(source.name, None)
        return stored.next_run_at

    async def _poll(
        self, source: SourceSettings, *, force_full: bool, job: int | None
    ) -> PollReport:
        if source.name not in self.source_ids:
            await self.queue.call(self.sync_sources)
        source_id = self.source_ids[source.name]
        spec = self.config.spec(source)
        start = PollStart(
            source_id,
            spec.url,
            force_full=force_full,
            full_every=self.config.scheduler.full_every,
            lease_for=self._lease_hold(),
        )
        ctx = await self.queue.run_grouped(self.steps.start, start)
        if not isinstance(ctx, CrawlContext):
            log.debug("source %s is leased by another worker until %s", source.name, ctx.until)
            return PollReport(source.name, "leased", next_run_at=ctx.until)
        with self.queue.coming():  # its save: batches of saves wait for it a little
            result = await self.crawler.crawl(
                spec,
                validators=ctx.validators,
                full=ctx.full,
                known=ctx.known,
                had_posts=ctx.had_posts,
            )
        if self.stopping and result.status == "error" and not result.posts:
            return PollReport(source.name, "abandoned", error=result.error)
        end = PollEnd(
            source_id, result, self._cadence(source, ctx), had_posts=ctx.had_posts, job=job
        )
        if result.posts:
            stored = await self.queue.run(
                lambda session: self.steps.finish(session, end),
                alone=len(result.posts) > ALONE_POSTS,
            )
        else:
            stored = await self.queue.run_grouped(self.steps.finish_quiet, end)
        if stored.superseded:
            log.warning("source %s: its job was taken back from this worker, unsaved", source.name)
            return PollReport(source.name, "superseded", duration=result.duration)
        if stored.alerts and self.alerts_written is not None:
            self.alerts_written()  # committed: the sender need not wait for its next look
        counts = stored.counts
        report = PollReport(
            source=source.name,
            status=result.status,
            new=counts.new,
            changed=counts.changed,
            unchanged=counts.unchanged,
            pages=result.pages,
            duration=result.duration,
            error=result.error,
            next_run_at=stored.next_run_at,
            ended=result.ended,
        )
        log_report(report)
        return report

    def finished(self) -> set[str]:
        """Sources not to poll any more: ended live blogs and gone (410) pages."""
        with self.store.session() as session:
            return finished_sources(session)

    async def poll_many(
        self, sources: Sequence[SourceSettings], *, skip_finished: bool = False
    ) -> list[PollReport]:
        """Poll sources at once (each reading its whole blog); optionally skip finished ones."""
        await self.queue.call(self.sync_sources)
        if skip_finished:
            done = await self.queue.call(self.finished)
            for name in sorted(done & {s.name for s in sources}):
                log.info("source %s has ended or is gone: not polled", name)
            sources = [s for s in sources if s.name not in done]
        return list(await asyncio.gather(*(self.poll(s, force_full=True) for s in sources)))


def poll_error(exc: BaseException) -> str:
    """What `last_error` says of an exception a poll raised: "store: ..." when the database
    failed, "internal: ExcType: ..." for anything else (a bug)."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    message = " ".join(str(cause).split())[:ERROR_CHARS]
    if isinstance(exc, SQLAlchemyError | StoreError):
        return f"store: {type(cause).__name__}: {message}"
    if message.startswith("store: "):
        return message
    return f"internal: {type(exc).__name__}: {message}"


def log_report(r: PollReport) -> None:
    level = logging.WARNING if r.status in ("error", "gone") else logging.INFO
    if not log.isEnabledFor(level):
        return
    fields = {
        "source": r.source,
        "status": r.status,
        "new": r.new,
        "changed": r.changed,
        "unchanged": r.unchanged,
        "pages": r.pages,
        "duration": round(r.duration, 3),
    }
    if r.error:
        fields["error"] = r.error
    text = " ".join(f"{k}={v}" for k, v in fields.items() if k != "error")
    if r.error:
        text += f" error={r.error!r}"
    log.log(level, "crawl %s", text, extra={"fields": fields})
