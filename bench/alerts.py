"""Benchmark 7, alerts: what watching costs the ingest, and how soon a message arrives.

`alerts_match_overhead`: the ingest of benchmark 2 (live-blog pages of 100 sources →
`extract_document` → `save_crawl`, one transaction per page) with the outbox step of a
poll (`enqueue_crawl`: the new updates' text read back, cut into words, matched) against
100 watches — 60 of one or two words of news vocabulary, 20 phrases, 10 with an excluded
word, 10 of every update of one source — vs the same ingest without watches. Target: ≤ 10%.

`alerts_latency_p95`: `vigie run` watching 1,000 sources of the local newsroom server
(each gaining a post every 10 s, polled at the memory benchmark's interval), 20 of them
watched by one `[[alerts]]` with a webhook to a receiver in this process; for every
message, the time from the event's commit (its `created_at`, stamped in the poll's
transaction) to the request's arrival. Baseline: the same with the daemon watching only
the 20 sources. Target: p95 < 2 s.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bench import corpus, httpd
from bench.common import Metric, Sizes, percentile, quiet_gc, workdir
from bench.daemonrun import watch_daemon
from bench.ingest import CONTENT_TYPE, pages, register
from crawler.documents import extract_document
from crawler.models import CrawlResult
from storage.alert_match import Query, Watch, Watches
from storage.crawls import save_crawl
from storage.db import Store
from storage.models import AlertEvent, AlertMessage, Source
from storage.outbox import CrawlOutcome, enqueue_crawl
from storage.sources import ensure_sources
from vigie.config import load_config
from vigie.config_values import parse_duration

WATCHES = 100
LATENCY_EVERY = 10.0  # seconds between two posts of one source of the daemon's server
WATCHED = 20
WATCHED_NAMES = frozenset(f"live{i}" for i in range(0, 2 * WATCHED, 2))


def watches(seed: int = 7) -> Watches:
    """100 watches of the kinds users write, over the corpus's vocabulary."""
    rng = random.Random(seed)
    words = [w for w in corpus.vocabulary()[0][50:5000] if len(w) > 3]
    out: list[Watch] = []
    for i in range(60):
        text = " ".join(rng.sample(words, 1 + i % 2))
        out.append(Watch(f"w{i}", Query.parse(text), first_crawl="each"))
    for i in range(20):
        text = '"' + " ".join(rng.sample(words, 2)) + '"'
        out.append(Watch(f"p{i}", Query.parse(text), first_crawl="each"))
    for i in range(10):
        a, b = rng.sample(words, 2)
        out.append(Watch(f"x{i}", Query.parse(f"{a} -{b}"), first_crawl="each"))
    for i in range(10):
        out.append(Watch(f"s{i}", None, sources=frozenset({f"l{i}"}), first_crawl="each"))
    assert len(out) == WATCHES
    return Watches(tuple(out))


def ingest(store: Store, total: int, per_page: int, watched: Watches | None) -> tuple[float, int]:
    """(seconds of extraction + dedup + store [+ the outbox step], events written)."""
    ids, specs = register(store)
    elapsed = 0.0
    events = 0
    now = datetime.now(UTC)
    with quiet_gc():
        for j, _k, body in pages(total, per_page):
            spec = specs[j]
            start = time.perf_counter()
            page = extract_document(body, spec.url, spec, content_type=CONTENT_TYPE)
            result = CrawlResult(spec.name, spec.url, posts=page.posts, path=page.path)
            with store.session() as session:
                counts = save_crawl(session, ids[spec.name], result)
                if watched is not None:
                    crawl = CrawlOutcome(ids[spec.name], spec.name, counts.new_ids)
                    events += enqueue_crawl(session, watched, crawl, now)
            elapsed += time.perf_counter() - start
    return elapsed, events


def match_metric(sizes: Sizes) -> Metric:
    rounds = []
    for _ in range(2 if sizes.label != "tiny" else 1):
        with workdir("alerts") as folder:
            plain, _ = ingest(
                Store(f"sqlite:///{folder / 'a.db'}"),
                sizes.ingest_posts,
                sizes.ingest_per_page,
                None,
            )
            watched, events = ingest(
                Store(f"sqlite:///{folder / 'b.db'}"),
                sizes.ingest_posts,
                sizes.ingest_per_page,
                watches(),
            )
        rounds.append((watched, plain, events))
    watched, plain, events = min(rounds, key=lambda r: r[0] / r[1])
    return Metric(
        "alerts_match_overhead",
        watched,
        "s",
        baseline=plain,
        baseline_label="the same ingest without watches",
        target=1.10,
        target_on="ratio",
        note=f"{sizes.ingest_posts} posts, {WATCHES} watches, {events} events written "
        "(best of the rounds)",
    )


class _Receiver:
    """A webhook receiver in this process: arrival time per delivery key."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                now = time.time()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("X-Vigie-Delivery") or ""
                receiver.arrived.setdefault(key, now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _config(folder: Path, base: str, count: int, hook: str, interval: str) -> Path:
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
        "[alert_delivery]",
        'timeout = "5s"',
        "[[alerts]]",
        'name = "desk"',
        "sources = [" + ", ".join(f'"{n}"' for n in sorted(WATCHED_NAMES)) + "]",
        'first_crawl = "none"',
        f'webhook = "{hook}"',
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
    _spread(path, interval)
    return path


def _spread(path: Path, interval: str) -> None:
    """The schedule of the unwatched sources spread over one interval, as a running daemon
    leaves it (else all start overdue, 0.2 s apart); the watched ones are due at once."""
    config = load_config(path)
    store = Store(config.storage.url)
    rng = random.Random(len(config.sources))
    now = datetime.now(UTC)
    seconds = parse_duration(interval)
    try:
        with store.session() as session:
            ids = ensure_sources(session, [(s.name, s.url, s.kind) for s in config.sources])
            for name, source_id in ids.items():
                if name not in WATCHED_NAMES:
                    when = now + timedelta(seconds=rng.uniform(1, seconds))
                    session.execute(
                        update(Source).where(Source.id == source_id).values(next_run_at=when)
                    )
    finally:
        store.close()


def _latencies(sources: int, seconds: float, interval: str) -> tuple[list[float], str]:
    receiver = _Receiver()
    with (
        workdir("alerts-latency") as folder,
        httpd.running("newsroom", "--sources", str(sources), "--every", str(LATENCY_EVERY)) as base,
    ):
        config = _config(folder, base, sources, receiver.url, interval)
        tail = watch_daemon(config, seconds).tail[-500:]
        store = Store(f"sqlite:///{folder / 'vigie.db'}", create=False)
        try:
            with store.read_session() as session:
                made = {
                    key: created
                    for key, created in session.execute(
                        select(AlertMessage.key, AlertEvent.created_at).join(
                            AlertEvent, AlertEvent.message_id == AlertMessage.id
                        )
                    )
                }
        finally:
            store.close()
    found = [receiver.arrived[k] - made[k].timestamp() for k in made if k in receiver.arrived]
    receiver.server.shutdown()
    return found, tail


def latency_metric(sizes: Sizes) -> Metric:
    seconds = min(max(sizes.memory_seconds, 30.0), 120.0)
    interval = sizes.memory_interval  # the memory benchmark's: 1,000 sources every 10-30 s
    busy, tail = _latencies(
        sizes.memory_sources if sizes.label != "tiny" else 60, seconds, interval
    )
    alone, _ = _latencies(2 * WATCHED, seconds, interval)
    if not busy:
        return Metric("alerts_latency_p95", None, "s", note=f"no message arrived: {tail}")
    return Metric(
        "alerts_latency_p95",
        percentile(busy, 95),
        "s",
        baseline=percentile(alone, 95) if alone else None,
        baseline_label=f"the daemon watching only the {WATCHED} watched sources",
        target=2.0,
        note=f"{len(busy)} messages, median {percentile(busy, 50):.2f}s, "
        f"max {max(busy):.2f}s, {seconds:.0f}s of daemon",
    )


def bench(sizes: Sizes) -> list[Metric]:
    return [match_metric(sizes), latency_metric(sizes)]


if __name__ == "__main__":
    from bench.common import SIZES

    label = sys.argv[1] if len(sys.argv) > 1 else "quick"
    for m in bench(SIZES[label]):
        print(m.as_json())
