"""Benchmark 7, the web pages: render time, live delay, memory with open pages.

- `web_timeline_p95_<size>`, `web_search_p95_<size>`: the server time (its
  `Server-Timing: app;dur=`, from the request to the page) of the timeline (`GET /`, all
  sources or one) and of the search page (`GET /search?q=`, the queries of benchmark 5)
  as a browser asks for them (Accept: text/html), on the cached store of 1M updates
  (100k quick). Baseline: the round trip of the same URLs' JSON twins (`?format=json`),
  the data without the page.
- `web_live_p95`: the time from a commit (a crawl saved by this process, as the daemon
  saves one) to the new row visible in a headless Chromium that has the timeline open,
  while 100 other pages (10 tiny) of ten kinds (sources, language) are connected to the
  same `vigie serve`. Baseline: the watcher's poll interval (the delay's floor on
  average is half of it). Needs Chromium and Playwright (else: not measured).
- `web_serve_peak_rss`: the peak resident memory of that `vigie serve` once the pages
  have been sent every commit. Baseline: the same server after one page render, before
  any live page connected.
"""

from __future__ import annotations

import http.client
import random
import selectors
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bigstore, corpus, searching
from bench.common import (
    Metric,
    Sizes,
    latency_metrics,
    not_measured,
    peak_rss_mb,
    percentile,
    rss_mb,
    size_label,
    workdir,
)
from crawler.models import CrawlResult, RawPost
from storage.changes import latest_revision_id
from storage.crawls import save_crawl
from storage.db import Store
from storage.sources import ensure_sources
from vigie.web.live import POLL_SECONDS

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
LIVE_SOURCES = 10
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _server_ms(response: http.client.HTTPResponse, metric: str = "app") -> float:
    timing = response.getheader("server-timing") or ""
    for part in timing.split(","):
        name, _, params = part.strip().partition(";")
        if name == metric and params.startswith("dur="):
            return float(params[4:])
    raise RuntimeError(f"no Server-Timing {metric};dur in {timing!r}")


def _get(conn: http.client.HTTPConnection, path: str, accept: str) -> tuple[float, float, float]:
    """(round trip in s, server time and CPU time in ms, or nan) of one GET on a
    kept-alive connection."""
    start = time.perf_counter()
    conn.request("GET", path, headers={"Accept": accept})
    response = conn.getresponse()
    body = response.read()
    spent = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
    if accept != HTML:
        return spent, float("nan"), float("nan")
    return spent, _server_ms(response), _server_ms(response, "cpu")


def _renders(port: int, paths: list[str]) -> tuple[list[float], list[float], list[float]]:
    """(server times of the pages, their CPU times, round trips of their JSON twins), s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    pages, cpu, twins = [], [], []
    try:
        for path in paths:
            _, server, used = _get(conn, path, HTML)
            pages.append(server / 1000)
            cpu.append(used / 1000)
            joined = "&" if "?" in path else "?"
            twins.append(_get(conn, path + joined + "format=json", "application/json")[0])
    finally:
        conn.close()
    return pages, cpu, twins


def _page_metrics(sizes: Sizes, log: Callable[[str], None]) -> list[Metric]:
    size = max(sizes.stores)
    label = size_label(size)
    path = bigstore.build(size, log=log)
    bigstore.warm(path)
    store = Store(f"sqlite:///{path}", upgrade=False)
    try:
        qs = searching.queries(store, size, sizes.searches)
    finally:
        store.close()
    rng = random.Random(7)
    timelines = [
        "/" if i % 2 else f"/?source=src{rng.randrange(bigstore.SOURCES) + 1}"
        for i in range(sizes.searches)
    ]
    searches = ["/search?" + urllib.parse.urlencode({"q": q}) for q in qs]
    metrics: list[Metric] = []
    with workdir("web") as folder:
        try:
            server = searching.Server(folder, path)
        except RuntimeError as exc:
            return [
                not_measured(f"web_{page}_p95_{label}", "ms", str(exc), 100.0)
                for page in ("timeline", "search")
            ]
        try:
            _renders(server.port, timelines[:5] + searches[:5])  # warm the caches
            for page, paths in (("timeline", timelines), ("search", searches)):
                times, cpu, twins = _renders(server.port, paths)
                note = f"{len(paths)} pages at {size:,} updates, server time (Server-Timing)"
                metrics += latency_metrics(
                    f"web_{page}_p{{p}}_{label}",
                    times,
                    twins,
                    "p{p} round trip of the JSON twins (?format=json)",
                    100.0,
                    note,
                )
                metrics.append(
                    Metric(
                        f"web_{page}_cpu_p95_{label}",
                        percentile(cpu, 95) * 1000,
                        "ms",
                        note="CPU time of the server process per page (one request at a "
                        "time): what a page costs whatever else loads the machine",
                    )
                )
        finally:
            server.stop()
    return metrics


# --- live ----------------------------------------------------------------------------------


class Listeners:
    """`count` open live pages on raw sockets, read (and counted) by one thread."""

    def __init__(self, port: int, count: int, after: int) -> None:
        self.events = [0] * count
        self.socks: list[socket.socket] = []
        self.selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        for i in range(count):
            query = urllib.parse.urlencode(
                {"after": after, "lang": ("en", "fr")[i % 2], "source": f"s{i % 5}"}
            )
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            request = f"GET /live?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            sock.sendall((request + "Accept: text/event-stream\r\n\r\n").encode())
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, i)
            self.socks.append(sock)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                self.events[key.data] += data.count(b"event: update")

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        for sock in self.socks:
            sock.close()


def _commit(store: Store, ids: dict[str, int], n: int) -> str:
    """One new post (words of the benchmark corpus: no two alike, so no story joins
    them) in source s{n % LIVE_SOURCES}, saved as a crawl; its headline."""
    name = f"s{n % LIVE_SOURCES}"
    writer = corpus.Writer(seed=1000 + n)
    headline = f"{n} {writer.headline()}"
    post = RawPost(
        headline=headline,
        body="\n\n".join(writer.paragraph() for _ in range(2)),
        published_at=datetime.now(UTC),
        url=f"https://bench.invalid/{name}#live-{n}",
        key=f"https://bench.invalid/{name}#live-{n}",
    )
    with store.session() as session:
        result = CrawlResult(name, f"https://bench.invalid/{name}", posts=[post])
        save_crawl(session, ids[name], result)
    return headline


def _live_metrics(sizes: Sizes) -> list[Metric]:
    pages = 10 if sizes.label == "tiny" else 100
    commits = {"tiny": 3, "quick": 10}.get(sizes.label, 30)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _live_unmeasured("playwright is not installed")
    if not Path(CHROMIUM).exists():
        return _live_unmeasured(f"no Chromium at {CHROMIUM}")
    with workdir("web-live") as folder:
        db = folder / "live.db"
        store = Store(f"sqlite:///{db}")
        try:
            with store.session() as session:
                names = [f"s{i}" for i in range(LIVE_SOURCES)]
                rows = [(n, f"https://bench.invalid/{n}", "auto") for n in names]
                ids = ensure_sources(session, rows)
            for n in range(200):  # a timeline to start from
                _commit(store, ids, -n - 1)
            server = searching.Server(folder, db)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                _get(conn, "/", HTML)  # the templates loaded, the caches warm
                conn.close()
                base_rss = rss_mb(server.proc.pid)
                with store.read_session() as session:
                    after = latest_revision_id(session)
                listeners = Listeners(server.port, pages, after)
                try:
                    delays = _browser_delays(sync_playwright, server.port, store, ids, commits)
                    time.sleep(POLL_SECONDS * 4)  # the last events reach every page
                    peak = peak_rss_mb(server.proc.pid)
                    got = sorted(listeners.events)
                finally:
                    listeners.close()
            finally:
                server.stop()
        finally:
            store.close()
    expected = commits // LIVE_SOURCES  # each listener follows one source
    note = (
        f"{commits} commits, {pages} other live pages connected (they got "
        f"{got[0]}–{got[-1]} events each, about {expected} expected)"
    )
    return [
        Metric(
            "web_live_p50",
            percentile(delays, 50),
            "s",
            baseline=POLL_SECONDS,
            baseline_label="the watcher's poll interval",
            note=note,
        ),
        Metric(
            "web_live_p95",
            percentile(delays, 95),
            "s",
            baseline=POLL_SECONDS,
            baseline_label="the watcher's poll interval",
            target=2.0,
            note=note,
        ),
        Metric(
            "web_serve_peak_rss",
            peak,
            "MiB",
            baseline=base_rss,
            baseline_label="vigie serve after one page, no live page",
            target=150.0,
            note=f"vigie serve with {pages + 1} live pages, after {commits} commits",
        ),
    ]


def _browser_delays(
    playwright: Any, port: int, store: Store, ids: dict[str, int], commits: int
) -> list[float]:
    delays = []
    with playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("#live-status.on").wait_for(timeout=30_000)
            for n in range(commits):
                headline = _commit(store, ids, n)
                committed = time.perf_counter()
                page.get_by_text(headline, exact=True).wait_for(timeout=30_000)
                delays.append(time.perf_counter() - committed)
                time.sleep(random.Random(n).uniform(0, POLL_SECONDS))  # not in step with ticks
        finally:
            browser.close()
    return delays


def _live_unmeasured(reason: str) -> list[Metric]:
    return [
        not_measured("web_live_p95", "s", reason, 2.0),
        not_measured("web_serve_peak_rss", "MiB", reason, 150.0),
    ]


def bench(sizes: Sizes, log: Callable[[str], None] = print) -> list[Metric]:
    return _page_metrics(sizes, log) + _live_metrics(sizes)
