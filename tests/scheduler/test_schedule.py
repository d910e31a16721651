"""The daemon's schedule decisions with the time in the test's hands: a clock the test moves,
APScheduler paused (its jobs are read, never fired), a scripted crawler. What the daemon
would do over hours of polls is checked in milliseconds, to the second; the daemon as a
process (signals, restarts) is tests/scheduler/test_daemon.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update

from crawler.models import CrawlResult, RawPost, SourceSpec
from scheduler.daemon import STARTUP_SPREAD, Daemon
from scheduler.jobs import Poller
from storage import leases
from storage.db import Store
from storage.models import Source
from tests.scheduler.test_poller import ScriptedCrawler, config_of, unchanged
from vigie.config import Config

T = TypeVar("T")
START = datetime(2026, 2, 10, 20, 0, tzinfo=UTC)
BASE = 2.0  # the interval tests/helpers.write_config gives every source; no jitter


class Clock:
    """The time as the test says it is."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def with_daemon(
    config: Config, store: Store, crawler: ScriptedCrawler, clock: Clock
) -> Callable[[Callable[[Daemon], Awaitable[T]]], T]:
    """Runs a scenario against a daemon whose scheduler is started paused."""

    def run(scenario: Callable[[Daemon], Awaitable[T]]) -> T:
        async def main() -> T:
            daemon = Daemon(config, store, clock=clock)
            daemon.poller.crawler = crawler  # type: ignore[assignment]
            daemon.poller.sync_sources()
            daemon.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
            daemon.scheduler.start(paused=True)
            try:
                return await scenario(daemon)
            finally:
                daemon.scheduler.shutdown(wait=False)
                daemon.poller.close()

        return asyncio.run(main())

    return run


def run_date(daemon: Daemon, name: str) -> datetime | None:
    assert daemon.scheduler is not None
    job = daemon.scheduler.get_job(name)
    return None if job is None else job.trigger.run_date


def row_of(store: Store, name: str) -> Any:
    with store.session() as session:
        return session.execute(select(Source).where(Source.name == name)).scalar_one()


def later(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_a_restart_takes_up_the_stored_schedule(store: Store, tmp_path: Path) -> None:
    names = ["waiting", "overdue", "never-polled", "ended", "gone", "also-overdue"]
    config = config_of(tmp_path, store.url, names)
    clock = Clock(START)

    async def scenario(daemon: Daemon) -> dict[str, datetime | None]:
        with store.session() as session:
            rows = {
                "waiting": {"next_run_at": START + later(3600)},
                "overdue": {"next_run_at": START - later(3600)},
                "also-overdue": {"next_run_at": START - later(1)},
                "ended": {"ended": True, "next_run_at": None},
                "gone": {"gone": True, "next_run_at": START + later(60)},
            }
            for name, values in rows.items():
                session.execute(update(Source).where(Source.name == name).values(**values))
        daemon._schedule_all()
        return {name: run_date(daemon, name) for name in names}

    jobs = with_daemon(config, store, ScriptedCrawler({}), clock)(scenario)
    assert jobs["waiting"] == START + later(3600)  # not polled at start
    # What is due goes first, spread so that a restart is no thundering herd.
    assert jobs["overdue"] == START
    assert jobs["never-polled"] == START + later(STARTUP_SPREAD)
    assert jobs["also-overdue"] == START + later(2 * STARTUP_SPREAD)
    assert jobs["ended"] is None and jobs["gone"] is None


def test_unchanged_polls_slow_down_and_a_change_brings_the_interval_back(
    store: Store, tmp_path: Path
) -> None:
    config = config_of(tmp_path, store.url, ["quiet"])
    clock = Clock(START)
    crawler = ScriptedCrawler({"quiet": unchanged})

    async def scenario(daemon: Daemon) -> list[float]:
        waits = []
        for poll in range(9):
            if poll == 7:
                crawler.answers["quiet"] = with_a_post
            await daemon._run_source("quiet")
            when = run_date(daemon, "quiet")
            assert when is not None and when == row_of(store, "quiet").next_run_at
            waits.append((when - clock.now).total_seconds())
            clock.now = when  # the job fires on time
        return waits

    waits = with_daemon(config, store, crawler, clock)(scenario)
    # Half the interval more at each unchanged poll, up to 8 times the interval; back to
    # the interval as soon as something new comes, then slowing down again.
    assert waits == [2.0, 3.0, 4.5, 6.75, 10.125, 15.1875, 16.0, 2.0, 3.0]


def with_a_post(spec: SourceSpec) -> CrawlResult:
    post = RawPost("news", "something new", published_at=START)
    return CrawlResult(spec.name, spec.url, posts=[post], status="ok", http_status=200, pages=1)


def busy(spec: SourceSpec) -> CrawlResult:
    return CrawlResult(
        spec.name,
        spec.url,
        status="error",
        http_status=429,
        error="fetch: HTTP 429 (retry after 120s)",
        retry_after=120.0,
    )


def test_retry_after_puts_the_next_poll_that_far(store: Store, tmp_path: Path) -> None:
    config = config_of(tmp_path, store.url, ["busy"])
    clock = Clock(START)
    crawler = ScriptedCrawler({"busy": busy})

    async def scenario(daemon: Daemon) -> list[datetime | None]:
        dates = []
        for _ in range(2):
            await daemon._run_source("busy")
            dates.append(run_date(daemon, "busy"))
            clock.now = dates[-1] or clock.now
        return dates

    first, second = with_daemon(config, store, crawler, clock)(scenario)
    # The backoff (2 s, 4 s) is far below what the server asked: its 120 s are honoured.
    assert first == START + later(120) and second == START + later(240)
    row = row_of(store, "busy")
    assert row.failures == 2 and row.backoff_until == second
    assert "retry after 120s" in row.last_error


def test_errors_back_off_and_a_success_resets_the_count(store: Store, tmp_path: Path) -> None:
    config = config_of(tmp_path, store.url, ["flaky"])
    clock = Clock(START)
    crawler = ScriptedCrawler({"flaky": failing})

    async def scenario(daemon: Daemon) -> list[float]:
        waits = []
        for poll in range(6):
            if poll == 4:
                crawler.answers["flaky"] = with_a_post
            await daemon._run_source("flaky")
            when = run_date(daemon, "flaky")
            assert when is not None
            waits.append((when - clock.now).total_seconds())
            clock.now = when
        return waits

    waits = with_daemon(config, store, crawler, clock)(scenario)
    assert waits == [4.0, 8.0, 16.0, 32.0, 2.0, 3.0]
    assert row_of(store, "flaky").failures == 0


def failing(spec: SourceSpec) -> CrawlResult:
    return CrawlResult(spec.name, spec.url, status="error", error="fetch: connection refused")


def ended(spec: SourceSpec) -> CrawlResult:
    result = with_a_post(spec)
    result.ended = True
    return result


def test_an_ended_blog_has_no_next_poll(store: Store, tmp_path: Path) -> None:
    config = config_of(tmp_path, store.url, ["over", "gone"])
    clock = Clock(START)
    gone = CrawlResult("gone", "", status="gone", http_status=410, error="fetch: HTTP 410")
    crawler = ScriptedCrawler({"over": ended, "gone": lambda spec: gone})

    async def scenario(daemon: Daemon) -> tuple[Any, Any]:
        await daemon._run_source("over")
        await daemon._run_source("gone")
        return run_date(daemon, "over"), run_date(daemon, "gone")

    assert with_daemon(config, store, crawler, clock)(scenario) == (None, None)
    over, gone_row = row_of(store, "over"), row_of(store, "gone")
    assert over.ended and over.ended_at == START and over.next_run_at is None
    assert gone_row.gone and gone_row.next_run_at is None


def test_a_source_another_worker_holds_is_looked_at_when_its_lease_ends(
    store: Store, tmp_path: Path
) -> None:
    config = config_of(tmp_path, store.url, ["shared"])
    clock = Clock(START)
    other = Poller(
        config,
        store,
        ScriptedCrawler({"shared": unchanged}),  # type: ignore[arg-type]
        owner=leases.worker_id(),
        sticky=True,
        clock=clock,
    )
    try:
        other.sync_sources()
        assert asyncio.run(other.poll(config.sources[0])).status == "not_modified"
    finally:
        other.close()
    held_until = row_of(store, "shared").lease_until
    # The other worker keeps it until its next run (2 s) and a grace period (10 s).
    assert held_until == START + later(BASE + 10)

    async def scenario(daemon: Daemon) -> datetime | None:
        clock.now = START + later(1)
        await daemon._run_source("shared")
        return run_date(daemon, "shared")

    crawler = ScriptedCrawler({"shared": unchanged})
    assert with_daemon(config, store, crawler, clock)(scenario) == held_until + later(1)
    assert crawler.validators == {}  # it did not crawl
