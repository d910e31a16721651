"""Politeness as a server sees it, through the real `vigie run --once`: never more than
`per_host` requests at once to one host, from the first request on (robots.txt, redirects and
retries included), hosts not blocking each other; a short Retry-After waited for and retried
within the crawl, a long one left to the scheduler (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_vigie, write_config
from tests.newsroom.httpkit import Request, Response
from tests.newsroom.server import Newsroom

pytestmark = pytest.mark.slow

HOSTS = ("127.0.0.1", "localhost")  # two host names, one server: two slots of the downloader
FEEDS_PER_HOST = 8
RSS_TYPE = {"Content-Type": "application/rss+xml"}


def feed(name: str) -> bytes:
    """A small feed of two posts of its own."""
    items = "".join(
        f"<item><title>{name}: point {n}</title><link>http://example.org/{name}/{n}</link>"
        f"<guid>{name}-{n}</guid><description>Le point numéro {n} de la source {name}, "
        f"en quelques mots.</description><pubDate>Tue, 06 Jan 2026 1{n}:00:00 GMT</pubDate>"
        "</item>"
        for n in (1, 2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>http://example.org/{name}</link>{items}</channel></rss>"
    ).encode()


class CountingNewsroom(Newsroom):
    """The fixture site holding every answer a little, counting the requests it is answering
    at once per host name (from the Host header), robots.txt included.

    The count drops just before the answer is written: a client that waits for an answer
    before sending the next request can never be seen above its limit, one that does not
    is seen over the whole hold."""

    def __init__(self, hold: float) -> None:
        super().__init__()
        self.hold = hold
        self._counting = threading.Lock()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.peak_total = 0

    def respond(self, request: Request) -> Response:
        host = (request.header("Host") or "").rsplit(":", 1)[0]
        with self._counting:
            self.active[host] += 1
            self.peak[host] = max(self.peak[host], self.active[host])
            self.peak_total = max(self.peak_total, self.active.total())
        try:
            time.sleep(self.hold)
            return super().respond(request)
        finally:
            with self._counting:
                self.active[host] -= 1


def fails_once(site: Newsroom, path: str, failure: Callable[[], Response], body: bytes) -> None:
    """`path` answers `failure()` the first time, then the feed `body`."""
    seen = {"n": 0}
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            seen["n"] += 1
            first = seen["n"] == 1
        return failure() if first else (200, RSS_TYPE, body)

    site.extra_routes[path] = handler


def label(host: str) -> str:
    """The host as a source name may spell it (no dots)."""
    return host.replace(".", "-")


def host_url(site: Newsroom, host: str, path: str) -> str:
    return site.url(path).replace("127.0.0.1", host, 1)


def state(config: Path) -> dict[str, dict[str, Any]]:
    rows = json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    return {r["name"]: r for r in rows}


@pytest.fixture(scope="module")
def counting_site() -> Iterator[CountingNewsroom]:
    site = CountingNewsroom(hold=0.3)
    for host in HOSTS:
        for n in range(FEEDS_PER_HOST):
            name = f"{label(host)}-{n}"
            site.set_route(f"/{name}.xml", 200, RSS_TYPE, feed(name))
    site.start()
    # a redirect to the other host: counted against the host it reaches
    moved_to = host_url(site, "localhost", "/localhost-0.xml")
    site.set_route("/moved.xml", 301, {"Location": moved_to}, b"")
    yield site
    site.stop()


def politeness_sources(site: Newsroom) -> list[dict[str, Any]]:
    sources = [
        {
            "name": f"{label(h)}-{n}",
            "url": host_url(site, h, f"/{label(h)}-{n}.xml"),
            "kind": "feed",
        }
        for h in HOSTS
        for n in range(FEEDS_PER_HOST)
    ]
    sources += [
        {
            "name": f"{label(h)}-flaky",
            "url": host_url(site, h, f"/{label(h)}-flaky.xml"),
            "kind": "feed",
        }
        for h in HOSTS
    ]
    sources.append({"name": "moved", "url": site.url("/moved.xml"), "kind": "feed"})
    return sources


@pytest.mark.parametrize(
    ("per_host", "autothrottle"),
    [(1, True), (5, False)],  # AutoThrottle only adds delays: off, 5 can be reached
)
def test_per_host_holds_from_the_first_request(
    counting_site: CountingNewsroom, tmp_path: Path, per_host: int, autothrottle: bool
) -> None:
    site = counting_site
    for h in HOSTS:  # a retry (Scrapy's: no Retry-After) goes through the same limit
        flaky = f"{label(h)}-flaky"
        fails_once(site, f"/{flaky}.xml", lambda: (503, {}, b"busy"), feed(flaky))
    site.peak.clear()
    site.peak_total = 0
    config = write_config(
        tmp_path / "config.toml",
        politeness_sources(site),
        storage_url=f"sqlite:///{tmp_path / 'vigie.db'}",
        crawler={
            "per_host": per_host,
            "concurrency": 16,
            "autothrottle": autothrottle,
            "obey_robots": True,
            "retries": 1,
            "timeout": "20s",
        },
    )
    site.clear_requests()
    run_vigie(config, "run", "--once")

    assert site.count("/robots.txt") == len(HOSTS)  # robots.txt was fetched, and counted
    assert site.count("/moved.xml", 301) == 1
    assert all(site.count(f"/{label(h)}-flaky.xml", 503) == 1 for h in HOSTS)
    assert site.peak["127.0.0.1"] <= per_host and site.peak["localhost"] <= per_host, site.peak
    assert site.peak_total >= 2, "the two hosts were crawled one after the other"
    if per_host > 1:
        assert min(site.peak[h] for h in HOSTS) > 1, f"per_host = {per_host} serialised"
    rows = state(config)
    assert len(rows) == len(politeness_sources(site))
    for name, row in rows.items():
        assert row["last_error"] is None and row["updates"] == 2, (name, row)


# --- Retry-After ----------------------------------------------------------------------------


@pytest.fixture
def resting_site() -> Iterator[Newsroom]:
    site = Newsroom()

    def in_two_seconds() -> Response:
        when = datetime.now(UTC) + timedelta(seconds=2)
        return 429, {"Retry-After": format_datetime(when, usegmt=True)}, b"slow down"

    busy = (503, {"Retry-After": "1"}, b"busy")
    fails_once(site, "/rest-once.xml", lambda: busy, feed("rest-once"))
    fails_once(site, "/rest-date.xml", in_two_seconds, feed("rest-date"))
    fails_once(site, "/plain-503.xml", lambda: (503, {}, b"busy"), feed("plain-503"))
    site.set_route("/always.xml", 503, {"Retry-After": "1"}, b"busy")
    site.set_route("/long.xml", 503, {"Retry-After": "120"}, b"come back later")
    site.set_route("/past-timeout.xml", 429, {"Retry-After": "5"}, b"slow down")
    site.start()
    yield site
    site.stop()


def test_short_retry_after_is_waited_for_within_the_crawl(
    resting_site: Newsroom, db_url: str, tmp_path: Path
) -> None:
    site = resting_site
    names = ["rest-once", "rest-date", "plain-503", "always", "long", "past-timeout"]
    config = write_config(
        tmp_path / "config.toml",
        [{"name": n, "url": site.url(f"/{n}.xml"), "kind": "feed"} for n in names],
        storage_url=db_url,
        # timeout 4s: a Retry-After of 5 s does not fit in it, so it is not waited for
        crawler={"retries": 2, "per_host": 2, "timeout": "4s", "autothrottle": False},
    )
    started = datetime.now(UTC)
    run_vigie(config, "run", "--once")
    rows = state(config)

    for name in ("rest-once", "rest-date", "plain-503"):
        assert site.count(f"/{name}.xml") == 2, name
        assert rows[name]["last_error"] is None and rows[name]["updates"] == 2, rows[name]
    for name in ("rest-once", "rest-date"):  # the retry came after the rest it was asked for
        first, retry = (r.time for r in site.requests if r.path == f"/{name}.xml")
        assert retry - first >= 0.9, (name, retry - first)

    assert site.count("/always.xml") == 3  # the first try and `retries` more
    assert rows["always"]["last_error"] == "fetch: HTTP 503 Service Unavailable (retry after 1s)"

    assert site.count("/long.xml") == 1
    assert rows["long"]["last_error"] == "fetch: HTTP 503 Service Unavailable (retry after 120s)"
    backoff = datetime.fromisoformat(rows["long"]["backoff_until"])
    assert backoff >= started + timedelta(seconds=120)

    assert site.count("/past-timeout.xml") == 1
    assert "(retry after 5s)" in rows["past-timeout"]["last_error"]
