"""Benchmark 9, start-up: how long a command takes from the process's start, as a user
(or cron) runs it.

Every figure is the wall time of a fresh `python -m vigie ...` process, timed from just
before it is spawned by this process:

- `startup_help`: `vigie --help`; baseline `python -c pass` (the interpreter alone);
- `startup_updates_100k`, `startup_sources_100k`, `startup_show_100k`: the read-only
  commands on the cached store of `bench.bigstore` (100k updates; 3k in the tiny run),
  with a config naming its 200 sources; baseline `python -c "import sqlalchemy"` (what
  any command that reads the store must load). Target: p95 < 300 ms.
- `startup_run_once_first_request`: `vigie run --once` on one feed of a loopback server
  in this process, from the spawn to the server's first request (robots.txt); the store
  already exists (cron's case). Baseline `python -c "import scrapy"` (Scrapy itself must
  load before anything is fetched). Target: p95 < 500 ms.

p50 is information, p95 is judged. The first run of each command is a warm-up (the
page cache, the bytecode cache) and is not counted.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import bigstore, corpus
from bench.common import Metric, Sizes, latency_metrics, percentile, size_label, workdir

RUNS = {"tiny": 2, "quick": 7, "full": 15}  # timed runs of each command, after a warm-up
READ_TARGET_MS = 300.0
FIRST_REQUEST_TARGET_MS = 500.0
FIRST_REQUEST_TIMEOUT = 60.0


def _env() -> dict[str, str]:
    """This environment without what would point vigie elsewhere, and with the bytecode
    cache on (as on a user's machine: the warm-up run writes it)."""
    drop = ("VIGIE_", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_runs(cmd: Sequence[str], runs: int, cwd: Path) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of `runs` runs of cmd after one untimed; a failing run
    raises."""
    walls, cpus = [], []
    env = _env()
    for k in range(runs + 1):
        cpu = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
        if k:
            walls.append(elapsed)
            cpus.append(_children_cpu() - cpu)
    return walls, cpus


def _wall(cmd: Sequence[str], runs: int, cwd: Path) -> list[float]:
    return _timed_runs(cmd, runs, cwd)[0]


def _python(code: str, runs: int, cwd: Path) -> list[float]:
    return _wall([sys.executable, "-c", code], runs, cwd)


def _command_metrics(
    name: str,
    cmd: Sequence[str],
    runs: int,
    cwd: Path,
    base: tuple[Sequence[float], str],
    target: float | None,
) -> list[Metric]:
    """p50 and p95 of the wall time (p95 judged), and the p50 of the CPU time (user +
    system: the figure that moves least when the machine is shared)."""
    walls, cpus = _timed_runs(cmd, runs, cwd)
    note = f"`{' '.join(_shown(cmd))}` wall time, {runs} runs"
    cpu = Metric(f"{name}_cpu_p50", percentile(cpus, 50) * 1000, "ms", note="user + system")
    return [*latency_metrics(f"{name}_p{{p}}", walls, base[0], base[1], target, note), cpu]


def _shown(cmd: Sequence[str]) -> list[str]:
    """The command as a user types it: `vigie ...` without the bench's own options."""
    args = list(cmd[3:])
    while args and args[0] in ("--config", "--log-level"):
        args = args[2:]
    return ["vigie", *args]


def _vigie(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "vigie", "--config", str(config), "--log-level", "warning", *args]


def _read_config(folder: Path, db: Path) -> Path:
    lines = ["[storage]", f'url = "sqlite:///{db}"']
    for j in range(1, bigstore.SOURCES + 1):
        lines += ["", "[[sources]]", f'name = "src{j}"', f'url = "{bigstore.source_url(j)}"']
    path = folder / "read.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_metrics(sizes: Sizes, runs: int, folder: Path, log: Callable[[str], None]) -> list[Metric]:
    size = sizes.stores[0]
    db = bigstore.build(size, log=log)
    bigstore.warm(db)
    config = _read_config(folder, db)
    label = size_label(size)
    base = (_python("import sqlalchemy", runs, folder), 'python -c "import sqlalchemy" p{p}')
    out: list[Metric] = []
    for name, args in (("updates", ()), ("sources", ()), ("show", (str(size // 2),))):
        log(f"  vigie {name} on {label}")
        cmd = _vigie(config, name, *args)
        out += _command_metrics(f"startup_{name}_{label}", cmd, runs, folder, base, READ_TARGET_MS)
    return out


def help_metrics(runs: int, folder: Path) -> list[Metric]:
    base = (_python("pass", runs, folder), "python -c pass p{p}")
    cmd = [sys.executable, "-m", "vigie", "--help"]
    return _command_metrics("startup_help", cmd, runs, folder, base, None)


class FirstRequest:
    """A loopback site of one RSS feed that notes the time (monotonic) of the first
    request it gets after `arm()`."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.seen = threading.Event()
        feed = corpus.rss_feed(
            "http://bench.invalid/feed",
            "Flux",
            [corpus.Post(1, "Titre", ("Texte.",), corpus.BASE_TIME)],
        ).encode()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if site.first is None:
                    site.first = time.monotonic()
                    site.seen.set()
                found = self.path == "/feed"
                body = feed if found else b"not found"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/rss+xml" if found else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arm(self) -> None:
        self.first = None
        self.seen.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_once_metrics(runs: int, folder: Path) -> list[Metric]:
    site = FirstRequest()
    try:
        config = folder / "once.toml"
        config.write_text(
            f'[storage]\nurl = "sqlite:///{folder / "once.db"}"\n\n'
            f'[[sources]]\nname = "feed"\nurl = "http://127.0.0.1:{site.port}/feed"\n'
            'kind = "feed"\n',
            encoding="utf-8",
        )
        cmd = _vigie(config, "run", "--once")
        env = _env()
        times = []
        for k in range(runs + 1):  # the first creates the store: not counted
            site.arm()
            start = time.monotonic()
            proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
            if proc.returncode != 0 or not site.seen.wait(FIRST_REQUEST_TIMEOUT):
                raise RuntimeError(f"run --once exited {proc.returncode}: {proc.stderr[-500:]}")
            if k:
                times.append(site.first - start)  # type: ignore[operator]
    finally:
        site.close()
    base = _python("import scrapy", runs, folder)
    return latency_metrics(
        "startup_run_once_first_request_p{p}",
        times,
        base,
        'python -c "import scrapy" p{p}',
        FIRST_REQUEST_TARGET_MS,
        f"spawn to the first request of `vigie run --once` (one feed), {runs} runs",
    )


def bench(sizes: Sizes, log: Callable[[str], None] = print) -> list[Metric]:
    runs = RUNS[sizes.label]
    with workdir("startup") as folder:
        log("  vigie --help")
        metrics = help_metrics(runs, folder)
        metrics += read_metrics(sizes, runs, folder, log)
        log("  vigie run --once")
        metrics += run_once_metrics(runs, folder)
    return metrics


if __name__ == "__main__":  # a manual run: python -m bench.startup [tiny|quick|full]
    import json

    from bench.common import SIZES
    from bench.run import table

    label = sys.argv[1] if len(sys.argv) > 1 else "quick"
    result = {m.name: m.as_json() for m in bench(SIZES[label], log=print)}
    print(table(result))
    print(json.dumps(result, indent=1, ensure_ascii=False))
