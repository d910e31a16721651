"""Bad input from servers vigie does not control: every case a route of the loopback site,
crawled in one `vigie run --once` beside a good source, on SQLite and PostgreSQL. Each ends
as a recorded error (or a kept partial result), never a crash, never junk in the store."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.feeds import parse_feed
from tests.helpers import jsonl, run_vigie, write_config
from tests.newsroom.render import render_plain, render_rss
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import fixture_state

pytestmark = pytest.mark.slow

RSS_HEAD = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&xxe;</title>
<description>&xxe;</description></item></channel></rss>"""
BAD_DATES = (
    RSS_HEAD + "<item><title>Sans date valable</title><link>http://x/a</link>"
    "<description>Un texte.</description><pubDate>mardi soir, vers 20h</pubDate></item>"
    "<item><title>Date impossible</title><link>http://x/b</link>"
    "<description>Un autre texte.</description><pubDate>Tue, 45 Jan 2026 99:99:00"
    " +0100</pubDate></item></channel></rss>"
).encode()
EMPTY = (RSS_HEAD + "</channel></rss>").encode()
LATIN_HTML = (
    "<html><head><title>Direct</title></head><body><main itemscope "
    'itemtype="https://schema.org/LiveBlogPosting"><article itemprop="liveBlogUpdate" '
    'itemscope itemtype="https://schema.org/BlogPosting" id="p1"><h2 itemprop='
    '"headline">L’ÉLYSÉE ET LA SÉCURITÉ</h2><time itemprop="datePublished" '
    'datetime="2026-01-06T11:46:00Z">12:46</time><div itemprop="articleBody"><p>'
    "Zelensky est arrivé à l’Élysée, où l’on évoque « une vraie sécurité » – déjà."
    "</p></div></article></main></body></html>"
)


def flaky(site: Newsroom, path: str, failures: int, body: bytes) -> None:
    seen = {"n": 0}
    lock = threading.Lock()

    def handler(request: Any) -> tuple[int, dict[str, str], bytes]:
        with lock:
            seen["n"] += 1
            if seen["n"] <= failures:
                return 503, {"Content-Type": "text/plain"}, b"try later"
        return 200, {"Content-Type": "application/rss+xml"}, body

    site.extra_routes[path] = handler


def cut_inside_a_character(data: bytes) -> bytes:
    """The UTF-8 bytes up to a continuation byte in the second half: a download cut mid-way
    through a character."""
    return data[: next(i for i in range(len(data) // 2, len(data)) if 0x80 <= data[i] < 0xC0)]


def slow(request: Any) -> tuple[int, dict[str, str], bytes]:
    time.sleep(25)
    return 200, {"Content-Type": "text/html"}, b"<html>too late</html>"


@pytest.fixture(scope="module")
def hostile_site() -> Iterator[Newsroom]:
    site = Newsroom(states=[fixture_state()])
    state = fixture_state()
    rss = render_rss(state, "http://127.0.0.1").encode()
    site.extra_routes["/slow"] = slow
    site.set_route("/huge", 200, {"Content-Type": "text/html"}, b"<p>x</p>" * (30 * 1024**2 // 8))
    site.set_route("/loop", 302, {"Location": "/loop"}, b"")
    site.set_route("/gone", 410, {"Content-Type": "text/html"}, b"gone")
    site.set_route("/error", 500, {"Content-Type": "text/html"}, b"boom")
    flaky(site, "/flaky.xml", 2, rss)
    site.set_route(
        "/html-as-feed",
        200,
        {"Content-Type": "text/html"},
        render_plain(state, "http://127.0.0.1").encode(),
    )
    half = cut_inside_a_character(rss)
    site.set_route("/truncated.xml", 200, {"Content-Type": "application/rss+xml"}, half)
    site.set_route("/bomb.xml", 200, {"Content-Type": "application/rss+xml"}, BOMB)
    site.set_route("/xxe.xml", 200, {"Content-Type": "application/rss+xml"}, XXE)
    site.set_route("/baddates.xml", 200, {"Content-Type": "application/rss+xml"}, BAD_DATES)
    site.set_route("/empty.xml", 200, {"Content-Type": "application/rss+xml"}, EMPTY)
    site.set_route(
        "/latin-header",
        200,
        {"Content-Type": "text/html; charset=windows-1252"},
        LATIN_HTML.encode("cp1252"),
    )
    site.set_route(
        "/latin-wrong-meta",
        200,
        {"Content-Type": "text/html"},
        LATIN_HTML.replace("<head>", '<head><meta charset="utf-8">').encode("cp1252"),
    )
    site.start()
    yield site
    site.stop()


def sources_for(site: Newsroom) -> list[dict[str, Any]]:
    def src(name: str, path: str, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "url": site.url(path),
            "kind": kind,
            "timezone": "Europe/Paris",
        } | extra

    return [
        src("good", "/live/jsonld", "liveblog"),
        src("good-feed", "/feeds/rss.xml", "feed"),
        src("timeout", "/slow", "liveblog"),
        src("huge", "/huge", "liveblog"),
        src("loop", "/loop", "liveblog"),
        src("gone", "/gone", "liveblog"),
        src("missing", "/nothing-here", "liveblog"),
        src("error", "/error", "liveblog"),
        src("flaky", "/flaky.xml", "feed"),
        src("html-as-feed", "/html-as-feed", "feed"),
        src("truncated", "/truncated.xml", "feed"),
        src("bomb", "/bomb.xml", "feed"),
        src("xxe", "/xxe.xml", "feed"),
        src("bad-dates", "/baddates.xml", "feed"),
        src("empty", "/empty.xml", "feed"),
        src("latin-header", "/latin-header", "liveblog"),
        src("latin-wrong-meta", "/latin-wrong-meta", "liveblog"),
        src(
            "selectors-miss",
            "/live/plain",
            "liveblog",
            selectors={"post": "div.article-live", "headline": "h3"},
        ),
    ]


# Linux counts the memory of the process a child was forked from in the child's ru_maxrss
# (the high-water mark survives exec): measured straight from pytest, a large test process
# would be taken for vigie's peak. A small launcher forks vigie instead and reports it.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def run_measured(config: Path, *args: str) -> tuple[int, float, int]:
    """(exit code, seconds, peak RSS in MB) of one `vigie` process."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "vigie", "--config", str(config),
         *args],
        capture_output=True,
        text=True,
        cwd=str(config.parent),
    )  # fmt: skip
    code, peak_kb = (int(v) for v in proc.stdout.split())
    return code, time.monotonic() - started, peak_kb // 1024


@pytest.fixture
def crawled(hostile_site: Newsroom, db_url: str, tmp_path: Path) -> tuple[Path, tuple]:
    config = write_config(
        tmp_path / "config.toml",
        sources_for(hostile_site),
        storage_url=db_url,
        crawler={
            "timeout": "6s",
            "retries": 2,
            "max_page_size": "8MB",
            "concurrency": 16,
            "per_host": 16,
        },
    )
    measured = run_measured(config, "run", "--once")
    return config, measured


def state(config: Path) -> dict[str, dict[str, Any]]:
    rows = json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    return {r["name"]: r for r in rows}


def updates(config: Path, source: str) -> list[dict[str, Any]]:
    return jsonl(
        run_vigie(config, "updates", "--source", source, "--format", "jsonl", "--limit", "1000")
    )


EXPECTED_ERRORS = {
    "timeout": "fetch: timed out after 6s",
    "huge": "fetch: refused: response larger than max_page_size (8 MB)",
    "loop": "fetch: too many redirects",
    "gone": "fetch: HTTP 410 Gone",
    "missing": "fetch: HTTP 404 Not Found",
    "error": "fetch: HTTP 500 Internal Server Error",
    "html-as-feed": "feed: not a feed",
    "bomb": "feed: refused: the document declares entities",
    "xxe": "feed: refused: the document declares entities",
    "selectors-miss": "no posts found",
}


def test_every_bad_input_is_a_recorded_error(crawled: tuple[Path, tuple]) -> None:
    config, (code, seconds, peak_mb) = crawled
    assert code == 0
    assert seconds < 90, f"the run took {seconds:.0f}s"
    assert peak_mb < 400, f"peak RSS {peak_mb} MB"
    rows = state(config)
    for name, message in EXPECTED_ERRORS.items():
        assert rows[name]["last_status"] in ("error", "gone"), name
        assert rows[name]["last_error"] and message in rows[name]["last_error"], (
            name,
            rows[name]["last_error"],
        )
        assert rows[name]["updates"] == 0, name
    assert rows["gone"]["gone"] is True and rows["gone"]["next_run_at"] is None
    assert rows["good"]["updates"] == 22 and rows["good"]["last_error"] is None
    assert rows["good-feed"]["updates"] == 22 and rows["good-feed"]["last_error"] is None


def test_partial_and_odd_input_keeps_what_is_good(crawled: tuple[Path, tuple]) -> None:
    config, _ = crawled
    rows = state(config)
    assert rows["flaky"]["updates"] == 22 and rows["flaky"]["last_status"] == "ok"
    truncated = updates(config, "truncated")
    assert 0 < len(truncated) < 22 and rows["truncated"]["last_status"] == "ok"
    assert "malformed" in rows["truncated"]["last_error"]
    full = {r["headline"]: r["body"] for r in updates(config, "good-feed")}
    for row in truncated:
        assert row["body"] == full[row["headline"]]  # no half-cut entry
    dated = {r["headline"]: r for r in updates(config, "bad-dates")}
    assert set(dated) == {"Sans date valable", "Date impossible"}
    assert all(r["published_at"] is None for r in dated.values())
    assert rows["empty"]["last_status"] == "ok" and rows["empty"]["updates"] == 0
    for name in ("latin-header", "latin-wrong-meta"):
        [row] = updates(config, name)
        assert row["headline"] == "L’ÉLYSÉE ET LA SÉCURITÉ", name
        assert row["body"] == (
            "Zelensky est arrivé à l’Élysée, où l’on évoque « une vraie sécurité » – déjà."
        ), name
    assert "declared UTF-8 but is not" in rows["latin-wrong-meta"]["last_error"]


def test_a_second_run_skips_gone_sources_and_stores_nothing_twice(
    crawled: tuple[Path, tuple], hostile_site: Newsroom
) -> None:
    config, _ = crawled
    before = {name: r["updates"] for name, r in state(config).items()}
    hostile_site.clear_requests()
    code, _, _ = run_measured(config, "run", "--once")
    assert code == 0
    assert hostile_site.count("/gone") == 0
    after = {name: r["updates"] for name, r in state(config).items()}
    assert after == before


def test_a_feed_cut_inside_a_character_keeps_its_text() -> None:
    rss = render_rss(fixture_state(), "http://127.0.0.1").encode()
    result = parse_feed(cut_inside_a_character(rss), "http://127.0.0.1/feeds/rss.xml")
    texts = {p.headline: p.body for p in fixture_state().posts}
    assert result.posts and any("malformed" in w for w in result.warnings)
    for post in result.posts:
        assert texts.get(post.headline) == post.body, post.body[:60]
