"""Search, pages, export and reindex as a user runs them: the real CLI in a subprocess over
a store that `vigie run --once` filled from the loopback newsroom (every page shape and
feed of it, each carrying the 22 fixture posts)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import UPDATE_FIELDS, jsonl, newsroom_sources, run_vigie, write_config
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import fixture_state

pytestmark = pytest.mark.slow

ARRIVAL = "CELLULE DE CRISE À L’ÉLYSÉE"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = Newsroom(states=[fixture_state()])
    site.start()
    try:
        config = write_config(
            tmp_path_factory.mktemp("search") / "config.toml", newsroom_sources(site)
        )
        run_vigie(config, "run", "--once")
        yield config
    finally:
        site.stop()


@pytest.fixture(scope="module")
def sources(crawled: Path) -> list[str]:
    """The configured sources, every one holding the 22 posts."""
    rows = json.loads(run_vigie(crawled, "sources", "--format", "json").stdout)
    assert {r["updates"] for r in rows} == {22}
    return sorted(r["name"] for r in rows)


def cursor_of(stderr: str) -> str | None:
    m = re.search(r"^next cursor: (\S+)$", stderr, re.M)
    return m.group(1) if m else None


def walk(config: Path, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        extra = ("--cursor", cursor) if cursor else ()
        proc = run_vigie(config, "updates", "--format", "jsonl", *args, *extra)
        rows += jsonl(proc)
        cursor = cursor_of(proc.stderr)
        if cursor is None:
            return rows


def test_search_elysee_finds_the_arrival_post(crawled: Path, sources: list[str]) -> None:
    rows = jsonl(run_vigie(crawled, "updates", "--search", "elysee", "--format", "jsonl"))
    assert rows[0]["headline"] == ARRIVAL  # the headline hit ranks first
    assert sum(r["headline"] == ARRIVAL for r in rows) == len(sources)
    assert UPDATE_FIELDS | {"rank"} == set(rows[0])
    assert [r["rank"] for r in rows] == sorted((r["rank"] for r in rows), reverse=True)
    table = run_vigie(crawled, "updates", "--search", "elysee", "--source", "live-plain").stdout
    assert ARRIVAL in table


def test_search_accents_phrases_and_filters(crawled: Path) -> None:
    def search(*args: str) -> list[dict[str, Any]]:
        return jsonl(run_vigie(crawled, "updates", "--format", "jsonl", "--limit", "1000", *args))

    accented = search("--search", "SÉCURITÉ", "--source", "feed-rss")
    assert {r["id"] for r in accented} == {
        r["id"] for r in search("--search", "securite", "--source", "feed-rss")
    }
    phrase = search("--search", '"vigilance rouge"', "--source", "feed-rss")
    loose = search("--search", "vigilance rouge", "--source", "feed-rss")
    assert phrase and {r["id"] for r in phrase} < {r["id"] for r in loose}
    highlighted = search("--search", "tempête", "--highlighted", "--source", "live-jsonld")
    assert [r["headline"] for r in highlighted] == ["LA TEMPÊTE YSOLDE À SON PAROXYSME"]
    evening = search(
        "--search",
        "kerbrat",
        "--since",
        "2026-02-10T18:00:00Z",
        "--order",
        "newest",
        "--source",
        "feed-rss",
        "--source",
        "live-plain",
    )
    assert evening and all(r["published_at"] >= "2026-02-10T18:00:00Z" for r in evening)
    assert [r["published_at"] for r in evening] == sorted(
        (r["published_at"] for r in evening), reverse=True
    )
    for hostile in ('"', "AND OR", "*", "NEAR(", "-"):
        run_vigie(crawled, "updates", "--search", hostile, "--format", "jsonl")


def test_collapse_gives_one_line_per_story(crawled: Path, sources: list[str]) -> None:
    rows = jsonl(
        run_vigie(crawled, "updates", "--collapse", "--format", "jsonl", "--limit", "1000")
    )
    assert len(rows) == 22
    for row in rows:
        assert sorted([row["source"], *row["sources"]]) == sorted(sources)
    found = jsonl(
        run_vigie(crawled, "updates", "--search", "elysee", "--collapse", "--format", "jsonl")
    )
    assert [r["headline"] for r in found].count(ARRIVAL) == 1
    assert found[0]["headline"] == ARRIVAL and len(found[0]["sources"]) == len(sources) - 1
    table = run_vigie(crawled, "updates", "--collapse", "--limit", "3").stdout
    assert "sources" in table


@pytest.mark.parametrize(
    "args",
    [("--limit", "7"), ("--limit", "4", "--search", "tempete"), ("--limit", "5", "--collapse")],
    ids=["newest", "search", "collapse"],
)
def test_cursor_pages_walk_every_row_once(crawled: Path, args: tuple[str, ...]) -> None:
    whole = jsonl(run_vigie(crawled, "updates", "--format", "jsonl", *args, "--limit", "1000"))
    paged = walk(crawled, *args)
    assert len(paged) > 7
    assert [r["id"] for r in paged] == [r["id"] for r in whole]
    assert len({r["id"] for r in paged}) == len(paged)


def test_bad_cursor_and_order_are_usage_errors(crawled: Path) -> None:
    bad = run_vigie(crawled, "updates", "--cursor", "garbage", check=False)
    assert bad.returncode == 2 and "invalid cursor" in bad.stderr
    rank = run_vigie(crawled, "updates", "--order", "rank", check=False)
    assert rank.returncode == 2 and "rank order needs a search" in rank.stderr


def test_export_jsonl_and_csv(crawled: Path, sources: list[str], tmp_path: Path) -> None:
    everything = jsonl(run_vigie(crawled, "export", "--format", "jsonl"))
    assert len(everything) == len(sources) * 22 and all(set(r) == UPDATE_FIELDS for r in everything)
    listed = jsonl(run_vigie(crawled, "updates", "--format", "jsonl", "--limit", "1000"))
    assert everything == listed
    out = run_vigie(crawled, "export", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(everything) and set(rows[0]) == UPDATE_FIELDS
    assert [int(r["id"]) for r in rows] == [r["id"] for r in everything]
    assert {r["highlighted"] for r in rows} == {"true", "false"}
    target = tmp_path / "elysee.csv"
    run_vigie(crawled, "export", "--format", "csv", "--search", "elysee", "-o", str(target))
    searched = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert "rank" in searched[0] and ARRIVAL in {r["headline"] for r in searched}
    some = jsonl(run_vigie(crawled, "export", "--source", "feed-atom", "--limit", "5"))
    assert len(some) == 5 and {r["source"] for r in some} == {"feed-atom"}
    wrong = run_vigie(crawled, "export", "--format", "table", check=False)
    assert wrong.returncode == 2


def test_reindex(crawled: Path, sources: list[str]) -> None:
    before = jsonl(run_vigie(crawled, "updates", "--search", "elysee", "--format", "jsonl"))
    out = run_vigie(crawled, "reindex").stdout
    assert re.match(rf"reindexed {len(sources) * 22} updates in \d+\.\ds", out)
    after = jsonl(run_vigie(crawled, "updates", "--search", "elysee", "--format", "jsonl"))
    assert [r["id"] for r in after] == [r["id"] for r in before]


def test_show_gives_revisions_and_sightings(crawled: Path, sources: list[str]) -> None:
    arrival = jsonl(
        run_vigie(
            crawled,
            "updates",
            "--search",
            ARRIVAL,
            "--source",
            "live-jsonld",
            "--format",
            "jsonl",
        )
    )[0]
    shown = json.loads(run_vigie(crawled, "show", str(arrival["id"]), "--format", "json").stdout)
    assert shown["headline"] == ARRIVAL and len(shown["history"]) == 1
    assert sorted(s["source"] for s in shown["sightings"]) == sorted(
        s for s in sources if s != "live-jsonld"
    )
