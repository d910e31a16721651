"""Benchmark "peer": vigie next to changedetection.io on the same 200 live blogs.

200 live-blog pages of the local `peer` site (`bench.httpd`: pages that change only when
told), three rounds: the first (every page new), an unchanged one, one with 10% of the
pages changed (a post added). Wall time and CPU of each side per round.

- vigie: its real poll path in this process (`Poller.poll`, as the daemon runs it: state
  from SQLite, conditional GET through `CrawlService`, extraction, dedup, store) with
  `per_host = concurrency = 5`, AutoThrottle off (the peer has none); CPU is this
  process's (the server runs in its own). The floor of the unchanged round: a bare Scrapy
  spider with the same settings sending the same conditional requests (`bench.poll`);
  target: vigie within 1.2× of it.
- changedetection.io (optional: skipped, with the reason, when it is not installed; set
  `VIGIE_BENCH_CHANGEDETECTION` to its executable if it is not on PATH): its server on a
  loopback port with a temporary datastore, 5 fetch workers (`FETCH_WORKERS`), the plain
  HTTP fetcher; watches added through its API, each round triggered through its API
  (`recheck_all`) and timed until every watch's `last_checked` has moved (read every
  0.25 s); CPU of its process (all threads) from /proc.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import httpd
from bench.common import Metric, Sizes, median, not_measured, workdir
from bench.daemonrun import cpu_seconds
from bench.poll import BareClient, _log_like_the_daemon
from crawler.reactor import run
from crawler.runner import CrawlService
from scheduler.jobs import Poller
from storage.db import Store
from vigie.config import Config, load_config

PER_HOST = 5
ROUNDS = ("first", "unchanged", "changed")
CHANGE_EVERY = 10  # the changed round: one page in ten gains a post
UNCHANGED_TRIES = 3  # the unchanged round and its floor: medians of this many


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return median([w for w, _ in pairs]), median([c for _, c in pairs])


def write_config(folder: Path, base: str, count: int) -> Config:
    lines = [
        "[storage]",
        f'url = "sqlite:///{folder / "vigie.db"}"',
        "[crawler]",
        f"concurrency = {PER_HOST}",
        f"per_host = {PER_HOST}",
        "autothrottle = false",
        "[scheduler]",
        'default_interval = "1h"',
    ]
    for i in range(count):
        lines += ["[[sources]]", f'name = "p{i}"', f'url = "{base}/live/{i}"', 'kind = "liveblog"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path)


def _change(base: str) -> None:
    with urllib.request.urlopen(f"{base}/_change/{CHANGE_EVERY}", timeout=10) as answer:
        answer.read()


def vigie_rounds(base: str, count: int) -> dict[str, Any]:
    """{round: (wall s, CPU s, statuses)} of vigie, and the bare floor of the unchanged one."""
    _log_like_the_daemon()
    with workdir("peer") as folder:
        config = write_config(folder, base, count)
        sources = config.enabled_sources()
        etags = [(s.url, httpd.newsroom_etag("live", i, 5)) for i, s in enumerate(sources)]

        async def main() -> dict[str, Any]:
            store = Store(config.storage.url)
            service = CrawlService(config.crawler)
            bare = BareClient(config.crawler)
            await service.start()
            await bare.start()
            poller = Poller(config, store, service)
            out: dict[str, Any] = {}
            try:
                await asyncio.to_thread(poller.sync_sources)
                for name in ROUNDS:
                    if name == "changed":
                        await asyncio.to_thread(_change, base)
                    tries = UNCHANGED_TRIES if name == "unchanged" else 1
                    if name == "unchanged":
                        await bare.fetch(etags)  # its robots.txt and connections, as vigie's
                    mine, floor = [], []
                    for _ in range(tries):  # unchanged: alternating with the bare floor
                        cpu, start = time.process_time(), time.perf_counter()
                        reports = await asyncio.gather(*(poller.poll(s) for s in sources))
                        mine.append((time.perf_counter() - start, time.process_time() - cpu))
                        if name == "unchanged":
                            cpu, start = time.process_time(), time.perf_counter()
                            statuses = await bare.fetch(etags)
                            floor.append((time.perf_counter() - start, time.process_time() - cpu))
                    statuses_mine = Counter(r.status for r in reports)
                    out[name] = (*_medians(mine), statuses_mine)
                    if floor:
                        out["bare"] = (*_medians(floor), Counter(statuses))
            finally:
                poller.close()
                await service.stop()
                await bare.stop()
                store.close()
            return out

        result = run(main)
    return result


def changedetection_path() -> tuple[str | None, str]:
    """(its executable, "") or (None, why not)."""
    given = os.environ.get("VIGIE_BENCH_CHANGEDETECTION")
    if given:
        if os.access(given, os.X_OK):
            return given, ""
        return None, f"VIGIE_BENCH_CHANGEDETECTION={given!r} is not an executable"
    found = shutil.which("changedetection.io")
    if found:
        return found, ""
    return (
        None,
        "changedetection.io is not installed (not on PATH, VIGIE_BENCH_CHANGEDETECTION unset)",
    )


class ChangeDetection:
    """changedetection.io's server on a loopback port with a temporary datastore."""

    def __init__(self, exe: str, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        env = os.environ | {
            "FETCH_WORKERS": str(PER_HOST),
            "ALLOW_IANA_RESTRICTED_ADDRESSES": "true",  # its targets are on loopback
        }
        cmd = [exe, "-d", str(folder), "-C", "-h", "127.0.0.1", "-p", str(self.port)]
        self.log = (folder.parent / "changedetection.log").open("wb")
        self.proc = subprocess.Popen(
            [*cmd, "-l", "WARNING"], env=env, stdout=self.log, stderr=self.log
        )
        self.key = ""
        deadline = time.monotonic() + 120
        settings = folder / "changedetection.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"changedetection.io exited with {self.proc.returncode}")
            try:
                data = json.loads(settings.read_text(encoding="utf-8"))
                self.key = data["settings"]["application"]["api_access_token"]
                self.call("GET", "/api/v1/watch")
                return
            except (OSError, ValueError, KeyError):
                time.sleep(0.5)
        raise RuntimeError("changedetection.io did not answer within 120 s")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"x-api-key": self.key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
        return json.loads(text) if text.strip() else None

    def checked(self) -> list[int]:
        return [int(w.get("last_checked") or 0) for w in self.call("GET", "/api/v1/watch").values()]

    def round(self, trigger: Callable[[], None], count: int) -> tuple[float, float]:
        """(wall, CPU) seconds from the trigger until every watch was checked again."""
        time.sleep(1.1)  # last_checked has a resolution of one second
        since = int(time.time())
        cpu, start = cpu_seconds(self.proc.pid), time.perf_counter()
        trigger()
        deadline = start + 600
        while True:
            done = [t for t in self.checked() if t >= since]
            if len(done) >= count:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"changedetection.io: {len(done)} of {count} checked in 600 s")
            time.sleep(0.25)
        return time.perf_counter() - start, cpu_seconds(self.proc.pid) - cpu

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def peer_version(exe: str) -> str:
    """What `changedetection.io --version` says (its name and version)."""
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() or "changedetection.io"


def peer_rounds(exe: str, base: str, count: int) -> dict[str, tuple[float, float]]:
    with workdir("peer-cd") as folder:
        peer = ChangeDetection(exe, folder / "datastore")
        try:
            urls = [f"{base}/live/{i}" for i in range(count)]
            out = {}

            def add() -> None:
                for url in urls:
                    peer.call(
                        "POST", "/api/v1/watch", {"url": url, "fetch_backend": "html_requests"}
                    )

            def recheck() -> None:
                peer.call("GET", "/api/v1/watch?recheck_all=1")

            out["first"] = peer.round(add, count)
            out["unchanged"] = peer.round(recheck, count)

            def change_and_recheck() -> None:
                _change(base)
                recheck()

            out["changed"] = peer.round(change_and_recheck, count)
        finally:
            peer.stop()
    return out


def bench(sizes: Sizes, log: Callable[[str], None] = print) -> list[Metric]:
    n = sizes.peer_pages
    metrics = []
    exe, skipped = changedetection_path()
    with httpd.running("peer", "--sources", str(n)) as base:
        ours = vigie_rounds(base, n)
    peer: dict[str, tuple[float, float]] = {}
    version = ""
    if exe is not None:
        with httpd.running("peer", "--sources", str(n)) as base:
            try:
                version = peer_version(exe)
                peer = peer_rounds(exe, base, n)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                skipped = f"changedetection.io failed: {exc}"
    if skipped:
        log(f"  peer: skipped: {skipped}")
    for name in ROUNDS:
        wall, cpu, statuses = ours[name]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        label = f"{version} ({PER_HOST} workers, plain HTTP fetcher), same pages"
        theirs = peer.get(name)
        metrics.append(
            Metric(
                f"peer_{name}_wall",
                wall,
                "s",
                baseline=theirs[0] if theirs else None,
                baseline_label=label if theirs else "",
                note=f"{n} live blogs, per_host = {PER_HOST}: {kinds}"
                + (f"; peer not run: {skipped}" if skipped else ""),
            )
        )
        metrics.append(
            Metric(
                f"peer_{name}_cpu",
                cpu,
                "s",
                baseline=theirs[1] if theirs else None,
                baseline_label=label if theirs else "",
                note="CPU of vigie's process; the peer's: its server process, all threads",
            )
        )
    wall, cpu, statuses = ours["unchanged"]
    bare_wall, bare_cpu, bare_statuses = ours["bare"]
    metrics.append(
        Metric(
            "peer_unchanged_floor",
            wall,
            "s",
            baseline=bare_wall,
            baseline_label="bare Scrapy spider, same settings and conditional requests",
            target=1.2,
            target_on="ratio",
            note=f"the unchanged round against its floor: bare {dict(bare_statuses)}, "
            f"CPU {cpu:.2f}s vs bare {bare_cpu:.2f}s",
        )
    )
    if skipped:
        metrics.append(not_measured("peer_changedetection", "s", skipped))
    return metrics


if __name__ == "__main__":
    import sys

    from bench.common import SIZES

    for metric in bench(SIZES[sys.argv[1] if len(sys.argv) > 1 else "quick"]):
        print(metric.name, metric.as_json())
