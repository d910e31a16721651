"""One poll of one source: read its crawl state, crawl, decide the next run, save.

`Poller.poll` never raises: whatever the source or the store did ends as a `PollReport`
and a log line with fixed keys (source, status, new, changed, unchanged, duration). A poll
that raised (the store failed, or a bug) is recorded like a failed crawl, in a transaction
of its own: `last_status` "error", `last_error` "store: ..." or "internal: ExcType: ...",
and a next run with backoff, so the daemon tries again later instead of never.
Database work runs on the store's thread so the shared event loop keeps crawling
meanwhile, batched with that of the other polls in flight (`scheduler/batches.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from crawler.models import CrawlResult, RawPost, Validators
from crawler.runner import CrawlService
from scheduler.alerts.steps import record_crawl
from scheduler.batches import StoreQueue
from scheduler.policy import Outcome, next_state
from storage import leases
from storage.db import Store, StoreError
from storage.models import HttpValidator, Source
from storage.queries import known_posts
from storage.writes import SaveCounts, StateFn, ensure_sources, save_crawl, save_quiet_crawls
from vigie.config import Config, SourceConfig

log = logging.getLogger("vigie.poll")
PG_STORE_THREADS = 4
ALONE_POSTS = 50  # a crawl with more posts is saved in a transaction of its own
ERROR_CHARS = 500  # of an exception's message kept in last_error

# A poll's crawl state: the source's counters (read by the lease claim itself when there
# is one) and its page's validators; statements built once, for a batch of sources.
_STATE = ("had_posts", "polls", "failures", "current_interval")
_SOURCES = Source.__table__
_SOURCE_STATES = select(_SOURCES.c.id, *(_SOURCES.c[c] for c in _STATE)).where(
    _SOURCES.c.id.in_(bindparam("source_ids", expanding=True))
)
_V = HttpValidator.__table__.c
_VALIDATORS = select(_V.source_id, _V.url, _V.etag, _V.last_modified).where(
    _V.source_id.in_(bindparam("source_ids", expanding=True))
)


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


@dataclass(slots=True)
class _Context:
    source_id: int
    validators: Validators | None
    had_posts: bool
    polls: int
    failures: int
    current_interval: float | None


@dataclass(frozen=True, slots=True)
class _Alerted:
    """What the alerts need of a poll besides its crawl: the source's name and state
    before the crawl, and the schedule state the save decided (filled in by `decide`)."""

    source: str
    had_posts: bool
    failures: int
    state: dict[str, Any]
    events: list[int] = field(default_factory=list)  # written by the save, once it ran


class Poller:
    """Crawls sources of a config into a store, one poll at a time per source."""

    def __init__(
        self,
        config: Config,
        store: Store,
        crawler: CrawlService,
        *,
        owner: str | None = None,
        sticky: bool = False,
    ) -> None:
        """`owner`: poll only sources whose lease this worker holds or can take.
        `sticky`: keep the lease between polls (the daemon), else release it after each."""
        self.config = config
        self.store = store
        self.crawler = crawler
        self.owner = owner
        self.sticky = sticky
        self.source_ids: dict[str, int] = {}
        self.stopping = False
        # Failed polls the store could not record either (it is down): their backoff.
        self.unrecorded: dict[str, int] = {}
        # Store work runs off the event loop, which keeps crawling meanwhile, batched
        # across the polls that ask for it at once (scheduler/batches.py).
        threads = 1 if store.dialect == "sqlite" else PG_STORE_THREADS
        self.queue = StoreQueue(store, threads)
        self.alerts_written: Callable[[], None] | None = None  # the daemon's sender, told

    def close(self) -> None:
        """Let the store thread go, once the batch it runs is done; the poller cannot poll
        any more. Called where its life ends (the daemon's stop, `run --once`, `crawl`)."""
        self.queue.close()

    def _lease_hold(self) -> timedelta:
        """How long one poll may take: a dead worker's claim expires after this."""
        c = self.config.crawler
        return timedelta(seconds=15 + c.timeout * (c.retries + 1))

    def _lease_after(self, source: SourceConfig, next_run: datetime | None) -> dict[str, Any]:
        if self.owner is None:
            return {}
        if not self.sticky or next_run is None:
            return {"lease_owner": None, "lease_until": None}
        grace = timedelta(seconds=min(max(10.0, self.config.interval_of(source)), 60.0))
        return {"lease_owner": self.owner, "lease_until": next_run + grace}

    def sync_sources(self) -> dict[str, int]:
        """Make sure every configured source has its row; remember their ids."""
        with self.store.session() as session:
            self.source_ids = ensure_sources(
                session, [(s.name, s.url, s.kind) for s in self.config.sources]
            )
            if self.owner is not None:
                leases.release_dead_local(session)
        return self.source_ids

    def _contexts(
        self, session: Session, wanted: list[tuple[int, str]]
    ) -> list[_Context | datetime | None]:
        """The crawl state of sources (source id, page URL), a batch of polls' worth, in a few
        statements; for a source another worker holds, its lease's end instead."""
        ids = [source_id for source_id, _ in wanted]
        if self.owner is not None:
            now = datetime.now(UTC)
            until = now + self._lease_hold()
            rows = leases.claim_many_reading(session, ids, self.owner, until, now, _STATE)
        else:
            rows = {row.id: row for row in session.execute(_SOURCE_STATES, {"source_ids": ids})}
        known: dict[tuple[int, str], Validators] = {}
        if rows:
            for v in session.execute(_VALIDATORS, {"source_ids": list(rows)}):
                known[(v.source_id, v.url)] = Validators(v.etag, v.last_modified)
        contexts: list[_Context | datetime | None] = []
        for source_id, url in wanted:
            row = rows.get(source_id)
            if row is None:
                if self.owner is None:
                    raise LookupError(f"store: source {source_id} has no row")
                contexts.append(leases.holder(session, source_id)[1])
                continue
            contexts.append(
                _Context(
                    source_id=source_id,
                    validators=known.get((source_id, url)),
                    had_posts=row.had_posts,
                    polls=row.polls,
                    failures=row.failures,
                    current_interval=row.current_interval,
                )
            )
        return contexts

    def _is_known(self, source_id: int) -> Any:
        def check(post: RawPost) -> bool:
            # A read: it takes no write lock, so it never waits on the store's writer.
            with self.store.read_session() as session:
                return all(known_posts(session, source_id, [post]))

        return check

    def _save_quiet(
        self, session: Session, crawls: list[tuple[int, CrawlResult, StateFn, _Alerted]]
    ) -> list[SaveCounts]:
        """The crawls without posts of a batch of polls (most polls: unchanged pages)."""
        saved = save_quiet_crawls(session, [c[:3] for c in crawls], worker=self.owner)
        for (source_id, result, _, alerted), counts in zip(crawls, saved, strict=True):
            self._alert(session, source_id, result, counts, alerted)
        return saved

    def _alert(
        self,
        session: Session,
        source_id: int,
        result: CrawlResult,
        counts: SaveCounts,
        alerted: _Alerted,
    ) -> None:
        """The crawl's alert events, in its transaction (scheduler/alerts/steps.py)."""
        written = record_crawl(
            session,
            self.config.alert_setup(),
            source_id=source_id,
            source=alerted.source,
            result=result,
            new_ids=counts.new_ids,
            changed_ids=counts.changed_ids,
            highlighted_ids=counts.highlighted_ids,
            had_posts=alerted.had_posts,
            failures_before=alerted.failures,
            failures_after=alerted.state.get("failures", 0),
            now=datetime.now(UTC),
        )
        alerted.events.append(written)

    async def poll(self, source: SourceConfig, *, force_full: bool = False) -> PollReport:
        started = time.monotonic()
        try:
            return await self._poll(source, force_full=force_full)
        except Exception as exc:  # the store failed, or a bug: record it, keep the daemon alive
            error = poll_error(exc)
            log.exception("poll of %s failed: %r", source.name, error)
            next_run = await asyncio.to_thread(self._record_failure, source, error)
            report = PollReport(
                source.name,
                "error",
                error=error,
                duration=time.monotonic() - started,
                next_run_at=next_run,
            )
            log_report(report)
            return report

    def _record_failure(self, source: SourceConfig, error: str) -> datetime:
        """A poll that raised, saved as a failed crawl in a transaction of its own (the
        poll's may be what failed); the next run, with backoff. When the store cannot record
        it either, the backoff grows here until it can."""
        now = datetime.now(UTC)
        try:
            with self.store.session() as session:
                source_id = self.source_ids.get(source.name)
                if source_id is None:
                    source_id = ensure_sources(session, [(source.name, source.url, source.kind)])[
                        source.name
                    ]
                row = session.execute(_SOURCE_STATES, {"source_ids": [source_id]}).one()
                state = self._failed_state(source, now, row.failures, row.current_interval)
                crawl = CrawlResult(source.name, source.url, status="error", error=error)
                save_quiet_crawls(session, [(source_id, crawl, lambda _: state)], worker=self.owner)
                alerted = _Alerted(source.name, row.had_posts, row.failures, state)
                self._alert(session, source_id, crawl, SaveCounts(), alerted)
        except Exception:
            log.exception("store: cannot record the failed poll of %s", source.name)
            failures = self.unrecorded[source.name] = self.unrecorded.get(source.name, 0) + 1
            return self._failed_state(source, now, failures - 1, None)["next_run_at"]
        self.unrecorded.pop(source.name, None)
        return state["next_run_at"]

    def _failed_state(
        self, source: SourceConfig, now: datetime, failures: int, current: float | None
    ) -> dict[str, Any]:
        state = next_state(
            now=now,
            base_interval=self.config.interval_of(source),
            current_interval=current,
            failures=failures,
            outcome=Outcome(status="error"),
            jitter=self.config.scheduler.jitter,
            max_backoff=self.config.scheduler.max_backoff,
        )
        return state | self._lease_after(source, state["next_run_at"])

    async def _poll(self, source: SourceConfig, *, force_full: bool) -> PollReport:
        if source.name not in self.source_ids:
            await self.queue.call(self.sync_sources)
        source_id = self.source_ids[source.name]
        spec = self.config.spec(source)
        ctx = await self.queue.run_grouped(self._contexts, (source_id, spec.url))
        if not isinstance(ctx, _Context):
            log.debug("source %s is leased by another worker until %s", source.name, ctx)
            return PollReport(source.name, "leased", next_run_at=ctx)
        full = force_full or ctx.polls % self.config.scheduler.full_every == 0
        with self.queue.coming():  # its save: batches of saves wait for it a little
            result = await self.crawler.crawl(
                spec,
                validators=ctx.validators,
                full=full,
                is_known=self._is_known(source_id),
                had_posts=ctx.had_posts,
            )
        if self.stopping and result.status == "error" and not result.posts:
            return PollReport(source.name, "abandoned", error=result.error)
        state: dict[str, Any] = {}

        def decide(counts: SaveCounts) -> dict[str, Any]:
            """The next run, knowing what the crawl changed (called inside the save)."""
            changed = bool(counts.new or counts.changed)
            state.update(
                next_state(
                    now=datetime.now(UTC),
                    base_interval=self.config.interval_of(source),
                    current_interval=ctx.current_interval,
                    failures=ctx.failures,
                    outcome=Outcome(
                        status=result.status,
                        changed=changed,
                        ended=result.ended,
                        retry_after=result.retry_after,
                    ),
                    jitter=self.config.scheduler.jitter,
                    max_backoff=self.config.scheduler.max_backoff,
                )
            )
            state.update(self._lease_after(source, state["next_run_at"]))
            return state

        alerted = _Alerted(source.name, ctx.had_posts, ctx.failures, state)

        def save(session: Session) -> SaveCounts:
            counts = save_crawl(session, source_id, result, state=decide, worker=self.owner)
            self._alert(session, source_id, result, counts, alerted)
            return counts

        if result.posts:
            counts = await self.queue.run(save, alone=len(result.posts) > ALONE_POSTS)
        else:
            counts = await self.queue.run_grouped(
                self._save_quiet, (source_id, result, decide, alerted)
            )
        if any(alerted.events) and self.alerts_written is not None:
            self.alerts_written()  # committed: the sender need not wait for its next look
        report = PollReport(
            source=source.name,
            status=result.status,
            new=counts.new,
            changed=counts.changed,
            unchanged=counts.unchanged,
            pages=result.pages,
            duration=result.duration,
            error=result.error,
            next_run_at=state["next_run_at"],
            ended=result.ended,
        )
        log_report(report)
        return report

    def finished(self) -> set[str]:
        """Sources not to poll any more: ended live blogs and gone (410) pages."""
        with self.store.session() as session:
            rows = session.execute(
                select(Source.name).where(Source.ended.is_(True) | Source.gone.is_(True))
            )
            return set(rows.scalars())

    async def poll_many(
        self, sources: list[SourceConfig], *, skip_finished: bool = False
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
