"""Full-text search on real databases (SQLite FTS5 and PostgreSQL tsvector + unaccent),
over the fixture live blog stored through save_crawl: accents, phrases, exclusions, ranking,
hostile queries, the index following writes, reindex, cursors, collapse, streaming, and
the same answers from both databases."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError

from crawler.models import RawPost
from storage import search, search_pages
from storage.cursors import decode_cursor, encode_cursor
from storage.db import Store
from storage.filters import QueryError, UpdateFilter
from storage.models import Source
from storage.queries import find_updates, iter_updates, list_updates, search_updates
from storage.search import (
    SQLITE_FOLDS,
    parse_query,
    rebuild_index,
    sqlite_fold_sql,
    sqlite_match,
)
from tests.seeded import ARRIVAL, edit_headline, raw_posts, save, seed

WAVES = "DES VAGUES DE HUIT MÈTRES À SAINT-GUÉNOLÉ"  # the one headline with "vagues"
HOSTILE = [
    '"',
    '""',
    '"""',
    "AND OR",
    "NOT",
    "OR kerbrat",
    "*",
    "kerbrat*",
    "^kerbrat",
    "(",
    ")",
    "(kerbrat",
    "NEAR(kerbrat vasseur)",
    "headline:kerbrat",
    "{headline body}: kerbrat",
    "kerbrat + vasseur",
    "-",
    '-"',
    "--",
    "'; DROP TABLE updates; --",
    "\\",
    "\x00",
    "a & b | !c <-> d",
    "é" * 5000,
    "kerbrat " * 500,
]

# --- an oracle: which fixture posts contain which words, computed in Python -------------------

_FOLD = str.maketrans(dict(SQLITE_FOLDS))


def words(text_: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text_.translate(_FOLD))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.findall(r"[^\W_]+", plain)


def has_phrase(field: str, phrase: str) -> bool:
    doc, want = words(field), words(phrase)
    return any(doc[i : i + len(want)] == want for i in range(len(doc) - len(want) + 1))


def expected(rows: list[dict[str, Any]], *phrases: str, without: str = "") -> set[int]:
    def hit(row: dict[str, Any], phrase: str) -> bool:
        return has_phrase(row["headline"], phrase) or has_phrase(row["body"], phrase)

    return {
        r["id"]
        for r in rows
        if all(hit(r, p) for p in phrases) and not (without and hit(r, without))
    }


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    seed(store)
    yield store


def everything(store: Store, source: str | None = None) -> list[dict[str, Any]]:
    with store.read_session() as session:
        f = UpdateFilter(sources=[source] if source else (), limit=None)
        return list_updates(session, f)


def found(store: Store, query: str, **kw: Any) -> list[dict[str, Any]]:
    with store.read_session() as session:
        return search_updates(session, query, UpdateFilter(limit=1000, **kw))


def ids(rows: list[dict[str, Any]]) -> set[int]:
    return {r["id"] for r in rows}


# --- query parsing (no database) ------------------------------------------------------------


def test_parse_query_words_phrases_and_exclusions() -> None:
    q = parse_query('Zelensky "garanties de sécurité" -Macron -"cessez-le-feu" l’Élysée')
    assert [(t.tokens, t.exclude) for t in q.terms] == [
        (("Zelensky",), False),
        (("garanties", "de", "sécurité"), False),
        (("Macron",), True),
        (("cessez", "le", "feu"), True),
        (("l", "Élysée"), False),
    ]
    assert sqlite_match(q) == (
        '(("Zelensky" "garanties de sécurité" "l Élysée") NOT "Macron") NOT "cessez le feu"'
    )


def test_parse_query_reduces_syntax_to_words() -> None:
    assert parse_query("*").empty and parse_query('"').empty and parse_query("-").empty
    # a piece that punctuation splits is a phrase of its words, as in the text
    near = parse_query("NEAR(a b) c*").terms
    assert [t.tokens for t in near] == [("NEAR", "a"), ("b",), ("c",)]
    # an exclusion alone is a word to find, not "everything but"
    assert [(t.tokens, t.exclude) for t in parse_query("-macron").terms] == [(("macron",), False)]
    # œ is folded as the index folds it
    assert parse_query("Œuvre cœur").terms[0].tokens == ("OEuvre",)
    assert parse_query("a a a").terms == parse_query("a").terms


# --- search on each database ---------------------------------------------------------------


def test_elysee_finds_the_arrival_post_headline_hit_first(seeded: Store) -> None:
    rows = found(seeded, "elysee", sources=["live"])
    assert rows[0]["headline"] == ARRIVAL
    assert ids(rows) == expected(everything(seeded, "live"), "elysee")
    assert len(rows) > 3  # the body-only mentions are found too, after it
    assert all(r["rank"] > 0 for r in rows)
    assert [r["rank"] for r in rows] == sorted((r["rank"] for r in rows), reverse=True)


@pytest.mark.parametrize("query", ["securite", "SÉCURITÉ", "Sécurité", "sécurite"])
def test_accents_and_case_do_not_matter(seeded: Store, query: str) -> None:
    rows = found(seeded, query, sources=["live"])
    assert ids(rows) == expected(everything(seeded, "live"), "sécurité")
    assert len(rows) >= 10


def test_headline_hit_ranks_first(seeded: Store) -> None:
    assert found(seeded, "vagues", sources=["live"])[0]["headline"] == WAVES
    assert found(seeded, "Raz", sources=["live"])[0]["headline"].endswith("POINTE DU RAZ")


def test_quoted_phrase_is_narrower_than_its_words(seeded: Store) -> None:
    live = everything(seeded, "live")
    phrase = ids(found(seeded, '"vigilance rouge"', sources=["live"]))
    words_ = ids(found(seeded, "vigilance rouge", sources=["live"]))
    assert phrase == expected(live, "vigilance rouge")
    assert words_ == expected(live, "vigilance", "rouge")
    assert phrase and phrase < words_


def test_words_are_anded_and_minus_excludes(seeded: Store) -> None:
    live = everything(seeded, "live")
    both = ids(found(seeded, "kerbrat vigilance", sources=["live"]))
    assert both == expected(live, "kerbrat", "vigilance") != set()
    without = ids(found(seeded, "kerbrat -elysee", sources=["live"]))
    assert without == expected(live, "kerbrat", without="elysee") != set()
    assert without < ids(found(seeded, "kerbrat", sources=["live"]))


def test_punctuation_splits_words_as_in_the_text(seeded: Store) -> None:
    live = everything(seeded, "live")
    belle_ile = ids(found(seeded, "Belle-Île-en-Mer", sources=["live"]))
    assert belle_ile == expected(live, "belle ile en mer") != set()
    assert ids(found(seeded, "l'Elysée", sources=["live"])) == expected(live, "l elysee")
    assert ids(found(seeded, "Météo-France", sources=["live"])) == expected(live, "meteo france")


def test_a_phrase_does_not_span_headline_and_body(seeded: Store) -> None:
    arrival = next(r for r in everything(seeded, "live") if r["headline"] == ARRIVAL)
    last_headline_word, first_body_word = words(ARRIVAL)[-1], words(arrival["body"])[0]
    spanning = f'"{last_headline_word} {first_body_word}"'
    assert arrival["id"] not in ids(found(seeded, spanning))
    assert arrival["id"] in ids(found(seeded, f"{last_headline_word} {first_body_word}"))


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_do_not_crash(seeded: Store, query: str) -> None:
    rows = found(seeded, query)
    assert isinstance(rows, list)
    assert len(everything(seeded)) == 44  # nothing was harmed


def test_syntax_characters_are_ignored_not_interpreted(seeded: Store) -> None:
    kerbrat = ids(found(seeded, "kerbrat"))
    assert kerbrat
    assert ids(found(seeded, "kerbrat*")) == kerbrat
    assert ids(found(seeded, "(kerbrat")) == kerbrat
    assert found(seeded, "*") == [] and found(seeded, '"') == []
    assert found(seeded, "headline:kerbrat") == []  # the words "headline" and "kerbrat"


def test_filters_combine_with_search(seeded: Store) -> None:
    evening = datetime(2026, 2, 10, 18, 0, tzinfo=UTC)
    rows = found(seeded, "kerbrat", sources=["feed"], since=evening)
    assert rows and all(r["source"] == "feed" and r["published_at"] >= evening for r in rows)
    assert ids(rows) == expected(
        [r for r in everything(seeded, "feed") if r["published_at"] >= evening], "kerbrat"
    )
    assert ids(rows) < ids(found(seeded, "kerbrat", sources=["feed"]))
    highlighted = found(seeded, "tempete", highlighted=True)
    assert {r["headline"] for r in highlighted} == {"LA TEMPÊTE YSOLDE À SON PAROXYSME"}
    assert found(seeded, "kerbrat", edited=True) == []


def test_index_follows_inserts_edits_and_deletes(seeded: Store) -> None:
    with seeded.read_session() as session:
        source_ids = dict(session.execute(text("SELECT name, id FROM sources")).all())
    assert found(seeded, "Matignon") == []
    edit_headline(seeded, source_ids["live"], "live", ARRIVAL, "CELLULE DE CRISE À MATIGNON")
    edited = found(seeded, "matignon")
    assert [(r["source"], r["revisions"]) for r in edited] == [("live", 2)]
    arrival = ids(found(seeded, f'"{ARRIVAL}"'))
    assert arrival == expected(everything(seeded), ARRIVAL)
    assert {r["source"] for r in everything(seeded) if r["id"] in arrival} == {"feed"}
    fresh = RawPost(
        headline="Une œuvre volée à Łódź",
        body="Le cœur de l'affaire : une Straße, un fjord à Ærø.",
        published_at=datetime(2026, 2, 11, 9, 0, tzinfo=UTC),
        key="https://news.example/live#post-new",
    )
    save(seeded, source_ids["live"], "live", [*raw_posts("live"), fresh])
    every = everything(seeded)
    for query in ("oeuvre", "œuvre", "OEUVRE", "coeur", "cœur", "lodz", "Łódź", "aero", "straße"):
        rows = found(seeded, query)
        assert fresh.headline in {r["headline"] for r in rows}, query
        assert ids(rows) == expected(every, query), query
    with seeded.session() as session:
        session.execute(delete(Source).where(Source.name == "live"))
    assert found(seeded, "matignon") == [] and found(seeded, "lodz") == []
    assert {r["source"] for r in found(seeded, "elysee")} == {"feed"}


def test_reindex_rebuilds_the_index(seeded: Store) -> None:
    before = found(seeded, "elysee")
    if seeded.dialect == "sqlite":
        with seeded.session() as session:
            session.execute(text("INSERT INTO updates_fts(updates_fts) VALUES ('delete-all')"))
        assert found(seeded, "elysee") == []
    with seeded.session() as session:
        assert rebuild_index(session) == 44
    assert [r["id"] for r in found(seeded, "elysee")] == [r["id"] for r in before]
    if seeded.dialect == "sqlite":
        with seeded.session() as session:
            # raises when the index is inconsistent (not against the table: it holds the
            # text before the fold, so FTS5's content check would not apply)
            session.execute(text("INSERT INTO updates_fts(updates_fts) VALUES ('integrity-check')"))


def test_sqlite_triggers_fold_as_reindex_does(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        with store.read_session() as session:
            triggers = dict(
                session.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
            )
    finally:
        store.close()
    assert set(triggers) == {"updates_fts_insert", "updates_fts_update", "updates_fts_delete"}
    assert sqlite_fold_sql("new.headline") in triggers["updates_fts_insert"]
    assert sqlite_fold_sql("old.body") in triggers["updates_fts_update"]
    assert sqlite_fold_sql("old.body") in triggers["updates_fts_delete"]
    assert "AFTER UPDATE OF headline, body" in triggers["updates_fts_update"]


def test_last_seen_moves_without_reindexing(seeded: Store) -> None:
    """A post seen again only moves last_seen_at: its text is not indexed again (the FTS5
    trigger does not fire; PostgreSQL does not compute the generated column)."""
    with seeded.session() as session:
        if seeded.dialect == "sqlite":
            session.execute(text("DROP TRIGGER updates_fts_update"))
            session.execute(
                text(
                    "CREATE TRIGGER updates_fts_update AFTER UPDATE OF headline, body "
                    "ON updates BEGIN SELECT RAISE(ABORT, 'reindexed'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE OR REPLACE FUNCTION vigie_search_text(text) RETURNS text "
                    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'reindexed'; END $$"
                )
            )
        sid = session.execute(text("SELECT id FROM sources WHERE name = 'live'")).scalar_one()
    counts = save(seeded, sid, "live", raw_posts("live"))
    assert (counts.new, counts.changed, counts.unchanged) == (0, 0, 22)
    with pytest.raises(DBAPIError, match="reindexed"):  # the trap is live: an edit fires it
        edit_headline(seeded, sid, "live", ARRIVAL, "CELLULE DE CRISE À MATIGNON")


# --- pages, cursors, collapse, streaming ----------------------------------------------------


def walk(store: Store, f: UpdateFilter) -> list[dict[str, Any]]:
    rows, cursor = [], f.cursor
    with store.read_session() as session:
        while True:
            page = find_updates(session, replace(f, cursor=cursor))
            rows += page.rows
            cursor = page.next_cursor
            if cursor is None:
                return rows


@pytest.mark.parametrize(
    "f",
    [
        UpdateFilter(limit=5),
        UpdateFilter(limit=3, sources=["live"]),
        UpdateFilter(limit=4, search="tempete"),
        UpdateFilter(limit=4, search="tempete", order="newest"),
        UpdateFilter(limit=2, collapse=True),
        UpdateFilter(limit=2, search="elysee", collapse=True),
    ],
    ids=["newest", "source", "rank", "search-newest", "collapse", "search-collapse"],
)
def test_cursor_pages_walk_every_row_once(seeded: Store, f: UpdateFilter) -> None:
    with seeded.read_session() as session:
        whole = find_updates(session, replace(f, limit=1000))
    assert whole.next_cursor is None and len(whole.rows) > f.limit  # type: ignore[operator]
    paged = walk(seeded, f)
    assert [r["id"] for r in paged] == [r["id"] for r in whole.rows]


def test_cursor_is_stable_under_inserts(seeded: Store) -> None:
    with seeded.read_session() as session:
        first = find_updates(session, UpdateFilter(limit=10, sources=["live"]))
    with seeded.read_session() as session:
        sid = session.execute(text("SELECT id FROM sources WHERE name = 'live'")).scalar_one()
    newer = [
        RawPost(
            headline=f"NOUVEAU {i}",
            body=f"Texte {i}",
            published_at=datetime(2026, 2, 11, 8, i, tzinfo=UTC),
            key=f"https://news.example/live#new-{i}",
        )
        for i in range(5)
    ]
    save(seeded, sid, "live", [*raw_posts("live"), *newer])
    rest = walk(seeded, UpdateFilter(limit=10, sources=["live"], cursor=first.next_cursor))
    seen = [r["id"] for r in first.rows + rest]
    assert len(seen) == len(set(seen)) == 22  # the new rows sit before the cursor


def test_bad_cursors_are_refused(seeded: Store) -> None:
    rank = encode_cursor("rank", 1.5, 3)
    with seeded.read_session() as session:
        for cursor in ("nonsense", "x", "e30", "WyJuZXdlc3QiLDEsMl0", rank):
            with pytest.raises(QueryError):
                find_updates(session, UpdateFilter(cursor=cursor))
        with pytest.raises(QueryError):
            find_updates(session, UpdateFilter(order="rank"))
    when = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    assert decode_cursor(encode_cursor("newest", when, 7), "newest") == (when, 7)


def test_collapse_gives_one_row_per_story(seeded: Store) -> None:
    with seeded.read_session() as session:
        rows = list_updates(session, UpdateFilter(collapse=True, limit=None))
        hits = list_updates(session, UpdateFilter(collapse=True, search="elysee", limit=None))
    assert len(rows) == 22 and len({r["story"] for r in rows}) == 22
    assert all(r["sources"] for r in rows)  # every post has its copy in the other source
    for r in rows:
        assert r["sources"] == ["feed" if r["source"] == "live" else "live"]
    arrival = [r for r in hits if r["headline"] == ARRIVAL]
    assert len(arrival) == 1 and hits[0]["headline"] == ARRIVAL
    # within one source there is nothing to collapse into
    with seeded.read_session() as session:
        one = list_updates(session, UpdateFilter(collapse=True, sources=["live"], limit=None))
    assert len(one) == 22 and all(r["sources"] == [] for r in one)


def test_collapse_keeps_the_earliest_member(seeded: Store) -> None:
    with seeded.read_session() as session:
        rows = list_updates(session, UpdateFilter(collapse=True, limit=None))
        every = list_updates(session, UpdateFilter(limit=None))
    by_story: dict[int, list[dict[str, Any]]] = {}
    for r in every:
        by_story.setdefault(r["story"], []).append(r)
    for r in rows:
        members = by_story[r["story"]]
        assert r["id"] == min(members, key=lambda m: (m["published_at"], m["id"]))["id"]


def test_iter_updates_streams_the_whole_selection(seeded: Store) -> None:
    with seeded.read_session() as session:
        streamed = iter_updates(session, UpdateFilter(limit=None), batch=7)
        assert isinstance(streamed, Iterator)
        rows = list(streamed)
        searched = list(iter_updates(session, UpdateFilter(search="elysee", limit=None), batch=3))
    assert [r["id"] for r in rows] == [r["id"] for r in everything(seeded)]
    assert ids(searched) == ids(found(seeded, "elysee")) and all("rank" in r for r in searched)


# --- rank order by slices of the newest matches ---------------------------------------------


def by_slices(matches: list[dict[str, Any]], size: int) -> list[int]:
    """The rank order storage/search.py documents: the matches newest first (by id) cut
    into slices of `size`, each slice best first (ties: higher id first)."""
    newest = sorted(matches, key=lambda r: r["id"], reverse=True)
    order: list[int] = []
    for start in range(0, len(newest), size):
        part = newest[start : start + size]
        order += [r["id"] for r in sorted(part, key=lambda r: (r["rank"], r["id"]), reverse=True)]
    return order


def every_match(store: Store, f: UpdateFilter) -> list[dict[str, Any]]:
    """Every match of a search with its rank, read without slices (newest order)."""
    with store.read_session() as session:
        return list_updates(session, replace(f, order="newest", limit=None, cursor=None))


SLICED = [
    UpdateFilter(search="de", limit=4),
    UpdateFilter(search="la", limit=3, sources=["live"]),
    UpdateFilter(search="de", limit=2, since=datetime(2026, 2, 10, 18, 0, tzinfo=UTC)),
    UpdateFilter(search="de -tempete", limit=5, highlighted=False),
]


@pytest.mark.parametrize("size", [1, 5, 8])
@pytest.mark.parametrize("f", SLICED, ids=["word", "source", "since", "exclusion"])
def test_rank_order_goes_by_slices_of_the_newest_matches(
    seeded: Store, monkeypatch: pytest.MonkeyPatch, f: UpdateFilter, size: int
) -> None:
    matches = every_match(seeded, f)
    assert len(matches) > size  # several slices
    monkeypatch.setattr(search, "RANK_SLICE", size)
    want = by_slices(matches, size)
    paged = walk(seeded, f)  # pages of 2 to 5 rows cross the slices' edges
    assert [r["id"] for r in paged] == want
    rank = {r["id"]: r["rank"] for r in matches}
    assert all(r["rank"] == rank[r["id"]] for r in paged)  # a slice scores as the whole does
    with seeded.read_session() as session:
        whole = find_updates(session, replace(f, limit=None))
        streamed = list(iter_updates(session, replace(f, limit=None), batch=3))
        capped = list(iter_updates(session, replace(f, limit=7), batch=3))
        skipped = find_updates(session, replace(f, limit=3, offset=2))
    assert whole.next_cursor is None and [r["id"] for r in whole.rows] == want
    assert [r["id"] for r in streamed] == want and [r["id"] for r in capped] == want[:7]
    assert [r["id"] for r in skipped.rows] == want[2:5]


@pytest.mark.parametrize("f", SLICED, ids=["word", "source", "since", "exclusion"])
def test_newest_order_reads_few_candidates_and_stays_exact(
    seeded: Store, monkeypatch: pytest.MonkeyPatch, f: UpdateFilter
) -> None:
    """A page in newest order starts from the newest matches by id; older ids whose time
    reaches the page (here: the feed's copies, stored after the live blog's) are added."""
    f = replace(f, order="newest")
    matches = every_match(seeded, f)  # the whole selection, scored and sorted in SQL
    monkeypatch.setattr(search_pages, "NEWEST_CANDIDATES", 1)
    paged = walk(seeded, f)
    assert [(r["id"], r["rank"]) for r in paged] == [(r["id"], r["rank"]) for r in matches]
    with seeded.read_session() as session:
        skipped = find_updates(session, replace(f, limit=3, offset=2))
    assert [r["id"] for r in skipped.rows] == [r["id"] for r in matches[2:5]]


def test_fewer_matches_than_a_slice_are_ranked_whole(seeded: Store) -> None:
    f = UpdateFilter(search="de", limit=None)
    matches = every_match(seeded, f)
    assert len(matches) <= search.RANK_SLICE
    with seeded.read_session() as session:
        rows = find_updates(session, f).rows
    assert [r["id"] for r in rows] == by_slices(matches, len(matches))


@pytest.mark.parametrize("ranked", [("x", 3), (3,), (1, 2, 3), (True, None), (1.5, None)], ids=str)
def test_rank_cursors_with_bad_slices_are_refused(seeded: Store, ranked: tuple[Any, ...]) -> None:
    cursor = encode_cursor("rank", 1.5, 3, ranked)  # type: ignore[arg-type]
    with seeded.read_session() as session, pytest.raises(QueryError):
        find_updates(session, UpdateFilter(search="kerbrat", cursor=cursor))


# --- both databases, same answers -----------------------------------------------------------

SAME_QUERIES = [
    "elysee",
    "securite",
    "SÉCURITÉ",
    '"vigilance rouge"',
    "kerbrat vigilance",
    "kerbrat -elysee",
    "Belle-Île-en-Mer",
    "l'Elysée",
    '"cellule de crise"',
    "Météo-France",
    "250 000",
    "kerbrat jaouen vasseur",
    "chalutier",
    "œuvre",
    "terminé",
    "AND OR",
    '"',
    "*",
    "headline:kerbrat",
]


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_results(
    tmp_path: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores = [Store(f"sqlite:///{tmp_path / 'v.db'}"), Store(pg_url)]
    try:
        for s in stores:
            seed(s)

        def answer(s: Store, q: str) -> tuple[list[tuple[str, str, str]], str | None]:
            rows = found(s, q)
            keys = sorted((r["source"], r["headline"], r["published_at"].isoformat()) for r in rows)
            return keys, rows[0]["headline"] if rows else None

        for query in SAME_QUERIES:
            lite, pg = answer(stores[0], query), answer(stores[1], query)
            assert lite[0] == pg[0], query
        for query in ("elysee", "vagues", "Raz"):
            assert answer(stores[0], query)[1] == answer(stores[1], query)[1], query

        # ranked by slices of the newest matches: the same matches in each slice
        def slices(s: Store, q: str, size: int) -> list[set[tuple[str, str, str]]]:
            rows = walk(s, UpdateFilter(search=q, limit=3))
            keys = [(r["source"], r["headline"], r["published_at"].isoformat()) for r in rows]
            return [set(keys[i : i + size]) for i in range(0, len(keys), size)]

        monkeypatch.setattr(search, "RANK_SLICE", 4)
        for query in ("de", "tempete", "la -tempete"):
            assert slices(stores[0], query, 4) == slices(stores[1], query, 4), query
    finally:
        for s in stores:
            s.close()
