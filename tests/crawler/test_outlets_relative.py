"""Relative times (#17): "1 min ago", "2 hr 55 min ago", "il y a 5 minutes", "vor 3 Stunden".

They count back from the response's Date header (else the fetch time), floored to the unit
printed and marked approximate; a later poll, whose relative texts say more minutes, never
moves a stored post's time (storage identifies such a post without its minute). Pages in the
styles of an English broadcaster's live page, a French and a German news site.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.extract.page import extract_page
from crawler.models import CrawlResult
from crawler.relative import Ago, parse_ago
from crawler.spiders.source import rendered_at
from storage.crawls import save_crawl
from storage.db import Store
from storage.filters import UpdateFilter
from storage.queries import list_updates
from storage.sources import ensure_sources
from tests.crawler.outlet_pages import NOW, shell
from tests.newsroom.server import Newsroom

MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "delta", "unit"),
    [
        ("1 min ago", MIN, MIN),
        ("2 hr 55 min ago", 2 * HOUR + 55 * MIN, MIN),
        ("3h 5m ago", 3 * HOUR + 5 * MIN, MIN),
        ("an hour ago", HOUR, HOUR),
        ("about 3 hours ago", 3 * HOUR, HOUR),
        ("2 days ago", timedelta(days=2), timedelta(days=1)),
        ("il y a 5 minutes", 5 * MIN, MIN),
        ("Publié il y a 2 h", 2 * HOUR, HOUR),
        ("il y a une heure", HOUR, HOUR),
        ("vor 3 Stunden", 3 * HOUR, HOUR),
        ("vor 12 Min.", 12 * MIN, MIN),
        ("vor einer Stunde", HOUR, HOUR),
        ("hace 20 minutos", 20 * MIN, MIN),
        ("just now", timedelta(0), MIN),
        ("à l'instant", timedelta(0), MIN),
        ("gerade eben", timedelta(0), MIN),
    ],
)
def test_relative_texts(text: str, delta: timedelta, unit: timedelta) -> None:
    assert parse_ago(text) == Ago(delta, unit)


@pytest.mark.parametrize(
    "text",
    ["12 min", "95'", "vor 20 Jahren", "3 months ago", "kurz vor 12 Uhr", "21:22", "il y a",
     "Le ministre a dit il y a", "", "ago", "vor dem Rathaus", "8 days ago"],
)  # fmt: skip
def test_texts_that_are_no_relative_time(text: str) -> None:
    assert parse_ago(text) is None


def test_floored_to_the_unit_printed() -> None:
    anchor = datetime(2026, 3, 10, 14, 37, 25, tzinfo=UTC)
    assert Ago(3 * HOUR, HOUR).before(anchor) == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    assert Ago(5 * MIN, MIN).before(anchor) == datetime(2026, 3, 10, 14, 32, tzinfo=UTC)
    assert Ago(timedelta(seconds=30), timedelta(seconds=1)).before(anchor) == datetime(
        2026, 3, 10, 14, 36, 55, tzinfo=UTC
    )


def test_the_date_header_anchors_unless_it_is_far_off() -> None:
    fetched = datetime(2026, 3, 10, 15, 0, 30, tzinfo=UTC)
    assert rendered_at("Tue, 10 Mar 2026 14:58:00 GMT", fetched) == datetime(
        2026, 3, 10, 14, 58, tzinfo=UTC
    )
    for bad in (None, "", "yesterday", "Mon, 01 Jan 1990 00:00:00 GMT", "Tue, 99 Zzz 2026"):
        assert rendered_at(bad, fetched) == fetched


def broadcaster(times: list[str]) -> str:
    events = "".join(
        f'<div class="lx-stream-post" id="post-{len(times) - i}">'
        f'<header class="lx-stream-post__header"><span class="lx-stream-post__time">{t}</span>'
        f'<h3 class="lx-stream-post__title">Update number {len(times) - i}</h3></header>'
        f'<div class="lx-stream-post-body"><p>Emergency services remain at the scene of the'
        f" incident in the city centre, report {i}.</p></div></div>"
        for i, t in enumerate(times)
    )
    return shell(f'<div class="lx-stream">{events}</div>', html_lang="en-GB")


def test_broadcaster_page_with_relative_times() -> None:
    html = broadcaster(["1 min ago", "43 min ago", "2 hr 55 min ago", "5 hours ago"])
    result = extract_page(html, "https://news.example/live/city", now=NOW)
    posts = result.posts
    assert result.path == "detected"
    assert [p.published_at for p in posts] == [
        NOW - MIN,
        NOW - 43 * MIN,
        NOW - (2 * HOUR + 55 * MIN),
        NOW - 5 * HOUR,
    ]
    assert all(p.time_approximate for p in posts)
    assert posts[0].headline == "Update number 4"
    assert "ago" not in posts[0].body


@pytest.mark.parametrize(
    ("lang", "host", "times", "expected"),
    [
        ("fr", "www.journal-exemple.fr", ["il y a 5 minutes", "il y a 2 heures", "il y a 3 h"],
         [NOW - 5 * MIN, NOW - 2 * HOUR, NOW - 3 * HOUR]),
        ("de", "www.zeitung-beispiel.de", ["vor 12 Min.", "vor 3 Stunden", "vor einem Tag"],
         [NOW - 12 * MIN, NOW - 3 * HOUR, NOW - 24 * HOUR]),
    ],
)  # fmt: skip
def test_french_and_german_relative_times(
    lang: str, host: str, times: list[str], expected: list[datetime]
) -> None:
    posts = "".join(
        f'<article class="post"><p class="post__date">{t}</p><div class="post__text">'
        f"<p>Texte de la mise à jour numéro {i}, avec assez de mots pour un vrai message.</p>"
        "</div></article>"
        for i, t in enumerate(times)
    )
    result = extract_page(shell(posts, lang=lang, host=host), f"https://{host}/live", now=NOW)
    assert [p.published_at for p in result.posts] == expected
    assert all(p.time_approximate for p in result.posts)


def test_an_exact_time_beside_a_relative_one_is_not_approximate() -> None:
    posts = "".join(
        f'<div class="post"><time datetime="2026-03-10T1{4 - i}:0{i}:00Z">{i + 1} hours ago</time>'
        f"<p>Update text number {i} with enough words to be read as a post body.</p></div>"
        for i in range(3)
    )
    result = extract_page(shell(posts), "https://news.example/live", now=NOW)
    assert [p.time_approximate for p in result.posts] == [False, False, False]
    assert result.posts[0].published_at == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'vigie.db'}")
    try:
        yield store
    finally:
        store.close()


def _poll(store: Store, source_id: int, html: str, now: datetime) -> Any:
    result = extract_page(html, "https://news.example/live/city", now=now)
    for post in result.posts:  # keyless posts: identified by their content
        post.key = None
        post.url = "https://news.example/live/city"
    with store.session() as session:
        crawl = CrawlResult("city", "https://news.example/live/city", posts=result.posts)
        return save_crawl(session, source_id, crawl, now=now)


def test_a_later_poll_never_moves_a_stored_relative_time(sqlite: Store) -> None:
    with sqlite.session() as session:
        sid = ensure_sources(session, [("city", "https://news.example/live/city", "liveblog")])
    sid = sid["city"]
    first = _poll(sqlite, sid, broadcaster(["2 min ago", "2 hr 55 min ago", "4 hours ago"]), NOW)
    assert first.new == 3
    later = NOW + 7 * MIN + timedelta(seconds=40)  # the texts now say 9 min, 3 hr 3 min
    again = _poll(sqlite, sid, broadcaster(["9 min ago", "3 hr 3 min ago", "4 hours ago"]), later)
    assert (again.new, again.unchanged) == (0, 3)
    with sqlite.session() as session:
        rows = list_updates(session, UpdateFilter(sources=["city"], limit=None))
    times = sorted(
        datetime.fromisoformat(str(r["published_at"]).replace("Z", "+00:00")) for r in rows
    )
    assert times == [NOW - 4 * HOUR, NOW - (2 * HOUR + 55 * MIN), NOW - 2 * MIN]


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_probe_counts_back_from_the_servers_date_header(tmp_path: Path) -> None:
    """A real Scrapy download: the page was rendered 2 hours before the fetch (a cache), and
    its "5 min ago" is 5 minutes before the Date header, not before the fetch."""
    rendered = datetime.now(UTC).replace(microsecond=0) - 2 * HOUR
    site = Newsroom()
    site.start()
    try:
        html = broadcaster(["5 min ago", "1 hr 10 min ago", "3 hours ago"])
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Date": rendered.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }
        site.set_route("/live/relative", headers=headers, body=html)
        env = os.environ | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        env.pop("VIGIE_CONFIG", None)
        proc = subprocess.run(
            [sys.executable, "-m", "vigie", "probe", site.url("/live/relative"), "-f", "json"],
            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
        )  # fmt: skip
    finally:
        site.stop()
    assert proc.returncode == 0, proc.stderr
    posts = json.loads(proc.stdout)["posts"]
    first = datetime.fromisoformat(posts[0]["published_at"])
    assert first == (rendered - 5 * MIN).replace(second=0)
    assert posts[0]["time_approximate"] is True
