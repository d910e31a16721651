"""End to end, as a user runs it: the real CLI in a subprocess, real Scrapy downloads from
the loopback newsroom, a real SQLite file (and PostgreSQL for the replay)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import UPDATE_FIELDS, jsonl, newsroom_sources, run_vigie, write_config
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import (
    expected_revisions,
    expected_updates,
    fixture_state,
    timeline,
)

pytestmark = pytest.mark.slow

LIVE = ("live-jsonld", "live-microdata", "live-plain")
FEEDS = ("feed-rss", "feed-atom", "feed-rdf")
SUMMARY_FEEDS = ("feed-rdf",)  # entries carry the first paragraph only
CHROME = (
    "pic.twitter.com",
    "Lire aussi",
    "AFPAFP",
    "Partager",
    "Copier le lien",
    "cookies",
    "Source : Le Phare Info",
    "Logo lecture",
    "Suivez nos directs",
    "La rédaction de LePhareInfo",
    "Maëlle Quéré / Le Phare Info",
    "@MeteoLittoral",
)
KEY_MOMENT = "LA TEMPÊTE YSOLDE À SON PAROXYSME"


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[Newsroom]:
    site = Newsroom(states=[fixture_state()])
    site.start()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def crawled(fixture_site: Newsroom, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store after one `vigie run --once` over the three page shapes and the three feeds."""
    config = write_config(
        tmp_path_factory.mktemp("fixture") / "config.toml", newsroom_sources(fixture_site)
    )
    run_vigie(config, "run", "--once")
    return config


def updates_of(config: Path, source: str, *extra: str) -> list[dict[str, Any]]:
    return jsonl(
        run_vigie(
            config, "updates", "--source", source, "--format", "jsonl", "--limit", "1000", *extra
        )
    )


@pytest.mark.parametrize("source", LIVE + FEEDS)
def test_fixture_gives_the_22_updates(crawled: Path, source: str) -> None:
    rows = updates_of(crawled, source)
    expected = expected_updates(fixture_state())
    assert len(rows) == 22
    assert [r["headline"] for r in rows] == [e["headline"] for e in expected]
    if source in SUMMARY_FEEDS:
        assert [r["body"] for r in rows] == [e["body"].split("\n\n")[0] for e in expected]
    else:
        assert [r["body"] for r in rows] == [e["body"] for e in expected]
    assert [r["published_at"] for r in rows] == [e["published_at"] for e in expected]
    for row in rows:
        assert row["source"] == source
        assert row["revisions"] == 1
        assert not any(chrome in row["body"] for chrome in CHROME), row["body"][:80]
        assert row["first_seen_at"].endswith("Z") and row["last_seen_at"].endswith("Z")
    peak = [r for r in rows if r["headline"] == KEY_MOMENT]
    assert len(peak) == 1
    if source in LIVE:
        assert [r["highlighted"] for r in rows] == [e["highlighted"] for e in expected]
        assert peak[0]["highlighted"] is True
    times = [r["published_at"] for r in rows]
    assert times.count("2026-02-10T20:10:00Z") == 2  # 21:10 Paris, two different posts
    assert times.count("2026-02-10T08:30:00Z") == 2  # 09:30 Paris, two different posts
    assert rows[1]["published_at"] == "2026-02-10T23:20:00Z"  # 00:20 Paris, the next day
    closing = rows[0]
    assert closing["headline"] == "" and closing["published_at"] == "2026-02-11T06:30:00Z"
    assert closing["body"] == "Ce live est à présent terminé."


def test_urls_are_canonical_with_fragments(crawled: Path) -> None:
    for source in ("live-jsonld", "live-microdata", "feed-rss"):
        for row in updates_of(crawled, source):
            assert row["url"] and "utm_" not in row["url"] and "xtor" not in row["url"]
            assert "#post-" in row["url"]


def test_live_blog_posts_and_feed_entries_share_stories(crawled: Path) -> None:
    live = {r["headline"]: r for r in updates_of(crawled, "live-jsonld")}
    for source in (*FEEDS, "live-plain"):
        for row in updates_of(crawled, source):
            assert row["story"] is not None
            assert row["story"] == live[row["headline"]]["story"], (source, row["headline"])


def test_second_run_adds_nothing_and_uses_conditional_get(
    crawled: Path, fixture_site: Newsroom
) -> None:
    before = {s: updates_of(crawled, s) for s in LIVE + FEEDS}
    fixture_site.clear_requests()
    run_vigie(crawled, "run", "--once")
    # Ended live blogs (JSON-LD, microdata) are not polled again; the others answer 304.
    assert fixture_site.count("/live/jsonld") == 0 and fixture_site.count("/live/microdata") == 0
    for path in ("/live/plain", "/feeds/rss.xml", "/feeds/atom.xml", "/feeds/rdf.xml"):
        assert fixture_site.count(path, status=304) == 1, path
    for source, rows in before.items():
        after = updates_of(crawled, source)
        assert [r["id"] for r in after] == [r["id"] for r in rows]
        assert [r["revisions"] for r in after] == [1] * 22


def test_formats(crawled: Path) -> None:
    as_json = json.loads(run_vigie(crawled, "updates", "--format", "json", "--limit", "5").stdout)
    assert isinstance(as_json, list) and len(as_json) == 5
    assert set(as_json[0]) >= UPDATE_FIELDS
    out = run_vigie(crawled, "updates", "--format", "csv", "--source", "live-plain").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 22 and set(rows[0]) >= UPDATE_FIELDS
    table = run_vigie(crawled, "updates", "--source", "live-plain", "--limit", "3").stdout
    assert "KERBRAT" not in table or "headline" in table
    assert "headline" in table and "“LE PIRE EST DERRIÈRE NOUS”" in table


def test_filters(crawled: Path) -> None:
    evening = updates_of(
        crawled, "live-jsonld", "--since", "2026-02-10T17:00:00Z", "--until", "2026-02-10T21:00:00Z"
    )
    assert [r["published_at"] for r in evening] == [
        "2026-02-10T20:40:00Z",
        "2026-02-10T20:11:00Z",
        "2026-02-10T20:10:00Z",
        "2026-02-10T20:10:00Z",
        "2026-02-10T17:40:00Z",
    ]
    both = jsonl(
        run_vigie(
            crawled,
            "updates",
            "--source",
            "feed-rss",
            "--source",
            "feed-atom",
            "--format",
            "jsonl",
            "--limit",
            "1000",
        )
    )
    assert len(both) == 44
    assert len(updates_of(crawled, "live-jsonld", "--limit", "4")) == 4
    highlighted = updates_of(crawled, "live-microdata", "--highlighted")
    assert [r["headline"] for r in highlighted] == [KEY_MOMENT]
    assert updates_of(crawled, "live-jsonld", "--since", "2h") == []


def test_sources_json(crawled: Path) -> None:
    rows = {
        r["name"]: r for r in json.loads(run_vigie(crawled, "sources", "--format", "json").stdout)
    }
    assert set(rows) == set(LIVE + FEEDS)
    for name, row in rows.items():
        for field in (
            "name",
            "url",
            "kind",
            "interval",
            "enabled",
            "last_crawl_at",
            "last_status",
            "last_error",
            "next_run_at",
            "updates",
            "ended",
        ):
            assert field in row
        assert row["updates"] == 22 and row["last_error"] is None
        assert row["last_status"] in ("ok", "not_modified")
        assert row["ended"] is (name in ("live-jsonld", "live-microdata")), name


def test_show(crawled: Path) -> None:
    row = updates_of(crawled, "live-jsonld", "--limit", "1")[0]
    out = run_vigie(crawled, "show", str(row["id"])).stdout
    assert "Ce live est à présent terminé." in out and "revisions: 1" in out
    as_json = json.loads(run_vigie(crawled, "show", str(row["id"]), "--format", "json").stdout)
    assert as_json["id"] == row["id"] and len(as_json["history"]) == 1
    assert {s["source"] for s in as_json["sightings"]} == {
        "live-microdata",
        "live-plain",
        "feed-rss",
        "feed-atom",
        "feed-rdf",
    }
    missing = run_vigie(crawled, "show", "999999", check=False)
    assert missing.returncode == 1 and "no update" in missing.stderr


def test_failing_source_is_recorded_and_others_go_on(
    fixture_site: Newsroom, tmp_path: Path
) -> None:
    sources = [
        *newsroom_sources(fixture_site)[:1],
        {"name": "gone", "url": fixture_site.url("/no/such/page"), "kind": "liveblog"},
        {"name": "forbidden", "url": fixture_site.url("/private/page"), "kind": "liveblog"},
        {"name": "refused", "url": "http://127.0.0.1:9/live", "kind": "feed"},
    ]
    config = write_config(tmp_path / "config.toml", sources)
    run_vigie(config, "run", "--once")
    rows = {
        r["name"]: r for r in json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    }
    assert rows["live-jsonld"]["updates"] == 22 and rows["live-jsonld"]["last_error"] is None
    assert rows["gone"]["last_error"] == "fetch: HTTP 404 Not Found"
    assert "robots.txt" in rows["forbidden"]["last_error"]
    assert rows["refused"]["last_error"] == "fetch: connection refused"
    for name in ("gone", "forbidden", "refused"):
        assert rows[name]["last_status"] == "error" and rows[name]["updates"] == 0


def test_crawl_named_sources(fixture_site: Newsroom, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", newsroom_sources(fixture_site))
    run_vigie(config, "crawl", "feed-atom")
    rows = {
        r["name"]: r for r in json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    }
    assert rows["feed-atom"]["updates"] == 22
    assert rows["feed-rss"]["updates"] == 0 and rows["feed-rss"]["last_crawl_at"] is None
    bad = run_vigie(config, "crawl", "nope", check=False)
    assert bad.returncode == 2 and "unknown source 'nope'" in bad.stderr


def test_paginated_blog_is_read_to_the_end(fixture_site: Newsroom, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml",
        [{"name": "paged", "url": fixture_site.url("/live/paged"), "kind": "liveblog"}],
    )
    run_vigie(config, "run", "--once")
    rows = updates_of(config, "paged")
    assert len(rows) == 22
    assert fixture_site.count("/live/paged?page=3") >= 1


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_replay_of_the_timeline(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Twelve polls of every shape while the blog grows, is edited, highlights and ends."""
    url = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    site = Newsroom()
    site.start()
    try:
        config = write_config(tmp_path / "config.toml", newsroom_sources(site), storage_url=url)
        for step in range(len(timeline())):
            site.step = step
            run_vigie(config, "run", "--once")
    finally:
        site.stop()
    final = expected_updates(timeline()[-1])
    revisions = expected_revisions()
    summary_revisions = {  # what a feed carrying first paragraphs can see change
        n: len({(p.headline, p.paragraphs[0]) for st in timeline() for p in st.posts if p.n == n})
        for n in revisions
    }
    for source in LIVE + FEEDS:
        rows = {r["headline"]: r for r in updates_of(config, source)}
        assert len(rows) == 22, source
        for exp in final:
            row = rows[exp["headline"]]
            body = exp["body"].split("\n\n")[0] if source in SUMMARY_FEEDS else exp["body"]
            assert row["body"] == body and row["published_at"] == exp["published_at"]
            want = summary_revisions[exp["n"]] if source in SUMMARY_FEEDS else revisions[exp["n"]]
            assert row["revisions"] == want, (source, exp["headline"])
            if source in LIVE:
                assert row["highlighted"] == exp["highlighted"], (source, exp["headline"])
    typo = rows["LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES"]
    shown = run_vigie(config, "show", str(typo["id"]), "--format", "json").stdout
    history = json.loads(shown)["history"]
    assert [h["headline"] for h in history] == [
        "LE GOUVERNEMENT PROMET DES INDEMINSATIONS RAPIDES",
        "LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES",
    ]
