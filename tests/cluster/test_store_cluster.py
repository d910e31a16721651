"""What cluster mode keeps in the store, on a real PostgreSQL with the engine's schema (made
by migration 0007): the due query, the save fence of a poll, the registry, /health and
/metrics from `vigie serve`'s app."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text, update

from crawler.models import CrawlResult
from scheduler.cluster.engine import POLL_TASK, poll_jobs
from scheduler.jobs import Poller
from storage.cluster import WorkerBeat, beat, due_sources, jobs_still_ours, leave, workers
from storage.db import Store
from storage.models import CrawlRun, Source
from storage.sources import ensure_sources
from tests.scheduler.test_poller import ScriptedCrawler, changed, config_of
from vigie.api import create_app

pytestmark = pytest.mark.postgres
NOW = datetime.now(UTC)
ENGINE_PATH = "SET LOCAL search_path TO procrastinate, public"


def engine_worker(store: Store) -> int:
    with store.session() as s:
        return s.execute(
            text("INSERT INTO procrastinate.procrastinate_workers DEFAULT VALUES RETURNING id")
        ).scalar_one()


def engine_job(store: Store, source_ids: list[int], status: str, worker: int | None) -> int:
    job = poll_jobs([(i, f"s{i}", NOW) for i in source_ids], batch=len(source_ids))[0]
    with store.session() as s:
        s.execute(text(ENGINE_PATH))  # the engine's triggers name its tables unqualified
        return s.execute(
            text(
                "INSERT INTO procrastinate.procrastinate_jobs "
                "(queue_name, task_name, args, status, worker_id) "
                "VALUES ('polls', :task, CAST(:args AS jsonb), CAST(:status AS "
                "procrastinate.procrastinate_job_status), :worker) RETURNING id"
            ),
            {
                "task": POLL_TASK,
                "args": json.dumps(job.task_kwargs),
                "status": status,
                "worker": worker,
            },
        ).scalar_one()


@pytest.fixture
def pg_store(pg_url: str):  # type: ignore[no-untyped-def]
    store = Store(pg_url)
    yield store
    store.close()


def test_due_sources_leave_out_what_a_job_holds_and_what_is_not_due(pg_store: Store) -> None:
    with pg_store.session() as s:
        ids = ensure_sources(s, [(f"s{i}", f"https://e.invalid/{i}", "feed") for i in range(6)])
        s.execute(update(Source).where(Source.name == "s1").values(next_run_at=NOW + timedelta(1)))
        s.execute(update(Source).where(Source.name == "s2").values(ended=True))
        s.execute(update(Source).where(Source.name == "s3").values(next_run_at=NOW - timedelta(1)))
    engine_job(pg_store, [ids["s4"]], "todo", None)
    engine_job(pg_store, [ids["s5"]], "doing", engine_worker(pg_store))
    everything = list(ids.values())
    with pg_store.read_session() as s:
        due = due_sources(s, everything, POLL_TASK, NOW, 100)
        # Most overdue first: the never-polled ones, then s3.
        assert [name for _, name, _ in due] == ["s0", "s3"]
        assert due_sources(s, everything, POLL_TASK, NOW, 1) == due[:1]
        assert due_sources(s, [ids["s1"], ids["s2"]], POLL_TASK, NOW, 100) == []
    # A finished job no longer holds its source.
    with pg_store.session() as s:
        s.execute(text(ENGINE_PATH))
        s.execute(text("UPDATE procrastinate.procrastinate_jobs SET status = 'succeeded'"))
    with pg_store.read_session() as s:
        assert {n for _, n, _ in due_sources(s, everything, POLL_TASK, NOW, 100)} == {
            "s0",
            "s3",
            "s4",
            "s5",
        }


def test_a_poll_saves_only_while_its_job_is_this_workers(tmp_path: Path, pg_url: str) -> None:
    config = config_of(tmp_path, pg_url, ["a", "b"])
    store = Store(pg_url)
    me, other = engine_worker(store), engine_worker(store)
    engine_id = {"now": me}
    poller = Poller(
        config,
        store,
        ScriptedCrawler({"a": changed, "b": changed}),  # type: ignore[arg-type]
        worker="w1",
        engine_worker=lambda: engine_id["now"],
    )
    try:
        poller.sync_sources()
        ids = poller.source_ids
        mine = engine_job(store, [ids["a"]], "doing", me)
        taken = engine_job(store, [ids["b"]], "doing", other)  # taken back, run elsewhere

        async def both() -> list[str]:
            a, b = config.sources
            reports = await asyncio.gather(poller.poll(a, job=mine), poller.poll(b, job=taken))
            return [r.status for r in reports]

        assert asyncio.run(both()) == ["ok", "superseded"]
        with store.read_session() as s:
            runs = dict(
                s.execute(
                    select(Source.name, func.count(CrawlRun.id))
                    .outerjoin(CrawlRun, CrawlRun.source_id == Source.id)
                    .group_by(Source.name)
                ).all()
            )
            last = dict(s.execute(select(Source.name, Source.last_worker)).all())
        assert runs == {"a": 1, "b": 0}, "the superseded poll wrote nothing"
        assert last == {"a": "w1", "b": None}
        # The engine forgot this worker (a restart): none of its saves go through.
        engine_id["now"] = None
        assert asyncio.run(poller.poll(config.sources[0], job=mine)).status == "superseded"
        with store.session() as s:
            assert jobs_still_ours(s, me, [mine, taken]) == {mine}
    finally:
        poller.close()
        store.close()


def test_a_poll_that_raised_records_its_failure_only_while_its_job_is_this_workers(
    tmp_path: Path, pg_url: str
) -> None:
    def broken(spec: object) -> CrawlResult:
        raise RuntimeError("the crawl blew up")

    config = config_of(tmp_path, pg_url, ["a", "b"])
    store = Store(pg_url)
    me, other = engine_worker(store), engine_worker(store)
    poller = Poller(
        config,
        store,
        ScriptedCrawler({"a": broken, "b": broken}),  # type: ignore[arg-type,dict-item]
        worker="w1",
        engine_worker=lambda: me,
    )
    try:
        poller.sync_sources()
        ids = poller.source_ids
        mine = engine_job(store, [ids["a"]], "doing", me)
        taken = engine_job(store, [ids["b"]], "doing", other)
        a, b = config.sources
        assert asyncio.run(poller.poll(a, job=mine)).status == "error"
        assert asyncio.run(poller.poll(b, job=taken)).status == "error"
        with store.read_session() as s:
            failures = dict(s.execute(select(Source.name, Source.failures)).all())
            runs = dict(
                s.execute(
                    select(Source.name, func.count(CrawlRun.id))
                    .outerjoin(CrawlRun, CrawlRun.source_id == Source.id)
                    .group_by(Source.name)
                ).all()
            )
        # The job taken back is another worker's now: its schedule is not overwritten.
        assert failures == {"a": 1, "b": 0} and runs == {"a": 1, "b": 0}
    finally:
        poller.close()
        store.close()


def _beat(store: Store, name: str, role: str, age: float, active: bool = False) -> None:
    at = datetime.now(UTC) - timedelta(seconds=age)
    row = WorkerBeat(name, role, "host", 1, at, at, 1.0, 2, 10, 1, active, None, "0.1.0")
    with store.session() as s:
        beat(s, row)


def test_health_and_metrics_say_whether_the_cluster_runs(tmp_path: Path, pg_url: str) -> None:
    config = config_of(tmp_path, pg_url, ["a"])
    config = config.model_copy(
        update={"cluster": type(config).model_fields["cluster"].annotation.__args__[0]()}
    )
    store = Store(pg_url)
    transport = httpx.ASGITransport(app=create_app(config, store))

    async def get(path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)

    try:
        answer = asyncio.run(get("/health"))
        assert answer.status_code == 503
        assert answer.json()["problems"] == ["no live active scheduler", "no live worker"]
        _beat(store, "s1", "scheduler", 0.0, active=True)
        _beat(store, "w-dead", "worker", 60.0)
        answer = asyncio.run(get("/health"))
        assert answer.status_code == 503 and answer.json()["problems"] == ["no live worker"]
        _beat(store, "w1", "worker", 0.0)
        answer = asyncio.run(get("/health"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["mode"] == "cluster" and body["database"] == "ok"
        assert {p["name"]: p["live"] for p in body["processes"]} == {
            "s1": True,
            "w1": True,
            "w-dead": False,
        }
        metrics = asyncio.run(get("/metrics"))
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        lines = metrics.text.splitlines()
        assert "vigie_database_up 1.0" in lines
        assert 'vigie_process_live{name="w-dead",role="worker"} 0.0' in lines
        assert "vigie_queue_waiting 0.0" in lines
        with store.session() as s:
            leave(s, "w1")
            assert {w["name"] for w in workers(s, datetime.now(UTC))} == {"s1", "w-dead"}
    finally:
        store.close()
