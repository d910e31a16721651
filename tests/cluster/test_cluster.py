"""Cluster mode with real processes on a real PostgreSQL: 2 schedulers and 3 workers (then
4) over 300 newsroom sources, polled every 20 s. The tests run in order on one cluster:
on schedule, never two polls of a source at once, no duplicates; a worker killed mid-poll
(its polls re-run elsewhere within 2 intervals); the active scheduler killed (polling goes
on within 30 s); a 4th worker (a share of the polls within an interval); a worker cut
from the database for 20 s (it comes back by itself)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import make_url

from storage.models import Revision, Update
from tests.cluster.cutter import Cutter
from tests.cluster.harness import (
    INTERVAL,
    POSTS,
    Cluster,
    newsroom,
    sources,
    wait_for,
    with_port,
)
from tests.conftest import _fresh_pg_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

Runs = dict[str, list[tuple[datetime, datetime, str]]]
SOURCES, SLOW_SOURCES = 300, 30
VIGIE = (sys.executable, "-m", "vigie", "--config")


@pytest.fixture(scope="module")
def cluster(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    url = _fresh_pg_database(pg_server_url)
    site = newsroom()
    site.start()
    pg = make_url(url)
    cutter = Cutter(pg.host or "127.0.0.1", pg.port or 5432)
    c = Cluster(url, tmp_path_factory.mktemp("cluster"), sources(site, SOURCES, SLOW_SOURCES))
    c.cutter = cutter  # type: ignore[attr-defined]
    try:
        for name in ("s1", "s2"):
            c.start(name, "scheduler")
        c.start("w1", "worker")
        c.start("w2", "worker")
        c.start("w3", "worker", url=with_port(url, cutter.port))  # its database can be cut
        yield c
    finally:
        codes = c.stop_all()
        c.store.close()
        cutter.stop()
        site.stop()
        for name, code in codes.items():
            print(name, code, c.log(name)[-1500:])


def _started(c: Cluster, names: tuple[str, ...]) -> None:
    wait_for(
        f"{', '.join(names)} live",
        lambda: all(c.workers().get(n, {}).get("live") for n in names),
        timeout=120,
    )


def first_after(runs: Runs, name: str, since: float, not_by: str = "") -> float | None:
    """When the source's first poll after `since` (by another worker than `not_by`) began."""
    return min(
        (t for s, _, w in runs[name] if (t := s.timestamp()) > since and w != not_by),
        default=None,
    )


def last_first_after(
    cluster: Cluster, names: Iterable[str], since: float, not_by: str = ""
) -> float | None:
    """When the last of these sources had its first poll after `since`; None while one has not."""
    runs = cluster.runs()
    firsts = [first_after(runs, n, since, not_by) for n in names]
    return None if None in firsts else max(firsts)  # type: ignore[type-var]


def test_every_source_polled_on_schedule_never_twice_at_once(cluster: Cluster) -> None:
    _started(cluster, ("s1", "s2", "w1", "w2", "w3"))
    names = {s["name"] for s in cluster.sources}
    # The first polls are a backlog by construction (every source due at start, each
    # storing its posts); lateness is judged on the polls after them.
    wait_for(
        "a poll of every source",
        lambda: (r := cluster.runs()) and all(r.get(n) for n in names),
        timeout=300,
        every=2,
    )
    first = cluster.lateness(("w1", "w2", "w3"))
    wait_for(
        "3 polls of every source",
        lambda: (r := cluster.runs()) and all(len(r.get(n, ())) >= 3 for n in names),
        timeout=300,
        every=2,
    )
    runs = cluster.runs()
    assert set(runs) == names
    for name, rs in runs.items():
        for (_, end, _), (start, _, _) in itertools.pairwise(rs):
            assert start >= end, f"{name}: two polls at once"
    # On schedule: how late each poll started after its source was due, as the workers'
    # own /metrics count it. A loaded machine makes some late, not most.
    buckets = cluster.lateness(("w1", "w2", "w3"))
    later = {le: n - first.get(le, 0.0) for le, n in buckets.items()}
    polls = later[float("inf")]
    shown = sorted(later.items())
    assert polls >= len(names) // 2, shown
    on_time = max(n for le, n in later.items() if le <= INTERVAL / 2)
    assert on_time >= 0.95 * polls, shown
    assert cluster.per_source(Update) == dict.fromkeys(names, POSTS)
    assert cluster.duplicate_keys() == []
    workers = {w for rs in runs.values() for _, _, w in rs}
    assert workers == {"w1", "w2", "w3"}, "every worker takes a share"
    schedulers = [w for w in cluster.workers().values() if w["role"] == "scheduler"]
    assert sum(w["active_scheduler"] for w in schedulers) == 1
    status, body = cluster.scrape("s1", "/health")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok", body
    assert {p["name"] for p in health["processes"] if p["live"]} >= {"s1", "s2", "w1", "w2", "w3"}


def test_a_worker_killed_mid_poll_has_its_polls_rerun_elsewhere(cluster: Cluster) -> None:
    engine_id = cluster.workers()["w1"]["engine_id"]
    by_id = cluster.names_by_id()

    def slow_in_flight() -> set[str]:
        # A slow source's poll (SLOW seconds) is still unsaved when the kill lands; a fast
        # one caught in flight may have saved meanwhile, and is then due only a (possibly
        # stretched, adaptive) interval later, which says nothing of the recovery.
        ids = (i for job in cluster.running_jobs(engine_id) for i in job)
        return {by_id[i] for i in ids if by_id[i].startswith("slow-")}

    taken = wait_for("w1 in the middle of a slow poll", slow_in_flight, timeout=180, every=0.1)
    killed_at = cluster.kill("w1")

    last = wait_for(
        f"{sorted(taken)} polled again",
        lambda: last_first_after(cluster, taken, killed_at, not_by="w1"),
        timeout=4 * INTERVAL,
    )
    took = last - killed_at
    assert took <= 2 * INTERVAL, f"re-polled {took:.1f}s after the kill"
    # What w1 was saving when it died was rolled back whole: no part of a crawl is stored.
    runs = cluster.runs()
    assert not any(
        w == "w1" and s.timestamp() > killed_at for rs in runs.values() for s, _, w in rs
    )
    assert cluster.duplicate_keys() == []
    assert set(cluster.per_source(Revision).values()) == {POSTS}


def test_the_active_scheduler_killed_another_takes_over(cluster: Cluster) -> None:
    listed = subprocess.run(
        [*VIGIE, str(cluster.config("cli")), "workers", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    active = [w["name"] for w in json.loads(listed.stdout) if w["active_scheduler"]]
    assert len(active) == 1, listed.stdout
    active = active[0]
    other = "s2" if active == "s1" else "s1"
    killed_at = cluster.kill(active)
    # Sources that come due now, while no scheduler is active: only the other one, once it
    # took over, can defer them.
    # (Not due yet at the kill: none of them can have been deferred by the dead one.)
    comes_due = cluster.make_due(10)
    assert len(comes_due) == 10

    last = wait_for(
        f"{comes_due} polled", lambda: last_first_after(cluster, comes_due, killed_at), timeout=60
    )
    took = last - killed_at
    assert took <= 30, f"polled {took:.1f}s after the kill"
    wait_for(  # its next heartbeat says so
        f"{other} shown active", lambda: cluster.workers()[other]["active_scheduler"], timeout=30
    )


def test_a_fourth_worker_takes_a_share_within_an_interval(cluster: Cluster) -> None:
    cluster.start("w4", "worker")
    wait_for(
        "w4 taking jobs",
        lambda: cluster.workers().get("w4", {}).get("engine_id"),
        timeout=120,
        every=0.2,
    )
    # Work goes to whoever is free: with the others idle between polls, it would get what
    # they do not take first; a burst of due sources (120 at once) keeps them busy.
    live_at = time.time()
    assert len(cluster.make_due(120)) >= 60

    def first_poll() -> float | None:
        starts = [s.timestamp() for rs in cluster.runs().values() for s, _, w in rs if w == "w4"]
        return min(starts, default=None)

    took = wait_for("a poll by w4", first_poll, timeout=3 * INTERVAL) - live_at
    assert took <= INTERVAL, f"first poll {took:.1f}s after it took jobs"


def test_a_worker_cut_from_the_database_comes_back(cluster: Cluster) -> None:
    cutter: Cutter = cluster.cutter  # type: ignore[attr-defined]
    cutter.sever()
    cut_for = 20.0
    time.sleep(cut_for)  # the outage itself: 20 s is the scenario, not a wait for something
    cutter.restore()
    back_at = datetime.now(UTC)
    assert cluster.procs["w3"].poll() is None, cluster.log("w3")

    def polled_since() -> bool:
        return any(w == "w3" and s > back_at for rs in cluster.runs().values() for s, _, w in rs)

    # The engine's pool reconnects with a backoff up to 16 s; then there are jobs at once.
    wait_for("a poll by w3 after the outage", polled_since, timeout=16 + 3 * INTERVAL)
    assert cluster.procs["w3"].poll() is None
    assert cluster.duplicate_keys() == []
    runs = cluster.runs()
    for name, rs in runs.items():
        for (_, end, _), (start, _, _) in itertools.pairwise(rs):
            assert start >= end, f"{name}: two polls at once"


def test_every_process_stops_cleanly_on_sigterm(cluster: Cluster) -> None:
    alive = [n for n, p in cluster.procs.items() if p.poll() is None]
    assert set(alive) == {"s1", "s2", "w1", "w2", "w3", "w4"} - set(cluster.killed)
    codes = cluster.stop_all()
    assert {n: codes[n] for n in alive} == dict.fromkeys(alive, 0), {
        n: cluster.log(n)[-800:] for n in alive if codes[n] != 0
    }
    assert not set(cluster.workers()) & set(alive), "each took its row out of the registry"
