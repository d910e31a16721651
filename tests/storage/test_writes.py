"""Dedup-aware writes against real databases (SQLite and PostgreSQL): the timeline of the
fixture live blog replayed post by post, edits, highlights, stories, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC
from typing import Any

from sqlalchemy import func, select

from crawler.models import CrawlResult, RawPost, Validators
from storage.crawls import save_crawl
from storage.db import Store
from storage.filters import UpdateFilter
from storage.models import CrawlRun, Revision, Source, Update
from storage.queries import get_update, list_updates
from storage.sources import ensure_sources, sources_overview
from tests.newsroom.timeline import (
    State,
    expected_revisions,
    expected_updates,
    fixture_state,
    timeline,
)


def raw_posts(state: State, *, ids: bool, with_copies: bool = True) -> list[RawPost]:
    """The posts of a page state as an extractor gives them: key-moment copies included."""
    posts = []
    for p in state.stream:
        posts.append(
            RawPost(
                headline=p.headline,
                body=p.body,
                published_at=p.published_at.astimezone(UTC),
                updated_at=p.updated_at.astimezone(UTC),
                key=f"https://x/live#post-{p.n}" if ids else None,
                highlighted=p.n in state.key_moments,
            )
        )
    if with_copies:
        for p in state.highlights:
            posts.insert(
                0,
                RawPost(
                    headline=p.headline,
                    body=p.body,
                    published_at=p.published_at.astimezone(UTC),
                    key=f"https://x/live#post-{p.n}-hl" if ids else None,
                    highlighted=True,
                ),
            )
    return posts


def crawl(store: Store, source_id: int, posts: list[RawPost], **kw: Any) -> Any:
    with store.session() as session:
        return save_crawl(
            session, source_id, CrawlResult("s", "https://x/live", posts=posts, **kw), now=None
        )


def sources(store: Store, *names: str) -> dict[str, int]:
    with store.session() as session:
        return ensure_sources(session, [(n, f"https://x/{n}", "auto") for n in names])


def stored(store: Store, source: str) -> list[dict[str, Any]]:
    with store.session() as session:
        return list_updates(session, UpdateFilter(sources=[source], limit=None))


def test_fixture_page_twice_is_22_updates_then_nothing_new(store: Store) -> None:
    sid = sources(store, "live")["live"]
    first = crawl(store, sid, raw_posts(fixture_state(), ids=False))
    assert (first.new, first.changed, first.unchanged) == (22, 0, 0)
    again = crawl(store, sid, raw_posts(fixture_state(), ids=False))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 22)
    rows = stored(store, "live")
    expected = expected_updates(fixture_state())
    assert [r["headline"] for r in rows] == [e["headline"] for e in expected]
    assert [r["highlighted"] for r in rows] == [e["highlighted"] for e in expected]
    assert sum(r["highlighted"] for r in rows) == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Revision)) == 22
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 2


def replay(store: Store, source_id: int, *, ids: bool) -> None:
    for state in timeline():
        crawl(store, source_id, raw_posts(state, ids=ids))


def check_replayed(store: Store, source: str) -> None:
    final = timeline()[-1]
    rows = {r["headline"]: r for r in stored(store, source)}
    assert len(rows) == 22
    revisions = expected_revisions()
    for exp in expected_updates(final):
        row = rows[exp["headline"]]
        assert row["body"] == exp["body"]
        assert (
            row["published_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            == (exp["published_at"])
        )
        assert row["highlighted"] == exp["highlighted"], exp["headline"]
        assert row["revisions"] == revisions[exp["n"]], exp["headline"]  # type: ignore[index]
    assert sum(r["revisions"] > 1 for r in rows.values()) == 3


def test_replay_with_ids(store: Store) -> None:
    sid = sources(store, "live")["live"]
    replay(store, sid, ids=True)
    check_replayed(store, "live")


def test_replay_without_ids_matches_edits_by_minute_and_text(store: Store) -> None:
    sid = sources(store, "live")["live"]
    replay(store, sid, ids=False)
    check_replayed(store, "live")
    typo = next(r for r in stored(store, "live") if "INDEMNISATIONS" in r["headline"])
    with store.session() as session:
        full = get_update(session, typo["id"])
    assert full is not None
    assert [h["headline"] for h in full["history"]] == [
        "LE GOUVERNEMENT PROMET DES INDEMINSATIONS RAPIDES",
        "LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES",
    ]


def test_stale_copy_of_an_old_version_is_not_a_new_revision(store: Store) -> None:
    sid = sources(store, "live")["live"]
    t = fixture_state().posts[0].published_at.astimezone(UTC)
    v1 = RawPost("BIENVENUE", "Bienvenue dans ce direct. Premier texte du direct.", t)
    v2 = RawPost("BIENVENUE", "Bienvenue dans ce direct. Premier texte du direct, corrigé.", t)
    for version in (v1, v2, v1, v2):
        crawl(store, sid, [version])
    [row] = stored(store, "live")
    assert row["revisions"] == 2


def test_feed_links_differing_by_tracking_params_are_one_entry(store: Store) -> None:
    sid = sources(store, "feed")["feed"]
    t = fixture_state().posts[0].published_at.astimezone(UTC)
    crawl(store, sid, [RawPost("A", "texte", t, key="https://x/live#post-1")])
    crawl(store, sid, [RawPost("A", "texte", t, key="https://x/live#post-1")])
    assert len(stored(store, "feed")) == 1


def test_stories_link_the_live_blog_and_its_feed(store: Store) -> None:
    ids = sources(store, "live", "feed")
    crawl(store, ids["live"], raw_posts(fixture_state(), ids=True))
    feed = [
        RawPost(p.headline, p.paragraphs[0], p.published_at.astimezone(UTC), key=f"guid:{p.n}")
        for p in fixture_state().stream
    ]
    crawl(store, ids["feed"], feed)
    live = {r["headline"]: r for r in stored(store, "live")}
    linked = 0
    for r in stored(store, "feed"):
        twin = live[r["headline"]]
        assert r["story"] is not None and r["story"] == twin["story"], r["headline"]
        linked += 1
    assert linked == 22
    assert len({r["story"] for r in live.values()}) == 22
    with store.session() as session:
        row = get_update(session, live["BIENVENUE DANS CE DIRECT"]["id"])
    assert row is not None and [s["source"] for s in row["sightings"]] == ["feed"]


def test_concurrent_crawls_of_one_source_never_duplicate(store: Store) -> None:
    sid = sources(store, "live")["live"]
    posts = raw_posts(fixture_state(), ids=False)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(3):
                crawl(store, sid, posts)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(stored(store, "live")) == 22
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Update)) == 22
        assert session.scalar(select(func.count()).select_from(Revision)) == 22


def test_crawl_state_and_validators(store: Store) -> None:
    sid = sources(store, "live")["live"]
    crawl(
        store,
        sid,
        raw_posts(fixture_state(), ids=True),
        ended=True,
        path="jsonld",
        validators={"https://x/live": Validators('"abc"', "Tue, 10 Feb 2026 20:00:00 GMT")},
    )
    crawl(
        store, sid, [], status="error", error="fetch: HTTP 503 Service Unavailable", http_status=503
    )
    with store.session() as session:
        src = session.get(Source, sid)
        assert src is not None and src.ended and src.polls == 2 and src.had_posts
        overview = sources_overview(session)["live"]
    assert overview["last_error"] == "fetch: HTTP 503 Service Unavailable"
    assert overview["updates"] == 22 and overview["last_status"] == "error"


def _counter_page(shown: int, *, copy: bool, keyless_tail: bool) -> list[RawPost]:
    """A page of the first `shown` posts of the evening, newest first, whose ids count them
    from the newest down ("#post1" is whichever post is newest now), with the newest post's
    key-moments copy "#post1-hl" (shortened, untimed) and the oldest post without an id (the
    JSON-LD lists fewer posts than the HTML shows)."""
    from datetime import datetime, timedelta

    t0 = datetime(2026, 2, 10, 21, 0, tzinfo=UTC)
    posts = []
    for i, n in enumerate(reversed(range(shown))):
        key = None if keyless_tail and i == shown - 1 else f"https://x/live#post{i + 1}"
        body = f"Le fait numéro {n} de la soirée survient sur le port de Brest."
        when = t0 + timedelta(minutes=n)
        posts.append(RawPost(f"Fait numéro {n}", body, published_at=when, key=key, url=key))
    if copy:
        first = posts[0]
        posts.insert(
            0,
            RawPost(
                first.headline,
                first.body[:30],
                key="https://x/live#post1-hl",
                anchor="https://x/live#post1-hl",
                highlighted=True,
                in_key_moments=True,
            ),
        )
    return posts


def test_a_page_counting_its_posts_loses_and_doubles_none_over_polls(store: Store) -> None:
    for copy in (False, True):
        for keyless_tail in (False, True):
            name = f"live-{copy}-{keyless_tail}"
            sid = sources(store, name)[name]
            for shown in range(3, 7):  # one new post at the top at each poll
                page = _counter_page(shown, copy=copy, keyless_tail=keyless_tail)
                counts = crawl(store, sid, page)
                expected = (3, 0) if shown == 3 else (1, 0)
                assert (counts.new, counts.changed) == expected, (copy, keyless_tail, shown)
            rows = stored(store, name)
            assert sorted(r["headline"] for r in rows) == [f"Fait numéro {n}" for n in range(6)]
            assert all(r["revisions"] == 1 for r in rows)
