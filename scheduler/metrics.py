"""The process's Prometheus metrics of polling: what every poll did, counted as it ends.

One registry per process (prometheus_client's default): the daemon's listener and
`vigie serve` (vigie/health.py) export it, with the gauges read from the store at scrape
time. The names end in the units Prometheus expects (`_seconds`, `_total`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

POLLS = Counter("vigie_polls_total", "Polls of sources, by how they ended", ["status"])
POLL_SECONDS = Histogram(
    "vigie_poll_duration_seconds",
    "Time a poll's crawl took",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
LATENESS = Histogram(
    "vigie_poll_lateness_seconds",
    "How late a poll started after its source was due",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
UPDATES = Counter("vigie_updates_stored_total", "Updates stored by polls", ["kind"])


def observe_poll(status: str, duration: float, new: int, changed: int) -> None:
    POLLS.labels(status).inc()
    POLL_SECONDS.observe(duration)
    if new:
        UPDATES.labels("new").inc(new)
    if changed:
        UPDATES.labels("changed").inc(changed)


def observe_lateness(seconds: float) -> None:
    LATENESS.observe(max(0.0, seconds))
