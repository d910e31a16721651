"""Cluster mode benchmark: `python -m bench.cluster [--sources 1000] [--json OUT]`.

On one machine, over a local server whose 1,000 feeds answer 304 (bench/httpd.py) and a
throwaway PostgreSQL (bench/pg.py), with real `vigie run --role ...` processes:

1. polls/s with 1, 2 and 4 worker processes (one scheduler), one source per job and 20
   sources per job: every source made due at once, timed until each has been polled;
2. the engine's overhead per poll: the CPU a worker process spends per poll against the
   CPU of the same polls run directly in one process (`Poller.poll`, as the daemon does);
3. lateness of due polls: 1,000 sources every minute, one scheduler and two workers, for
   `--lateness` seconds; a poll's lateness is its start minus its due time (the previous
   poll's save plus the interval; jitter off).

Targets (issue #18): engine overhead < 5 ms per job, lateness p95 < 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text, update

from bench import httpd
from bench.common import machine, percentile, workdir
from bench.pg import postgres
from storage.db import Store
from storage.models import CrawlRun, Source

TICKS = os.sysconf("SC_CLK_TCK")
FAR = datetime(2100, 1, 1, tzinfo=UTC)
VIGIE = (sys.executable, "-m", "vigie", "--log-level", "warning", "--config")


def write_config(folder: Path, name: str, url: str, base: str, n: int, **cluster: Any) -> Path:
    lines = [
        "[storage]",
        f'url = "{url}"',
        "[crawler]",
        "concurrency = 64",
        "per_host = 64",
        "autothrottle = false",
        "retries = 0",
        "[scheduler]",
        f'default_interval = "{cluster.pop("interval", "1h")}"',
        'jitter = "0%"',
        "[cluster]",
        f'worker_name = "{name}"',
        'heartbeat = "2s"',
        'stall_after = "10s"',
    ]
    lines += [f"{k} = {v}" for k, v in cluster.items()]
    for i in range(n):
        lines += ["[[sources]]", f'name = "s{i}"', f'url = "{base}/s/{i}"', 'kind = "feed"']
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start(config: Path, role: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*VIGIE, str(config), "run", "--role", role],
        stdout=subprocess.DEVNULL,
        stderr=(config.parent / f"{config.stem}.log").open("wb"),
        cwd=str(config.parent),
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


def wait(what: str, check: Any, timeout: float, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench: timed out waiting for {what}")
        time.sleep(every)


def live_workers(store: Store) -> int:
    with store.read_session() as s:
        return s.execute(
            text(
                "SELECT count(*) FROM cluster_workers WHERE role = 'worker' "
                "AND heartbeat_at > now() - interval '6 seconds' AND engine_id IS NOT NULL"
            )
        ).scalar_one()


def runs_since(store: Store, since: float) -> int:
    with store.read_session() as s:
        return s.execute(
            select(func.count(func.distinct(CrawlRun.source_id))).where(
                CrawlRun.finished_at > func.to_timestamp(since)
            )
        ).scalar_one()


def prime(store: Store, config: Path) -> None:
    """First polls (200s, whose ETags are stored), directly; then nothing is due."""
    subprocess.run(
        [*VIGIE, str(config), "run", "--once"],
        check=True,
        cwd=str(config.parent),
        stdout=subprocess.DEVNULL,
    )
    with store.session() as s:
        s.execute(update(Source).values(next_run_at=FAR))


def throughput(new_db: Any, base: str, folder: Path, n: int, workers: int, batch: int) -> dict:
    url = new_db()
    store = Store(url)
    cfgs = [
        write_config(folder, name, url, base, n, batch=batch, concurrency=16)
        for name in ["sched", *(f"w{i}" for i in range(workers))]
    ]
    prime(store, cfgs[0])
    procs = [start(cfgs[0], "scheduler"), *(start(c, "worker") for c in cfgs[1:])]
    try:
        wait("workers", lambda: live_workers(store) == workers, 180)
        cpu0 = sum(cpu_seconds(p.pid) for p in procs[1:])
        t0 = time.time()
        with store.session() as s:
            s.execute(update(Source).values(next_run_at=func.now()))
        wait("every source polled", lambda: runs_since(store, t0) >= n, 600, every=0.1)
        with store.read_session() as s:
            last = s.execute(select(func.max(CrawlRun.finished_at))).scalar_one()
        wall = last.timestamp() - t0
        cpu = sum(cpu_seconds(p.pid) for p in procs[1:]) - cpu0
    finally:
        stop(procs)
        store.close()
    return {
        "workers": workers,
        "batch": batch,
        "polls_per_s": n / wall,
        "cpu_ms_per_poll": 1000 * cpu / n,
    }


def direct(new_db: Any, base: str, folder: Path, n: int) -> dict:
    """The same polls run directly in this process (the daemon's path), CPU per poll."""
    from crawler.reactor import run
    from crawler.runner import CrawlService
    from scheduler.jobs import Poller
    from vigie.config import load_config

    url = new_db()
    config = load_config(write_config(folder, "direct", url, base, n))
    store = Store(url)

    async def main() -> tuple[float, float]:
        service = CrawlService(config.crawler)
        await service.start()
        poller = Poller(config, store, service)
        try:
            await poller.poll_many(config.enabled_sources())  # the 200s, their ETags stored
            cpu, t0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(poller.poll(s) for s in config.enabled_sources()))
            return time.process_time() - cpu, time.perf_counter() - t0
        finally:
            poller.close()
            await service.stop()

    cpu, wall = run(main)
    store.close()
    return {"polls_per_s": n / wall, "cpu_ms_per_poll": 1000 * cpu / n}


def lateness(new_db: Any, base: str, folder: Path, n: int, seconds: float) -> dict:
    url = new_db()
    store = Store(url)
    cfgs = [
        write_config(folder, name, url, base, n, interval="1m", concurrency=16)
        for name in ("lsched", "lw0", "lw1")
    ]
    procs = [start(cfgs[0], "scheduler"), start(cfgs[1], "worker"), start(cfgs[2], "worker")]
    try:
        wait("workers", lambda: live_workers(store) == 2, 180)
        time.sleep(seconds)  # the measured run itself
    finally:
        stop(procs)
    with store.read_session() as s:
        rows = s.execute(
            select(CrawlRun.source_id, CrawlRun.started_at, CrawlRun.finished_at).order_by(
                CrawlRun.source_id, CrawlRun.started_at
            )
        ).all()
    store.close()
    late, prev = [], {}
    for source, started, finished in rows:
        if source in prev:
            late.append((started - prev[source]).total_seconds() - 60.0)
        prev[source] = finished
    late.sort()
    return {
        "polls": len(rows),
        "repolls": len(late),
        "p50_s": percentile(late, 50),
        "p95_s": percentile(late, 95),
        "max_s": late[-1] if late else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--lateness", type=float, default=150.0, help="seconds measured")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine(), "sources": args.sources}
    with postgres() as new_db, workdir("cluster") as folder, httpd.running("static") as base:
        if new_db is None:
            sys.exit("bench.cluster: no PostgreSQL (set VIGIE_BENCH_PG_URL)")
        out["direct"] = direct(new_db, base, folder, args.sources)
        print("direct", out["direct"], flush=True)
        out["throughput"] = []
        for batch in (1, 20):
            for workers in (1, 2, 4):
                row = throughput(new_db, base, folder, args.sources, workers, batch)
                print(row, flush=True)
                out["throughput"].append(row)
        one = next(r for r in out["throughput"] if r["workers"] == 1 and r["batch"] == 1)
        out["overhead_cpu_ms_per_job"] = one["cpu_ms_per_poll"] - out["direct"]["cpu_ms_per_poll"]
        out["lateness"] = lateness(new_db, base, folder, args.sources, args.lateness)
        print("lateness", out["lateness"], flush=True)
    print(json.dumps(out, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
