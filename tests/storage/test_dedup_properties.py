"""Property tests of deduplication: whatever order, subset, copies and edits a sequence of
polls shows, the store holds each real post once with one revision per distinct text."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.models import CrawlResult, RawPost
from storage import dedup, dedup_page
from storage.crawls import save_crawl
from storage.db import Store
from storage.filters import UpdateFilter
from storage.queries import get_update, list_updates
from storage.sources import ensure_sources
from tests.newsroom.blogtext import load_posts

POSTS = load_posts()
N = len(POSTS)


def as_raw(n: int, *, ids: bool, copy: bool = False, version: int = 0) -> RawPost:
    p = POSTS[n]
    body = p.body
    headline = p.headline
    if version % 2 == 1:  # a paragraph appended
        body += f"\n\nPrécision de la rédaction numéro {version}."
    if version >= 2:  # a headline corrected
        headline = (headline or "SANS TITRE") + " (MIS À JOUR)"
    key = None
    if ids:
        key = f"https://x/live#post-{n}" + ("-hl" if copy else "")
    return RawPost(headline, body, p.published_at.astimezone(UTC), key=key, highlighted=copy)


page_strategy = st.lists(st.tuples(st.integers(0, N - 1), st.booleans()), min_size=1, max_size=30)


@given(page=page_strategy)
@settings(max_examples=150, deadline=None)
def test_merge_page_gives_one_post_per_real_post(page: list[tuple[int, bool]]) -> None:
    posts = [as_raw(n, ids=False, copy=copy) for n, copy in page]
    merged = dedup_page.merge_page(posts)
    assert len(merged) == len({n for n, _ in page})
    for m in merged:
        n = next(
            i
            for i, p in enumerate(POSTS)
            if p.headline == m.post.headline and p.body == m.post.body
        )
        assert m.highlighted == any(copy for i, copy in page if i == n)


# A poll: the posts a page shows (each once in the stream), for each whether the page also
# shows a key-moments copy, and whether the newsroom edited it since the last poll.
polls_strategy = st.lists(
    st.dictionaries(
        st.integers(0, N - 1), st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=22
    ),
    min_size=1,
    max_size=6,
)


@given(polls=polls_strategy, ids=st.booleans())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_polls_store_each_post_once_with_its_versions(
    polls: list[dict[int, tuple[bool, bool]]], ids: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'p.db'}")
        try:
            with store.session() as session:
                sid = ensure_sources(session, [("s", "https://x/live", "liveblog")])["s"]
            current: dict[int, int] = {}
            seen_versions: dict[int, set[int]] = {}
            highlighted: set[int] = set()
            for poll in polls:
                page = []
                for n, (copy, edited) in poll.items():
                    if n in current and edited:
                        current[n] = min(current[n] + 1, 3)
                    version = current.setdefault(n, 0)
                    seen_versions.setdefault(n, set()).add(version)
                    page.append(as_raw(n, ids=ids, version=version))
                    if copy:
                        page.insert(0, as_raw(n, ids=ids, copy=True, version=version))
                        highlighted.add(n)
                with store.session() as session:
                    save_crawl(session, sid, CrawlResult("s", "https://x/live", posts=page))
            with store.session() as session:
                rows = list_updates(session, UpdateFilter(limit=None))
                assert len(rows) == len(seen_versions)
                for row in rows:
                    full = get_update(session, row["id"])
                    assert full is not None and row["revisions"] == len(full["history"])
            assert sorted(r["revisions"] for r in rows) == sorted(
                len(v) for v in seen_versions.values()
            )
            assert sum(r["highlighted"] for r in rows) == len(highlighted)
        finally:
            store.close()


@given(n=st.integers(0, N - 1), version=st.integers(1, 3))
@settings(max_examples=60, deadline=None)
def test_every_fixture_edit_is_an_edit_and_never_of_another_post(n: int, version: int) -> None:
    edited = as_raw(n, ids=False, version=version)
    original = POSTS[n]
    assert dedup.is_edit_of(original.headline, original.body, edited.headline, edited.body)
    for other in POSTS:
        if other.n != original.n and dedup.same_minute(other.published_at, original.published_at):
            assert not dedup.is_edit_of(other.headline, other.body, edited.headline, edited.body)


def test_a_post_moved_to_another_minute_is_another_post() -> None:
    p = as_raw(3, ids=False)
    later = replace(p, published_at=p.published_at.replace(minute=(p.published_at.minute + 1) % 60))
    assert dedup.content_print(p.headline, p.body, p.published_at) != dedup.content_print(
        later.headline, later.body, later.published_at
    )
