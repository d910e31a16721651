"""GET /health and GET /metrics: how the watching goes, for one machine and for a cluster.

Both read the store at request time: the processes' heartbeats (`cluster_workers`), the
sources failing, and in cluster mode the engine's queue. Healthy means the database
answers and polling runs: in cluster mode a live active scheduler and at least one live
worker, on one machine a live daemon. /metrics is Prometheus' text format: the process's
own poll counters (scheduler/metrics.py; zero in `vigie serve`, which polls nothing) and
the store's state as gauges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from scheduler.cluster.engine import POLL_TASK
from storage.cluster import queue_state, workers
from storage.models import Source
from vigie.config import Config

OVERDUE = timedelta(minutes=1)  # one machine: a source due longer ago than this is late


@dataclass
class Snapshot:
    database: bool
    error: str | None = None
    processes: list[dict[str, Any]] = field(default_factory=list)
    failing_sources: int = 0
    sources_by_status: dict[str, int] = field(default_factory=dict)
    waiting: int = 0  # cluster: jobs waiting; one machine: sources overdue
    running: int = 0
    oldest_wait: float = 0.0  # seconds the most overdue waiting poll is late

    def problems(self, cluster: bool) -> list[str]:
        if not self.database:
            return [f"database unreachable: {self.error}"]
        live = [p for p in self.processes if p["live"]]
        out = []
        if cluster:
            if not any(p["active_scheduler"] for p in live):
                out.append("no live active scheduler")
            if not any(p["role"] in ("worker", "all") for p in live):
                out.append("no live worker")
        elif not any(p["role"] == "daemon" for p in live):
            out.append("no live daemon")
        return out


def snapshot(config: Config, store: Any) -> Snapshot:
    """The state /health and /metrics report, read now (never raises)."""
    now = datetime.now(UTC)
    names = [s.name for s in config.sources]
    try:
        with store.read_session() as session:
            snap = Snapshot(database=True, processes=workers(session, now))
            rows = session.execute(
                select(Source.last_status, func.count())
                .where(Source.name.in_(names))
                .group_by(Source.last_status)
            )
            snap.sources_by_status = {str(status or "never"): n for status, n in rows}
            snap.failing_sources = session.execute(
                select(func.count()).where(Source.name.in_(names), Source.failures > 0)
            ).scalar_one()
            if config.cluster is not None:
                queue = queue_state(session, POLL_TASK, now)
                snap.waiting, snap.running = queue.waiting, queue.running
                snap.oldest_wait = queue.oldest_wait
            else:
                due = session.execute(
                    select(func.count(), func.min(Source.next_run_at)).where(
                        Source.name.in_([s.name for s in config.enabled_sources()]),
                        Source.ended.is_(False),
                        Source.gone.is_(False),
                        Source.next_run_at < now - OVERDUE,
                    )
                ).one()
                snap.waiting = due[0]
                snap.oldest_wait = (now - due[1]).total_seconds() if due[1] else 0.0
    except Exception as exc:
        return Snapshot(database=False, error=" ".join(str(exc).split())[:300])
    return snap


def health(config: Config, store: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of GET /health: 200 healthy, 503 not."""
    snap = snapshot(config, store)
    problems = snap.problems(config.cluster is not None)
    body: dict[str, Any] = {
        "status": "ok" if not problems else "unhealthy",
        "problems": problems,
        "mode": "cluster" if config.cluster is not None else "single",
        "database": "ok" if snap.database else "unreachable",
        "failing_sources": snap.failing_sources,
        "queue": {"waiting": snap.waiting, "running": snap.running, "late": snap.oldest_wait},
        "processes": [
            {k: p[k] for k in ("name", "role", "host", "live", "active_scheduler", "heartbeat_age")}
            | {"running": p["running"]}
            for p in snap.processes
        ],
    }
    return (200 if not problems else 503), body


class _StoreCollector(Collector):
    def __init__(self, config: Config, store: Any) -> None:
        self.config, self.store = config, store

    def collect(self):  # type: ignore[no-untyped-def]
        snap = snapshot(self.config, self.store)
        up = GaugeMetricFamily("vigie_database_up", "Whether the store answers")
        up.add_metric([], 1.0 if snap.database else 0.0)
        yield up
        if not snap.database:
            return
        status = GaugeMetricFamily(
            "vigie_sources", "Configured sources by their last poll's status", labels=["status"]
        )
        for name, n in sorted(snap.sources_by_status.items()):
            status.add_metric([name], n)
        yield status
        yield _gauge(
            "vigie_sources_failing", "Sources whose last poll failed", snap.failing_sources
        )
        yield _gauge("vigie_queue_waiting", "Polls due and not started", snap.waiting)
        yield _gauge("vigie_queue_running", "Engine jobs running (cluster mode)", snap.running)
        yield _gauge(
            "vigie_queue_lateness_seconds",
            "How late the most overdue waiting poll is",
            snap.oldest_wait,
        )
        live = GaugeMetricFamily("vigie_process_live", "Live processes", labels=["name", "role"])
        age = GaugeMetricFamily(
            "vigie_process_heartbeat_age_seconds", "Since a process's heartbeat", labels=["name"]
        )
        running = GaugeMetricFamily(
            "vigie_process_running_polls", "Polls a process runs now", labels=["name"]
        )
        for p in snap.processes:
            live.add_metric([p["name"], p["role"]], 1.0 if p["live"] else 0.0)
            age.add_metric([p["name"]], p["heartbeat_age"])
            running.add_metric([p["name"]], p["running"])
        yield from (live, age, running)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    g = GaugeMetricFamily(name, doc)
    g.add_metric([], value)
    return g


def metrics(config: Config, store: Any) -> bytes:
    """GET /metrics: the process's counters and the store's gauges, Prometheus text."""
    registry = CollectorRegistry()
    registry.register(_StoreCollector(config, store))
    return generate_latest(REGISTRY) + generate_latest(registry)


METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
