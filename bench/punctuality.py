"""Benchmark "punctuality": does the daemon start each poll when it is due, at what cost?

`vigie run` (the real CLI, in a child process, SQLite) watches 1,000 sources at a 1-minute
interval (20% jitter) for 10 minutes (3 in the quick run) on the local `mixed` site
(`bench.httpd`): per request 80% the page unchanged (304 to the stored ETag), 15% a new
post, 5% trouble (a 500, a 503, an answer 3 s late, no answer before the 10 s timeout).
The schedule starts spread over one interval, as a running daemon leaves it.

A poll's due time is the `next_run_at` the daemon stored for it: the daemon writes a
poll's crawl record and the source's next run in one transaction, and this bench reads
both every second in one read transaction, so the `next_run_at` seen beside a source's
newest crawl record is the due time of its next poll (an error's backoff included: the
schedule moved those polls, so they are measured against their moved time, none is
left out). Lateness = the next record's `started_at` minus that due time. The first poll
of each source is not counted (it waits on the daemon's start-up), nor a poll whose
predecessor was not seen alone (two polls of one source within a second: none expected).

Reported: lateness p50 / p95 / max (targets p95 < 5 s, max < 30 s; baseline the same
daemon watching 20 sources); the daemon's mean CPU over the run (utime + stime from
/proc, children included; target < 1 core); its RSS growth from minute 2 to the end.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bench import httpd
from bench.common import Metric, Sizes, percentile, workdir
from bench.daemonrun import DaemonRun, mean_between, slope_between, watch_daemon
from bench.memory import write_config
from storage.db import Store
from storage.models import CrawlRun, Source


class DueTimes:
    """Reads the store as the daemon writes it: each crawl record, and the due time the
    daemon had stored for it (the `next_run_at` seen beside the previous record)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.store: Store | None = None
        self.last_id = 0
        self.due: dict[int, datetime | None] = {}  # source → stored next run after its newest
        self.late: list[float] = []  # seconds
        self.first = 0  # first polls (not counted)
        self.unknown = 0  # polls whose due time was not seen
        self.statuses: Counter[str] = Counter()
        self.served: dict[str, int] = {}  # what the site answered, by kind

    def read(self, _now: float = 0.0) -> None:
        if self.store is None:
            if not self.db.exists():
                return
            self.store = Store(f"sqlite:///{self.db}", upgrade=False, create=False)
        with self.store.read_session() as session:
            runs = session.execute(
                select(CrawlRun.id, CrawlRun.source_id, CrawlRun.started_at, CrawlRun.status)
                .where(CrawlRun.id > self.last_id)
                .order_by(CrawlRun.id)
            ).all()
            if not runs:
                return
            schedule = dict(session.execute(select(Source.id, Source.next_run_at)).all())
        newest: dict[int, int] = {}
        for run_id, source, started, status in runs:
            self.statuses[status] += 1
            if source not in self.due:
                self.first += 1
            elif (due := self.due[source]) is None:
                self.unknown += 1
            else:
                self.late.append((started - due).total_seconds())
            self.due[source] = None  # known only if this record is the source's newest
            newest[source] = run_id
        for source in newest:
            self.due[source] = schedule.get(source)
        self.last_id = runs[-1][0]

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _run(sources: int, seconds: float, interval: str) -> tuple[DueTimes, DaemonRun]:
    with (
        workdir("punctuality") as folder,
        httpd.running("mixed", "--sources", str(sources)) as base,
    ):
        config = write_config(folder, base, sources, interval)
        due = DueTimes(folder / "vigie.db")
        try:
            run = watch_daemon(config, seconds, tick=due.read)
            due.read()  # what was written before the stop
        finally:
            due.close()
        with urllib.request.urlopen(f"{base}/_stats", timeout=10) as answer:
            due.served = json.loads(answer.read())
    return due, run


def bench(sizes: Sizes) -> list[Metric]:
    n, seconds, interval = sizes.punctuality
    base_n, base_seconds, base_interval = sizes.punctuality_baseline
    due, run = _run(n, seconds, interval)
    base, _ = _run(base_n, base_seconds, base_interval)
    if not due.late:
        reason = f"no re-poll seen in {seconds:.0f}s; daemon log: {run.tail[-300:]!r}"
        return [Metric("punctuality_lateness_p95", None, "s", target=5.0, note=reason)]
    polls = sum(due.statuses.values())
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(due.statuses.items()))
    note = (
        f"{n} sources every {interval} (jitter 20%) for {seconds:.0f}s on the mixed site: "
        f"{polls} polls ({kinds}); {len(due.late)} re-polls timed against the next_run_at "
        f"stored for them (backoffs included), {due.first} first polls not counted"
        + (f", {due.unknown} without a seen due time" if due.unknown else "")
        + "; the site answered "
        + ", ".join(f"{k} {v}" for k, v in sorted(due.served.items()))
        + " (the crawler retries 500, 503 and timeouts)"
    )
    base_label = f"the same daemon watching {base_n} sources every {base_interval}"

    def pct(values: list[float], p: float) -> float | None:
        return percentile(values, p) if values else None

    lo = sizes.punctuality_rss_from
    span = min(20.0, (seconds - lo) / 2)  # the two windows averaged: around `lo`, at the end
    start_mb = mean_between(run.rss(), lo - span / 2, lo + span / 2)
    end_mb = mean_between(run.rss(), seconds - span, seconds)
    slope = slope_between(run.rss(), lo, seconds)
    return [
        Metric(
            "punctuality_lateness_p50",
            percentile(due.late, 50),
            "s",
            baseline=pct(base.late, 50),
            baseline_label=base_label,
            note=note,
        ),
        Metric(
            "punctuality_lateness_p95",
            percentile(due.late, 95),
            "s",
            baseline=pct(base.late, 95),
            baseline_label=base_label,
            target=5.0,
        ),
        Metric(
            "punctuality_lateness_max",
            max(due.late),
            "s",
            baseline=max(base.late) if base.late else None,
            baseline_label=base_label,
            target=30.0,
            note=f"earliest start {min(due.late):+.2f}s against its due time",
        ),
        Metric(
            "punctuality_cpu",
            run.cores(),
            "cores",
            target=1.0,
            note=f"mean over {run.seconds:.0f}s from spawn (start-up included), "
            f"utime + stime from /proc, children included",
        ),
        Metric(
            "punctuality_rss_growth",
            end_mb - start_mb,
            "MiB",
            target=10.0,
            note=f"mean RSS at {lo:.0f}s {start_mb:.0f} MiB → last {span:.0f} s {end_mb:.0f} MiB; "
            f"slope {slope:+.2f} MiB/min; peak {run.peak_mb:.0f} MiB",
        ),
    ]


if __name__ == "__main__":  # a manual run: python -m bench.punctuality
    from bench.common import SIZES

    for m in bench(SIZES[os.environ.get("VIGIE_BENCH_SIZES", "quick")]):
        print(m.as_json())
