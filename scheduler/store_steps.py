"""The store steps of a poll, each a function of a session that the store's queue runs
(scheduler/batches.py), top to bottom, with no call back up:

- before the crawl (`PollSteps.start`, grouped): the lease claimed, the crawl state and
  the page's validators read, and for a crawl that may stop paginating early, what the
  source already holds (`storage/known.py`), for a batch of polls in a few statements;
- after it (`PollSteps.finish`, or `finish_quiet` grouped for crawls without posts): the
  posts saved (storage/updates_write.py), the next run decided from what they changed
  (scheduler/policy.py, pure), the crawl recorded with that schedule (storage/crawls.py),
  all in the step's transaction;
- a poll that raised (`PollSteps.record_failure`): recorded as a failed crawl, with backoff;
- after each: the alert events of the crawl, in its transaction (scheduler/alerts/steps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crawler.models import CrawlResult, KnownPosts, Validators
from scheduler.alerts.setup import AlertSetup
from scheduler.alerts.steps import record_crawl
from scheduler.policy import Outcome, lease_after, next_state
from storage import leases
from storage.cluster import jobs_still_ours
from storage.crawls import (
    CrawlState,
    FinishedCrawl,
    claim_crawl_states,
    crawl_states,
    record_crawls,
    stored_validators,
)
from storage.known import stored_posts
from storage.updates_write import SaveCounts, save_posts

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class PollStart:
    """What a poll asks of the store before its crawl."""

    source_id: int
    url: str  # the page whose validators are sent
    force_full: bool  # follow every page whatever the count of polls
    full_every: int  # else every this many polls
    lease_for: timedelta  # how long the crawl may take: a dead worker's claim expires then


@dataclass(frozen=True, slots=True)
class CrawlContext:
    """What a crawl starts from."""

    source_id: int
    validators: Validators | None
    had_posts: bool
    full: bool  # follow every next page
    failures: int
    current_interval: float | None
    known: KnownPosts | None  # what the source holds, when the crawl may stop paginating


@dataclass(frozen=True, slots=True)
class LeasedElsewhere:
    """Another worker holds the source's lease, until then (None: it just let it go)."""

    until: datetime | None


@dataclass(frozen=True, slots=True)
class Cadence:
    """What a source's next run is decided from, besides the crawl's outcome."""

    base_interval: float  # its configured interval
    current_interval: float | None
    failures: int  # failed crawls in a row before this one
    jitter: float
    max_backoff: float


@dataclass(frozen=True, slots=True)
class PollEnd:
    """A finished crawl to store, and what its next run is decided from."""

    source_id: int
    result: CrawlResult
    cadence: Cadence
    had_posts: bool = True  # before this crawl (False: the source's first), for the alerts
    job: int | None = None  # cluster mode: the engine job it ran in (the save is fenced)


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing a crawl did: its posts' counts and the source's schedule fields."""

    counts: SaveCounts
    schedule: dict[str, Any]
    alerts: int = 0  # alert events written with it (scheduler/alerts/steps.py)
    superseded: bool = False  # its engine job was taken back: nothing was written

    @property
    def next_run_at(self) -> datetime | None:
        return self.schedule["next_run_at"]  # type: ignore[no-any-return]


class PollSteps:
    """The store steps of one worker's polls: `owner` (None: no leases) keeps its sources'
    leases between polls when `sticky`; `clock` says what time it is. `worker` names who
    crawled (default: `owner`). In cluster mode `engine_worker` is the engine's id of this
    worker: a poll's save is written only while the engine says its job is still this
    worker's (a worker taken for dead, whose job was taken back, saves nothing)."""

    def __init__(
        self,
        owner: str | None,
        *,
        sticky: bool,
        clock: Clock,
        alerts: Callable[[], AlertSetup | None] = lambda: None,
        worker: str | None = None,
        engine_worker: Callable[[], int | None] | None = None,
    ) -> None:
        """`alerts`: the watches now (a reload changes them), whose events each crawl
        writes to the outbox in its transaction."""
        self.owner = owner
        self.sticky = sticky
        self.clock = clock
        self.alerts = alerts
        self.worker = worker or owner
        self.engine_worker = engine_worker

    def start(
        self, session: Session, polls: list[PollStart]
    ) -> list[CrawlContext | LeasedElsewhere]:
        """What each crawl starts from, or who holds its source."""
        ids = [p.source_id for p in polls]
        if self.owner is None:
            states = crawl_states(session, ids)
        else:
            now = self.clock()
            until = now + max(p.lease_for for p in polls)
            states = claim_crawl_states(session, ids, self.owner, until, now)
        validators = stored_validators(session, list(states)) if states else {}
        full = {p.source_id: _full(p, states.get(p.source_id)) for p in polls}
        paging = [i for i, st in states.items() if st.paginated and not full[i]]
        known = stored_posts(session, paging) if paging else {}
        out: list[CrawlContext | LeasedElsewhere] = []
        for p in polls:
            st = states.get(p.source_id)
            if st is None:
                if self.owner is None:
                    raise LookupError(f"store: source {p.source_id} has no row")
                out.append(LeasedElsewhere(leases.holder(session, p.source_id)[1]))
                continue
            v = validators.get((p.source_id, p.url))
            out.append(
                CrawlContext(
                    source_id=p.source_id,
                    validators=Validators(v.etag, v.last_modified) if v else None,
                    had_posts=st.had_posts,
                    full=full[p.source_id],
                    failures=st.failures,
                    current_interval=st.current_interval,
                    known=known.get(p.source_id),
                )
            )
        return out

    def finish(self, session: Session, poll: PollEnd) -> Stored:
        """A crawl stored: its posts saved, its next run decided from what they changed,
        then the crawl recorded with that schedule."""
        if self._fenced_out(session, [poll]):
            return Stored(SaveCounts(), {"next_run_at": None}, superseded=True)
        now = self.clock()
        counts = save_posts(session, poll.source_id, poll.result.posts, now)
        schedule = self._schedule(poll, counts, now)
        crawl = FinishedCrawl(poll.source_id, poll.result, counts, schedule)
        record_crawls(session, [crawl], now=now, worker=self.worker)
        alerts = self._alert(session, self.alerts(), poll, counts, schedule, now)
        return Stored(counts, schedule, alerts)

    def finish_quiet(self, session: Session, polls: list[PollEnd]) -> list[Stored]:
        """`finish` for crawls without posts (most polls: unchanged pages, errors), of a
        batch of polls, recorded in one statement per kind of row."""
        now = self.clock()
        gone = self._fenced_out(session, polls)
        stored = []
        for poll in polls:
            if poll.result.posts:
                raise ValueError("finish_quiet: a crawl with posts goes to finish")
            if poll.job in gone:
                stored.append(Stored(SaveCounts(), {"next_run_at": None}, superseded=True))
            else:
                stored.append(Stored(SaveCounts(), self._schedule(poll, SaveCounts(), now)))
        crawls = [
            FinishedCrawl(p.source_id, p.result, s.counts, s.schedule)
            for p, s in zip(polls, stored, strict=True)
            if not s.superseded
        ]
        if crawls:
            record_crawls(session, crawls, now=now, worker=self.worker)
        setup = self.alerts()  # once for the batch: a hundred polls, one transaction
        return [
            s
            if s.superseded
            else Stored(
                s.counts, s.schedule, self._alert(session, setup, p, s.counts, s.schedule, now)
            )
            for p, s in zip(polls, stored, strict=True)
        ]

    def _fenced_out(self, session: Session, polls: Sequence[PollEnd]) -> set[int | None]:
        """The engine jobs of these polls that are no longer this worker's."""
        jobs = [p.job for p in polls if p.job is not None]
        if not jobs or self.engine_worker is None:
            return set()
        engine_id = self.engine_worker()
        ours = jobs_still_ours(session, engine_id, jobs) if engine_id is not None else set()
        return set(jobs) - ours

    def record_failure(
        self,
        session: Session,
        source_id: int,
        result: CrawlResult,
        cadence: Cadence,
        *,
        job: int | None = None,
    ) -> Stored:
        """A poll that raised, recorded as the failed crawl `result`, backing off from the
        source's stored failures (the cadence's own are not known to be current). In
        cluster mode `job` fences it as it fences a save: a job taken back records nothing."""
        state = crawl_states(session, [source_id])[source_id]
        cadence = _with_state(cadence, state)
        end = PollEnd(source_id, result, cadence, had_posts=state.had_posts, job=job)
        return self.finish_quiet(session, [end])[0]

    def _alert(
        self,
        session: Session,
        setup: AlertSetup | None,
        poll: PollEnd,
        counts: SaveCounts,
        schedule: dict[str, Any],
        now: datetime,
    ) -> int:
        """The crawl's alert events, in its transaction; how many."""
        return record_crawl(
            session,
            setup,
            source_id=poll.source_id,
            source=poll.result.source,
            result=poll.result,
            new_ids=counts.new_ids,
            changed_ids=counts.changed_ids,
            highlighted_ids=counts.highlighted_ids,
            had_posts=poll.had_posts,
            failures_before=poll.cadence.failures,
            failures_after=schedule.get("failures", 0),
            now=now,
        )

    def _schedule(self, poll: PollEnd, counts: SaveCounts, now: datetime) -> dict[str, Any]:
        """The source's schedule fields after this crawl (scheduler/policy.py)."""
        result, c = poll.result, poll.cadence
        outcome = Outcome(
            status=result.status,
            changed=bool(counts.new or counts.changed),
            ended=result.ended,
            retry_after=result.retry_after,
        )
        schedule = next_state(
            now=now,
            base_interval=c.base_interval,
            current_interval=c.current_interval,
            failures=c.failures,
            outcome=outcome,
            jitter=c.jitter,
            max_backoff=c.max_backoff,
        )
        lease = lease_after(
            self.owner,
            sticky=self.sticky,
            interval=c.base_interval,
            next_run=schedule["next_run_at"],
        )
        return schedule | lease


def _full(poll: PollStart, state: CrawlState | None) -> bool:
    return poll.force_full or (state is not None and state.polls % poll.full_every == 0)


def _with_state(cadence: Cadence, state: CrawlState) -> Cadence:
    return Cadence(
        cadence.base_interval,
        state.current_interval,
        state.failures,
        cadence.jitter,
        cadence.max_backoff,
    )
