"""Benchmark 5, search: `vigie updates --search` as a library call and over HTTP.

Against the cached stores of `bench.bigstore` (1M updates in the full run, 100k in the
quick one): the queries are what people type — a word or two of news vocabulary, sampled
over frequency ranks 50 to 5,000 (the stop words no one searches for left out), and
two-word phrases taken from stored headlines (not two of the 100 commonest words: no one
searches for "de la"), half of them with an excluded word. Each is timed as the CLI
runs it (`find_updates` with `search=`, 100 rows, best match first, in a read session)
and as `GET /updates?search=` against `vigie serve` started on the same store. Baselines:
the same calls without `search` (the newest 100 updates, read from their index).
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import random
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bench import bigstore, corpus
from bench.common import (
    ROOT,
    Metric,
    Sizes,
    latency_metrics,
    not_measured,
    percentile,
    size_label,
    workdir,
)
from storage.db import Store
from storage.models import Update

LIMIT = 100


def queries(store: Store, size: int, count: int) -> list[str]:
    rng = random.Random(size + 5)
    words, _ = corpus.vocabulary()
    rank = {w: i for i, w in enumerate(words)}
    out: list[str] = []
    with store.read_session() as session:
        while len(out) < count:
            kind = len(out) % 4

            def word() -> str:
                return words[int(math.exp(rng.uniform(math.log(50), math.log(5000))))]

            if kind == 0:
                out.append(word())
            elif kind == 1:
                out.append(f"{word()} {word()}")
            else:
                uid = rng.randrange(size) + 1
                headline = session.scalar(select(Update.headline).where(Update.id == uid)) or ""
                w = headline.split()
                # a phrase someone would type: not two of the 100 commonest words ("de la")
                pairs = [
                    (a, b)
                    for a, b in itertools.pairwise(w)
                    if rank.get(a.lower(), 0) >= 100 or rank.get(b.lower(), 0) >= 100
                ]
                if not pairs:
                    continue
                a, b = pairs[rng.randrange(len(pairs))]
                phrase = f'"{a} {b}"'
                out.append(phrase if kind == 2 else f"{phrase} -{word()}")
    return out


def _library_times(store: Store, qs: list[str | None]) -> tuple[list[float], list[int]]:
    from storage.filters import UpdateFilter
    from storage.queries import find_updates

    times, found = [], []
    for q in qs:
        with store.read_session() as session:
            start = time.perf_counter()
            page = find_updates(session, UpdateFilter(search=q, limit=LIMIT))
            times.append(time.perf_counter() - start)
        found.append(len(page.rows))
    return times, found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """`vigie serve` on a store, in a child process."""

    def __init__(self, folder: Path, db: Path) -> None:
        self.port = _free_port()
        config = folder / "config.toml"
        config.write_text(
            f'[storage]\nurl = "sqlite:///{db}"\n[api]\nport = {self.port}\n', encoding="utf-8"
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigie",
                "--config",
                str(config),
                "--log-level",
                "warning",
                "serve",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"vigie serve exited: {err.strip()[-300:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("vigie serve did not listen within 30 s")

    def times(self, qs: list[str | None]) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        times = []
        try:
            for q in qs:
                params = {"limit": str(LIMIT)} | ({"search": q} if q is not None else {})
                start = time.perf_counter()
                conn.request("GET", "/updates?" + urllib.parse.urlencode(params))
                response = conn.getresponse()
                body = response.read()
                times.append(time.perf_counter() - start)
                if response.status != 200:
                    raise RuntimeError(f"GET /updates: {response.status} {body[:200]!r}")
                json.loads(body)
        finally:
            conn.close()
        return times

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def bench(sizes: Sizes, log: Callable[[str], None] = print) -> list[Metric]:
    try:
        from storage.queries import search_updates  # noqa: F401
    except ImportError:
        return [
            not_measured("search_p95_library", "ms", "search not built yet", 50.0),
            not_measured("search_p95_http", "ms", "search not built yet", 50.0),
        ]
    size = max(sizes.stores)
    label = size_label(size)
    path = bigstore.build(size, log=log)
    bigstore.warm(path)
    store = Store(f"sqlite:///{path}", upgrade=False)
    metrics: list[Metric] = []
    try:
        qs: list[str | None] = list(queries(store, size, sizes.searches))
        plain: list[str | None] = [None] * len(qs)
        _library_times(store, qs[:5] + plain[:5])  # warm the page cache
        lib, found = _library_times(store, qs)
        base, _ = _library_times(store, plain)
    finally:
        store.close()
    note = (
        f"{len(qs)} queries at {size:,} updates, {LIMIT} rows each, best first; "
        f"median {int(percentile(found, 50))} rows returned"
    )
    metrics += latency_metrics(
        f"search_p{{p}}_library_{label}",
        lib,
        base,
        f"p{{p}} of the newest {LIMIT} updates, no search",
        50.0,
        note,
    )
    with workdir("search") as folder:
        try:
            server = _Server(folder, path)
        except RuntimeError as exc:
            metrics.append(not_measured(f"search_p95_http_{label}", "ms", str(exc), 50.0))
            return metrics
        try:
            server.times(qs[:5] + plain[:5])
            http_times = server.times(qs)
            http_base = server.times(plain)
        finally:
            server.stop()
    metrics += latency_metrics(
        f"search_p{{p}}_http_{label}",
        http_times,
        http_base,
        f"p{{p}} of GET /updates (newest {LIMIT}), no search",
        50.0,
        f"vigie serve on the same store, one keep-alive connection; {note}",
    )
    return metrics
