"""Poller.poll against a scripted crawler: the store work of many polls, batched (lease
claims and crawl state read for a batch at once, crawls without posts saved in bulk), does
what one poll at a time did; `close()` ends the store thread, and the daemon calls it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.models import CrawlResult, RawPost, SourceSpec, Validators
from scheduler.daemon import Daemon
from scheduler.jobs import Poller
from storage import leases
from storage.crawls import FinishedCrawl, record_crawls
from storage.db import Store
from storage.models import CrawlRun, HttpValidator, Source
from storage.sources import ensure_sources
from storage.updates_write import SaveCounts
from tests.helpers import write_config
from vigie.config import Config, load_config

Answer = Callable[[SourceSpec], CrawlResult]


class ScriptedCrawler:
    """Stands for `CrawlService`: answers each source as its script says, a little later
    for each source (responses come one by one), and records the validators it was given."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.validators: dict[str, Validators | None] = {}

    async def crawl(
        self, spec: SourceSpec, *, validators: Validators | None = None, **_: Any
    ) -> CrawlResult:
        self.validators[spec.name] = validators
        await asyncio.sleep(0.002 * sorted(self.answers).index(spec.name))
        return self.answers[spec.name](spec)


def changed(spec: SourceSpec) -> CrawlResult:
    result = CrawlResult(spec.name, spec.url, status="ok", http_status=200, pages=1)
    result.validators[spec.url] = Validators(f'"{spec.name}"', None)
    return result


def unchanged(spec: SourceSpec) -> CrawlResult:
    return CrawlResult(spec.name, spec.url, status="not_modified", http_status=304)


def config_of(tmp_path: Path, db_url: str, names: list[str]) -> Config:
    sources = [{"name": n, "url": f"https://example.invalid/{n}", "kind": "feed"} for n in names]
    path = write_config(tmp_path / "config.toml", sources, storage_url=db_url)
    return load_config(path)


def polls(poller: Poller, config: Config, names: list[str]) -> dict[str, Any]:
    async def all_of_them() -> list[Any]:
        chosen = [s for s in config.sources if s.name in names]
        return list(await asyncio.gather(*(poller.poll(s) for s in chosen)))

    return {r.source: r for r in asyncio.run(all_of_them())}


def test_workers_split_sources_by_leases_and_validators_come_back(
    store: Store, tmp_path: Path
) -> None:
    names = [f"s{i}" for i in range(6)]
    config = config_of(tmp_path, store.url, names)
    crawler = ScriptedCrawler(dict.fromkeys(names, changed))
    first = Poller(config, store, crawler, owner=leases.worker_id(), sticky=True)  # type: ignore[arg-type]
    second = Poller(config, store, crawler, owner=leases.worker_id(), sticky=True)  # type: ignore[arg-type]
    try:
        first.sync_sources()
        second.sync_sources()
        assert {r.status for r in polls(first, config, names[:4]).values()} == {"ok"}
        crawler.answers = dict.fromkeys(names, unchanged)
        # One batch of claims for the six: the first worker's four are refused, with the
        # end of its lease (its next run plus a grace period); the two free ones are taken.
        reports = polls(second, config, names)
        for name in names[:4]:
            assert reports[name].status == "leased"
            assert reports[name].next_run_at > datetime.now(UTC) + timedelta(seconds=1)
        assert {reports[n].status for n in names[4:]} == {"not_modified"}
        assert crawler.validators["s4"] is None  # never answered 200: nothing to send
        # The holder polls its sources again, with the validators their 200s gave.
        reports = polls(first, config, names[:4])
        assert {r.status for r in reports.values()} == {"not_modified"}
        for name in names[:4]:
            assert crawler.validators[name] == Validators(f'"{name}"', None)
    finally:
        first.close()
        second.close()
    with store.session() as session:
        rows = session.execute(
            select(Source.name, CrawlRun.status, CrawlRun.worker).join(
                CrawlRun, CrawlRun.source_id == Source.id
            )
        ).all()
    by_source: dict[str, list[tuple[str, str | None]]] = {}
    for name, status, worker in rows:
        by_source.setdefault(name, []).append((status, worker))
    for name in names[:4]:
        assert sorted(s for s, _ in by_source[name]) == ["not_modified", "ok"]
        assert {w for _, w in by_source[name]} == {first.owner}
    for name in names[4:]:
        assert by_source[name] == [("not_modified", second.owner)]


def _quiet_results(url: str) -> list[CrawlResult]:
    """Crawls without posts, of every kind a poll may end with."""
    started = datetime(2026, 1, 6, 19, 0, tzinfo=UTC)
    no_posts = CrawlResult("x", url, status="error", http_status=200, started_at=started)
    no_posts.error, no_posts.pages = "no posts found", 1
    no_posts.validators[url] = Validators('"v2"', "Tue, 06 Jan 2026 19:00:00 GMT")
    ended = CrawlResult("x", url, status="ok", http_status=200, pages=1, ended=True)
    ended.path, ended.warnings = "jsonld", ["truncated feed", "charset fixed"]
    limited = CrawlResult("x", url, status="error", http_status=429, retry_after=120.0)
    limited.error, limited.duration = "fetch: HTTP 429 (retry after 120s)", 0.25
    return [
        CrawlResult("x", url, status="not_modified", http_status=304, started_at=started),
        no_posts,
        ended,
        limited,
        CrawlResult("x", url, status="gone", http_status=410, error="fetch: HTTP 410"),
    ]


def _state() -> dict[str, Any]:
    return {
        "next_run_at": datetime(2026, 1, 6, 20, 0, tzinfo=UTC),
        "failures": 2,
        "backoff_until": None,
        "current_interval": 90.0,
        "lease_owner": "w",
        "lease_until": datetime(2026, 1, 6, 20, 1, tzinfo=UTC),
    }


def _rows(store: Store, ids: list[int]) -> list[tuple[Any, ...]]:
    """What the store says of each source, its validators and crawl records (ids aside)."""
    skip = {"id", "name", "url", "created_at"}
    columns = [c for c in Source.__table__.c if c.name not in skip]
    run_columns = [c for c in CrawlRun.__table__.c if c.name not in ("id", "source_id")]
    out = []
    with store.session() as session:
        for source_id in ids:
            source = session.execute(select(*columns).where(Source.id == source_id)).one()
            runs = session.execute(
                select(*run_columns).where(CrawlRun.source_id == source_id)
            ).all()
            validators = session.execute(
                select(HttpValidator.etag, HttpValidator.last_modified).where(
                    HttpValidator.source_id == source_id
                )
            ).all()
            out.append((tuple(source), [tuple(r) for r in runs], [tuple(v) for v in validators]))
    return out


def test_quiet_saves_write_what_one_save_writes(store: Store) -> None:
    now = datetime(2026, 1, 6, 19, 0, 5, tzinfo=UTC)
    kinds = len(_quiet_results("https://x/"))
    wanted = [(f"{side}{i}", f"https://x/{side}{i}", "auto") for side in "ab" for i in range(kinds)]
    with store.session() as session:
        ids = ensure_sources(session, wanted)
    one = [ids[f"a{i}"] for i in range(kinds)]
    bulk = [ids[f"b{i}"] for i in range(kinds)]
    for _ in range(2):  # the second time, validators exist and are updated
        with store.session() as session:
            for source_id, result in zip(one, _quiet_results("https://x/p"), strict=True):
                crawl = FinishedCrawl(source_id, result, SaveCounts(), _state())
                record_crawls(session, [crawl], now=now, worker="w")
        with store.session() as session:
            crawls = [
                FinishedCrawl(source_id, result, SaveCounts(), _state())
                for source_id, result in zip(bulk, _quiet_results("https://x/p"), strict=True)
            ]
            record_crawls(session, crawls, now=now, worker="w")
    assert _rows(store, bulk) == _rows(store, one)


def _store_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("vigie-store")]


def test_close_ends_the_store_thread(tmp_path: Path) -> None:
    config = config_of(tmp_path, f"sqlite:///{tmp_path / 'vigie.db'}", ["s0"])
    store = Store(config.storage.url)
    before = set(_store_threads())
    poller = Poller(config, store, ScriptedCrawler({"s0": unchanged}), owner=leases.worker_id())  # type: ignore[arg-type]
    try:
        assert polls(poller, config, ["s0"])["s0"].status == "not_modified"
        assert set(_store_threads()) - before  # the poll ran on the store thread
        poller.close()
        assert set(_store_threads()) <= before

        async def one_more() -> Any:
            return await poller.queue.run(lambda session: 1)

        with pytest.raises(RuntimeError):
            asyncio.run(one_more())
    finally:
        store.close()


def test_the_daemon_closes_its_poller_when_it_stops(tmp_path: Path) -> None:
    config = config_of(tmp_path, f"sqlite:///{tmp_path / 'vigie.db'}", ["s0"])
    store = Store(config.storage.url)
    try:
        daemon = Daemon(config, store)
        daemon.poller.sync_sources()
        asyncio.run(daemon._shutdown())

        async def one_more() -> Any:
            return await daemon.poller.queue.run(lambda session: 1)

        with pytest.raises(RuntimeError):
            asyncio.run(one_more())
    finally:
        store.close()


class HandedCrawler(ScriptedCrawler):
    """A scripted crawler that also keeps what each crawl was handed besides its validators."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        super().__init__(answers)
        self.handed: dict[str, dict[str, Any]] = {}

    async def crawl(self, spec: SourceSpec, **kw: Any) -> CrawlResult:
        self.handed[spec.name] = kw
        return await super().crawl(spec, **kw)


KEPT = RawPost(headline="Kept", body="Said once.", key="https://x/live#1")
EDITED = RawPost(headline="Edited", body="First words.", key="https://x/live#2")


def with_posts(paginated: bool) -> Answer:
    def answer(spec: SourceSpec) -> CrawlResult:
        result = CrawlResult(spec.name, spec.url, status="ok", http_status=200, pages=1)
        result.posts = [KEPT, EDITED]
        result.paginated = paginated
        return result

    return answer


def test_the_crawl_is_handed_what_the_source_holds_when_it_may_stop_paginating(
    store: Store, tmp_path: Path
) -> None:
    config = config_of(tmp_path, store.url, ["paged", "flat"])
    crawler = HandedCrawler({"paged": with_posts(True), "flat": with_posts(False)})
    poller = Poller(config, store, crawler)  # type: ignore[arg-type]
    try:
        polls(poller, config, ["paged", "flat"])  # the first poll is a full crawl
        assert all(h["full"] and h["known"] is None for h in crawler.handed.values())
        polls(poller, config, ["paged", "flat"])
    finally:
        poller.close()
    paged, flat = crawler.handed["paged"], crawler.handed["flat"]
    assert not paged["full"] and not flat["full"] and paged["had_posts"]
    assert flat["known"] is None  # its last page linked to no next one: nothing to decide
    known = paged["known"]
    assert KEPT in known and EDITED in known
    assert RawPost(headline="Edited", body="Other words.", key=EDITED.key) not in known
    assert RawPost(headline="New", body="Never seen.", key="https://x/live#3") not in known
    with store.session() as session:
        rows = dict(session.execute(select(Source.name, Source.paginated)).all())
    assert rows == {"paged": True, "flat": False}
