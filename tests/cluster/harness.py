"""A cluster of real vigie processes over the newsroom fixture, for tests/cluster: its
config files, its processes, and what they wrote, read from the store.

Every wait is a deadline on a condition read from the store (never a fixed sleep): a
loaded machine makes them slower, not wrong.
"""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from storage.db import Store
from storage.models import CrawlRun, Revision, Source, Update, UpdateKey
from tests.helpers import PLAIN_SELECTORS, write_config
from tests.newsroom.httpkit import Request
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import fixture_state

INTERVAL = 20.0  # seconds, every source
POSTS = 1  # of the fixture's, on every page (fewer: 300 sources' first saves cost less)
SLOW = 3.0  # seconds the slow sources take to answer: polls a kill catches mid-way
CLUSTER = {"heartbeat": "1s", "stall_after": "5s", "tick": "1s", "concurrency": 16}
SHAPES = [
    ("live", "/live/plain", "liveblog"),
    ("rss", "/feeds/rss.xml", "feed"),
    ("atom", "/feeds/atom.xml", "feed"),
    ("rdf", "/feeds/rdf.xml", "feed"),
    ("jsonld", "/live/jsonld", "liveblog"),
    ("micro", "/live/microdata", "liveblog"),
]


def newsroom() -> Newsroom:
    """The fixture site with its first POSTS posts and the coverage going on (so sources
    never end),
    plus /slow/rss.xml: the RSS feed after SLOW seconds."""
    full = fixture_state()
    posts = full.posts[:POSTS]
    kept = [n for n in full.key_moments if n in {p.n for p in posts}]
    site = Newsroom(states=[dataclasses.replace(full, posts=posts, key_moments=kept, ended=False)])

    def slow(request: Request) -> Any:
        time.sleep(SLOW)
        return site.respond(dataclasses.replace(request, path="/feeds/rss.xml"))

    site.extra_routes["/slow/rss.xml"] = slow
    return site


def sources(site: Newsroom, count: int, slow: int) -> list[dict[str, Any]]:
    """`count` sources over the six shapes (each its own URL by query), `slow` of them slow."""
    out = []
    common = {"timezone": "Europe/Paris", "language": "fr", "interval": f"{INTERVAL:g}s"}
    for i in range(count):
        if i < slow:
            name, path, kind = "slow", "/slow/rss.xml", "feed"
        else:
            name, path, kind = SHAPES[i % len(SHAPES)]
        src = {"name": f"{name}-{i}", "url": site.url(f"{path}?n={i}"), "kind": kind} | common
        if path == "/live/plain":
            src["selectors"] = PLAIN_SELECTORS
        out.append(src)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_port(url: str, port: int) -> str:
    return make_url(url).set(port=port).render_as_string(hide_password=False)


class Cluster:
    def __init__(self, url: str, folder: Path, srcs: list[dict[str, Any]]) -> None:
        self.url = url
        self.folder = folder
        self.sources = srcs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.metrics_ports: dict[str, int] = {}
        self.killed: set[str] = set()
        self.store = Store(url)  # creates the schema before the processes start

    def config(self, name: str, url: str | None = None) -> Path:
        path = write_config(
            self.folder / f"{name}.toml",
            self.sources,
            storage_url=url or self.url,
            crawler={"concurrency": 32, "per_host": 16, "retries": 0, "timeout": "8s"},
            scheduler={"default_interval": f"{INTERVAL:g}s", "jitter": "0%"},
        )
        lines = ["", "[cluster]", f'worker_name = "{name}"']
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in CLUSTER.items()]
        port = self.metrics_ports[name] = free_port()
        lines += ["", "[metrics]", f'listen = "127.0.0.1:{port}"']
        with path.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, name: str, role: str, url: str | None = None) -> subprocess.Popen[bytes]:
        config = self.config(name, url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigie", "--config", str(config), "run", "--role", role],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / f"{name}.log").open("wb"),
            cwd=str(self.folder),
        )
        self.procs[name] = proc
        return proc

    def scrape(self, name: str, path: str = "/metrics") -> tuple[int, str]:
        """GET a path of a process's own listener: (status, body)."""
        url = f"http://127.0.0.1:{self.metrics_ports[name]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def lateness(self, names: tuple[str, ...]) -> dict[float, float]:
        """The processes' `vigie_poll_lateness_seconds` histograms added up: bucket -> count."""
        total: dict[float, float] = defaultdict(float)
        for name in names:
            for family in text_string_to_metric_families(self.scrape(name)[1]):
                if family.name != "vigie_poll_lateness_seconds":
                    continue
                for sample in family.samples:
                    if sample.name.endswith("_bucket"):
                        total[float(sample.labels["le"])] += sample.value
        return dict(total)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-4000:]

    def kill(self, name: str) -> float:
        """kill -9; when (epoch seconds)."""
        self.killed.add(name)
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=30)
        return time.time()

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM to every process left; the exit codes of all."""
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = {}
        for name, p in self.procs.items():
            try:
                codes[name] = p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                codes[name] = None
        return codes

    # --- what the store says ------------------------------------------------------------

    def runs(self) -> dict[str, list[tuple[datetime, datetime, str]]]:
        """Per source: its crawls (started, finished, worker), oldest first."""
        with self.store.read_session() as session:
            rows = session.execute(
                select(Source.name, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.worker)
                .join(Source, Source.id == CrawlRun.source_id)
                .order_by(CrawlRun.started_at)
            ).all()
        out: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
        for name, start, end, worker in rows:
            out[name].append((start, end, worker))
        return out

    def workers(self) -> dict[str, dict[str, Any]]:
        from storage.cluster import workers

        with self.store.read_session() as session:
            return {w["name"]: w for w in workers(session, datetime.now(UTC))}

    def running_jobs(self, engine_id: int) -> list[list[int]]:
        """The source ids of the poll jobs the engine says this worker runs now."""
        with self.store.read_session() as session:
            rows = session.execute(
                text(
                    "SELECT args->'source_ids' FROM procrastinate.procrastinate_jobs "
                    "WHERE status = 'doing' AND worker_id = :w"
                ),
                {"w": engine_id},
            )
            return [list(r[0]) for r in rows]

    def make_due(self, count: int) -> list[str]:
        """At most `count` sources not due yet (so not deferred yet) made due now; their names."""
        with self.store.session() as session:
            later = datetime.now(UTC) + timedelta(seconds=2)
            names = list(
                session.execute(
                    select(Source.name).where(Source.next_run_at > later).limit(count)
                ).scalars()
            )
            session.execute(
                update(Source).where(Source.name.in_(names)).values(next_run_at=func.now())
            )
        return names

    def names_by_id(self) -> dict[int, str]:
        with self.store.read_session() as session:
            return dict(session.execute(select(Source.id, Source.name)).all())

    def per_source(self, model: type) -> dict[str, int]:
        with self.store.read_session() as session:
            q = select(Source.name, func.count()).join(Update, Update.source_id == Source.id)
            if model is Revision:
                q = q.join(Revision, Revision.update_id == Update.id)
            return dict(session.execute(q.group_by(Source.name)).all())

    def duplicate_keys(self) -> list[Any]:
        with self.store.read_session() as session:
            return list(
                session.execute(
                    select(UpdateKey.source_id, UpdateKey.key_hash, func.count())
                    .group_by(UpdateKey.source_id, UpdateKey.key_hash)
                    .having(func.count() > 1)
                ).all()
            )


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Poll `check` until it returns something true; its value. AssertionError at the
    deadline, saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # the store may not be ready yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)
