"""Old crawl records go, a bounded batch at a time, and nothing else does (both
databases): `storage/retention.py` as the daemon's hourly pruning calls it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from storage.db import Store
from storage.models import CrawlRun, Source, Update
from storage.retention import prune_crawl_runs_batch
from storage.sources import ensure_sources

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _runs(store: Store, ages_days: list[float]) -> int:
    with store.session() as session:
        sid = ensure_sources(session, [("s", "https://x/live", "liveblog")])["s"]
        rows = [
            {
                "source_id": sid,
                "started_at": NOW - timedelta(days=d),
                "finished_at": NOW - timedelta(days=d) + timedelta(seconds=1),
                "status": "ok",
                "pages": 1,
                "new": 0,
                "changed": 0,
                "unchanged": 0,
                "duration_ms": 1000,
            }
            for d in ages_days
        ]
        session.execute(insert(CrawlRun.__table__), rows)
    return sid


def _left(store: Store) -> list[datetime]:
    with store.session() as session:
        return list(session.execute(select(CrawlRun.started_at).order_by(CrawlRun.id)).scalars())


def test_only_records_older_than_the_limit_go_a_batch_at_a_time(store: Store) -> None:
    ages = [40.0 - i * 0.01 for i in range(25)] + [10.0, 1.0, 0.0]  # oldest first, as written
    _runs(store, ages)
    before = NOW - timedelta(days=30)
    done = []
    while True:
        with store.session() as session:
            n = prune_crawl_runs_batch(session, before, batch=10)
        done.append(n)
        if n < 10:
            break
    assert done == [10, 10, 5]
    assert _left(store) == [NOW - timedelta(days=d) for d in (10.0, 1.0, 0.0)]
    with store.session() as session:  # a second pruning finds nothing more
        assert prune_crawl_runs_batch(session, before, batch=10) == 0


def test_pruning_keeps_sources_and_their_state(store: Store) -> None:
    sid = _runs(store, [60.0, 50.0])
    with store.session() as session:
        assert prune_crawl_runs_batch(session, NOW) == 2
        assert session.get(Source, sid) is not None
        assert session.scalar(select(func.count()).select_from(Update)) == 0
    assert _left(store) == []


def test_records_dated_later_are_not_in_the_way(store: Store) -> None:
    """A clock that ran ahead then was set right left low ids with later dates: the old
    records behind them still go, batch after full batch."""
    _runs(store, [-365.0] * 12 + [60.0] * 25)
    before = NOW - timedelta(days=30)
    with store.session() as session:
        assert prune_crawl_runs_batch(session, before, batch=10) == 10
    with store.session() as session:
        assert prune_crawl_runs_batch(session, before, batch=10) == 10
    with store.session() as session:
        assert prune_crawl_runs_batch(session, before, batch=10) == 5
    assert _left(store) == [NOW + timedelta(days=365)] * 12
