"""Benchmark 6, memory: the daemon watching 1,000 sources, its peak RSS and whether it grows.

`vigie run` (the real CLI, in a child process) watches 500 live blogs and 500 feeds of the
local newsroom server (`bench.httpd --site newsroom`), each gaining a post every minute,
for 5 minutes (40 s in the quick run), with a SQLite store whose schedule is spread over
one interval. Its resident set size is read from /proc every second. Reported: the peak
(VmHWM) and the growth between minute 2 and minute 5 (the mean RSS of the last 20 s of the
run minus that of the 20 s around minute 2), with the slope of a least-squares line over
that window. The baseline is the same daemon watching a single source for 15 s (10 s quick). The
sources run with `per_host = concurrency = 16`: with the default `per_host = 1`, a
thousand sources on one local host would queue.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from bench import httpd
from bench.common import Metric, Sizes, workdir
from bench.daemonrun import mean_between, slope_between, watch_daemon
from storage.db import Store
from storage.models import Source
from storage.sources import ensure_sources
from vigie.config import load_config
from vigie.config_values import parse_duration

EVERY = 60.0  # seconds between two new posts of one source


def write_config(folder: Path, base: str, count: int, interval: str) -> Path:
    """The config, and a store whose schedule is spread over one interval, as a daemon that
    has been running leaves it (else all sources start overdue, 0.2 s apart)."""
    lines = [
        "[storage]",
        f'url = "sqlite:///{folder / "vigie.db"}"',
        "[crawler]",
        "concurrency = 16",
        "per_host = 16",
        'timeout = "10s"',
        "[scheduler]",
        f'default_interval = "{interval}"',
        'jitter = "20%"',
    ]
    for i in range(count):
        kind = "live" if i % 2 == 0 else "feed"
        lines += [
            "[[sources]]",
            f'name = "{kind}{i}"',
            f'url = "{base}/{kind}/{i}"',
            f'kind = "{"liveblog" if kind == "live" else "feed"}"',
        ]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(path)
    store = Store(config.storage.url)
    try:
        with store.session() as session:
            ids = ensure_sources(session, [(s.name, s.url, s.kind) for s in config.sources])
            rng = random.Random(count)
            now = datetime.now(UTC)
            seconds = parse_duration(interval)
            for source_id in ids.values():
                session.execute(
                    update(Source)
                    .where(Source.id == source_id)
                    .values(next_run_at=now + timedelta(seconds=rng.uniform(1, seconds)))
                )
    finally:
        store.close()
    return path


def _crawls(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, count(*) FROM crawl_runs GROUP BY status").fetchall()
        updates = conn.execute("SELECT count(*) FROM updates").fetchone()[0]
    return {str(s): int(n) for s, n in rows} | {"updates": int(updates)}


def bench(sizes: Sizes) -> list[Metric]:
    n = sizes.memory_sources
    lo, hi = sizes.memory_window
    with httpd.running("newsroom", "--sources", str(n), "--every", str(EVERY)) as base:
        with workdir("memory-base") as folder:
            base_peak = watch_daemon(
                write_config(folder, base, 1, sizes.memory_interval), sizes.memory_baseline_seconds
            ).peak_mb
        with workdir("memory") as folder:
            config = write_config(folder, base, n, sizes.memory_interval)
            run = watch_daemon(config, sizes.memory_seconds)
            samples, peak, tail = run.rss(), run.peak_mb, run.tail
            crawls = _crawls(folder / "vigie.db")
    errors = crawls.get("error", 0)
    start = mean_between(samples, lo - 10, lo + 10)
    end = mean_between(samples, hi - 20, hi)
    slope = slope_between(samples, lo, hi)
    polls = sum(v for k, v in crawls.items() if k != "updates")
    note = (
        f"{n} sources (interval {sizes.memory_interval}) for {sizes.memory_seconds:.0f}s: "
        f"{polls} polls ({crawls.get('ok', 0)} ok, {crawls.get('not_modified', 0)} not modified, "
        f"{errors} errors), {crawls['updates']} updates stored"
    )
    if errors:
        note += f"; log tail: {tail[-300:]!r}"
    return [
        Metric(
            "memory_peak_rss",
            peak,
            "MiB",
            baseline=base_peak,
            baseline_label="peak RSS of the daemon watching one source",
            target=300.0,
            note=note,
        ),
        Metric(
            "memory_growth",
            end - start,
            "MiB",
            target=10.0,
            note=f"mean RSS at {lo:.0f}s {start:.0f} MiB → at {hi:.0f}s {end:.0f} MiB; "
            f"slope {slope:+.2f} MiB/min over [{lo:.0f}s, {hi:.0f}s]",
        ),
    ]


if __name__ == "__main__":  # a manual run: python -m bench.memory
    from bench.common import SIZES

    for m in bench(SIZES[os.environ.get("VIGIE_BENCH_SIZES", "quick")]):
        print(m)
