"""Several processes on one PostgreSQL: concurrent `run --once` never duplicates, and
daemons split the sources by leases and take over a dead worker's sources."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.db import Store
from storage.models import CrawlRun, Revision, Source, Update, UpdateKey
from tests.helpers import newsroom_sources, write_config
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import fixture_state

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def vigie(config: Path, *args: str, log: str = "vigie") -> subprocess.Popen[bytes]:
    """The real CLI; its stderr goes to `<log>.log` beside the config (a pipe nobody reads
    would fill up and block a long-running daemon)."""
    return subprocess.Popen(
        [sys.executable, "-m", "vigie", "--config", str(config), *args],
        stdout=subprocess.DEVNULL,
        stderr=(config.parent / f"{log}.log").open("wb"),
        cwd=str(config.parent),
    )


def log_tail(config: Path, log: str) -> str:
    return (config.parent / f"{log}.log").read_text(errors="replace")[-3000:]


def per_source(store: Store, model: type) -> dict[str, int]:
    with store.session() as session:
        rows = (
            session.execute(
                select(Source.name, func.count())
                .join(model, model.source_id == Source.id)
                .group_by(Source.name)
            )
            if model is not Revision
            else session.execute(
                select(Source.name, func.count())
                .join(Update, Update.source_id == Source.id)
                .join(Revision, Revision.update_id == Update.id)
                .group_by(Source.name)
            )
        )
        return dict(rows.all())


def test_two_run_once_processes_at_the_same_time(pg_url: str, tmp_path: Path) -> None:
    site = Newsroom(states=[fixture_state()])
    site.start()
    try:
        config = write_config(tmp_path / "config.toml", newsroom_sources(site), storage_url=pg_url)
        for _ in range(3):
            procs = [
                vigie(config, "run", "--once", log="once"),
                vigie(config, "crawl", *[s["name"] for s in newsroom_sources(site)], log="crawl"),
            ]
            for p, log in zip(procs, ("once", "crawl"), strict=True):
                assert p.wait(timeout=120) == 0, log_tail(config, log)
    finally:
        site.stop()
    store = Store(pg_url)
    try:
        names = {s["name"] for s in newsroom_sources(site)}
        assert per_source(store, Update) == dict.fromkeys(names, 22)
        assert per_source(store, Revision) == dict.fromkeys(names, 22)
        with store.session() as session:
            dup_keys = session.execute(
                select(UpdateKey.source_id, UpdateKey.key_hash, func.count())
                .group_by(UpdateKey.source_id, UpdateKey.key_hash)
                .having(func.count() > 1)
            ).all()
        assert dup_keys == []
    finally:
        store.close()


def runs_by_source(store: Store) -> dict[str, list[tuple[datetime, datetime, str]]]:
    with store.session() as session:
        rows = session.execute(
            select(Source.name, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.worker)
            .join(Source, Source.id == CrawlRun.source_id)
            .order_by(CrawlRun.started_at)
        ).all()
    out: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for name, start, end, worker in rows:
        out[name].append((start, end, worker))
    return out


def taken_over(pg_url: str, since: float) -> bool:
    """Every source not ended has a crawl record made after `since`."""
    store = Store(pg_url)
    try:
        with store.session() as session:
            ended = set(session.execute(select(Source.name).where(Source.ended)).scalars())
        runs = runs_by_source(store)
    finally:
        store.close()
    return all(
        any(s.timestamp() > since for s, _, _ in rs)
        for name, rs in runs.items()
        if name not in ended
    ) and bool(runs)


def polled_by(pg_url: str, pid: int, sources: list[dict[str, Any]]) -> bool:
    """Every source has a crawl record made by the worker of process `pid`."""
    store = Store(pg_url)
    try:
        runs = runs_by_source(store)
    except Exception:  # the schema may not exist yet
        return False
    finally:
        store.close()
    return all(any(f":{pid}:" in (w or "") for _, _, w in runs.get(s["name"], ())) for s in sources)


def test_a_second_daemon_takes_over_a_dead_ones_sources(pg_url: str, tmp_path: Path) -> None:
    site = Newsroom(auto_advance=1.0)
    site.start()
    try:
        sources = newsroom_sources(site, interval="1s")
        config = write_config(tmp_path / "config.toml", sources, storage_url=pg_url)
        first = vigie(config, "run", log="first")
        second = None
        try:
            # The first worker claims every source: wait until it has polled each (a loaded
            # machine may take longer than any fixed sleep to start a daemon).
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not polled_by(pg_url, first.pid, sources):
                time.sleep(0.5)
            second = vigie(config, "run", log="second")
            time.sleep(5)  # the second finds them all leased
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            killed_at = time.time()
            # The dead worker's leases run out (at worst a claim taken mid-poll: 15 s plus the
            # crawl timeout per try); then the second worker polls every live source.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not taken_over(pg_url, killed_at + 1):
                time.sleep(1)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=15) == 0, log_tail(config, "second")
        finally:
            for p in (first, second):
                if p is not None and p.poll() is None:
                    p.kill()
    finally:
        site.stop()
    store = Store(pg_url)
    try:
        runs = runs_by_source(store)
    finally:
        store.close()
    assert set(runs) == {s["name"] for s in sources}
    dead = {w for rs in runs.values() for _, _, w in rs if f":{first.pid}:" in w}
    alive = {w for rs in runs.values() for _, _, w in rs} - dead
    assert len(dead) == 1 and len(alive) == 1
    for name, rs in runs.items():
        for (_, end, _), (start, _, _) in itertools.pairwise(rs):
            assert start >= end, f"{name}: two crawls at once"
        before = {w for s, _, w in rs if s.timestamp() < killed_at}
        after = {w for s, _, w in rs if s.timestamp() > killed_at + 1}
        assert before == dead, f"{name} was polled by the second worker while leased"
        if name not in ("live-jsonld", "live-microdata") or not before:
            assert after == alive, f"{name} was not taken over"
