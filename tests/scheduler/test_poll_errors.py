"""A poll that raises (a bug, a store failure) ends in the source's last_status/last_error,
written in a transaction of its own, with a backoff the daemon schedules; SIGHUP's reload
never resumes polling of a live blog that ended or a page that is gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update

from crawler.models import CrawlResult, RawPost, SourceSpec
from scheduler.daemon import Daemon
from scheduler.jobs import Poller
from storage import leases
from storage.db import Store
from storage.models import CrawlRun, Source, Update
from tests.helpers import write_config
from tests.scheduler.test_poller import ScriptedCrawler, changed, config_of
from vigie.config import load_config


def raises(spec: SourceSpec) -> CrawlResult:
    raise RuntimeError(f"boom in {spec.name}\nsecond line")


def unstorable(spec: SourceSpec) -> CrawlResult:
    """A crawl the store refuses midway (a naive time): the save's transaction fails."""
    good = RawPost("fine", "a fine post", published_at=datetime(2026, 1, 6, 19, 0, tzinfo=UTC))
    bad = RawPost("bad", "a post with a naive time", updated_at=datetime(2026, 1, 6, 19, 1))
    return CrawlResult(spec.name, spec.url, posts=[good, bad], status="ok", http_status=200)


def state_of(store: Store, name: str) -> Any:
    with store.session() as session:
        return session.execute(select(Source).where(Source.name == name)).scalar_one()


def runs_of(store: Store, name: str) -> list[Any]:
    with store.session() as session:
        return list(
            session.execute(
                select(CrawlRun.status, CrawlRun.error)
                .join(Source, Source.id == CrawlRun.source_id)
                .where(Source.name == name)
                .order_by(CrawlRun.id)
            ).all()
        )


def poll(poller: Poller, source: Any) -> Any:
    async def once() -> Any:
        return await poller.poll(source)

    return asyncio.run(once())


def test_a_bug_in_a_poll_is_recorded_with_backoff(store: Store, tmp_path: Path) -> None:
    config = config_of(tmp_path, store.url, ["buggy"])
    poller = Poller(config, store, ScriptedCrawler({"buggy": raises}))  # type: ignore[arg-type]
    try:
        poller.sync_sources()
        before = datetime.now(UTC)
        first = poll(poller, config.sources[0])
        second = poll(poller, config.sources[0])
    finally:
        poller.close()
    assert first.status == "error"
    assert first.error == "internal: RuntimeError: boom in buggy second line"
    base = config.interval_of(config.sources[0])
    # Backoff from the interval, growing: the daemon schedules these.
    assert first.next_run_at > before + timedelta(seconds=base)
    assert second.next_run_at > first.next_run_at
    row = state_of(store, "buggy")
    assert (row.last_status, row.last_error, row.failures) == ("error", second.error, 2)
    assert row.next_run_at == second.next_run_at and row.backoff_until is not None
    assert runs_of(store, "buggy") == [("error", first.error), ("error", second.error)]


def test_a_store_failure_is_recorded_in_a_transaction_of_its_own(
    store: Store, tmp_path: Path
) -> None:
    config = config_of(tmp_path, store.url, ["bad", "good"])
    crawler = ScriptedCrawler({"bad": unstorable, "good": changed})
    poller = Poller(config, store, crawler, owner=leases.worker_id(), sticky=True)  # type: ignore[arg-type]
    try:
        poller.sync_sources()

        async def both() -> list[Any]:
            return list(await asyncio.gather(*(poller.poll(s) for s in config.sources)))

        bad, good = asyncio.run(both())
    finally:
        poller.close()
    assert good.status == "ok"
    assert bad.status == "error" and bad.error.startswith("store: ValueError: naive datetime")
    row = state_of(store, "bad")
    assert (row.last_status, row.last_error, row.failures) == ("error", bad.error, 1)
    assert row.next_run_at == bad.next_run_at and bad.next_run_at > datetime.now(UTC)
    assert row.lease_owner == poller.owner  # still this worker's, until its next try
    with store.session() as session:  # the failed save wrote nothing of its posts
        assert session.execute(select(Update.id)).all() == []
    assert state_of(store, "good").last_status == "ok"


def test_the_daemon_schedules_the_next_try_of_a_failed_poll(store: Store, tmp_path: Path) -> None:
    config = config_of(tmp_path, store.url, ["buggy"])

    async def run_one() -> tuple[Any, Any]:
        daemon = Daemon(config, store)
        daemon.poller.crawler = ScriptedCrawler({"buggy": raises})  # type: ignore[assignment]
        daemon.poller.sync_sources()
        daemon.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        daemon.scheduler.start(paused=True)
        try:
            await daemon._run_source("buggy")
            job = daemon.scheduler.get_job("buggy")
            return job, state_of(store, "buggy")
        finally:
            daemon.scheduler.shutdown(wait=False)
            daemon.poller.close()

    job, row = asyncio.run(run_one())
    assert row.last_status == "error" and row.last_error.startswith("internal: RuntimeError")
    assert job is not None and job.trigger.run_date == row.next_run_at


def test_reload_does_not_resume_ended_or_gone_sources(store: Store, tmp_path: Path) -> None:
    names = ["live", "ended", "gone"]
    path = tmp_path / "config.toml"
    specs = [{"name": n, "url": f"https://example.invalid/{n}", "kind": "feed"} for n in names]
    write_config(path, specs, storage_url=store.url)
    config = load_config(path)

    async def scenario() -> list[set[str]]:
        daemon = Daemon(config, store, path)
        daemon.poller.sync_sources()
        with store.session() as session:
            session.execute(update(Source).where(Source.name == "ended").values(ended=True))
            session.execute(update(Source).where(Source.name == "gone").values(gone=True))
        daemon.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        daemon.scheduler.start(paused=True)
        jobs = []
        try:
            daemon._schedule_all()
            jobs.append({j.id for j in daemon.scheduler.get_jobs()})
            # A reload that changes nothing, then one adding a source and changing intervals.
            await daemon.reload()
            jobs.append({j.id for j in daemon.scheduler.get_jobs()})
            more = [s | {"interval": "5s"} for s in specs]
            more.append({"name": "new", "url": "https://example.invalid/new", "kind": "feed"})
            write_config(path, more, storage_url=store.url)
            await daemon.reload()
            jobs.append({j.id for j in daemon.scheduler.get_jobs()})
            # Re-pointed, the ended blog is a new page: polled again.
            more[1]["url"] = "https://example.invalid/ended-2"
            write_config(path, more, storage_url=store.url)
            await daemon.reload()
            jobs.append({j.id for j in daemon.scheduler.get_jobs()})
        finally:
            daemon.scheduler.shutdown(wait=False)
            daemon.poller.close()
        return jobs

    started, unchanged, added, repointed = asyncio.run(scenario())
    assert started == unchanged == {"live"}
    assert added == {"live", "new"}
    assert repointed == {"live", "new", "ended"}
