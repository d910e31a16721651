"""Every shape the newsroom fixture serves, extracted and checked against `expected_updates`.

The fixture page (22 posts, the paroxysm post among the key moments, two posts at 09:30 and
two at 21:10, one after midnight, a closing post without headline the next morning) rendered
as JSON-LD, microdata, plain HTML read by selectors and by the generic detector (no selectors),
a paginated page, RSS and Atom; and the real seed's posts the same way, when ../shared is
present. Copies of a post are merged the way storage merges them: same key or alt key, else
same normalised headline, body and minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.extract.page import extract_page
from crawler.feeds import parse_feed
from crawler.models import PageExtraction, RawPost, Selectors
from storage.dedup_page import merge_page
from tests.newsroom.blogtext import load_posts
from tests.newsroom.html_parts import page_url
from tests.newsroom.render import (
    page_count,
    render_atom,
    render_jsonld,
    render_microdata,
    render_paged,
    render_plain,
    render_rss,
)
from tests.newsroom.timeline import State, expected_updates, fixture_state, timeline, utc_iso

BASE = "http://127.0.0.1:8765"
PARIS = "Europe/Paris"
NOW = datetime(2026, 2, 11, 12, 0, tzinfo=UTC)
PLAIN = Selectors(
    post="div.entry", headline=".entry-title", published=".entry-when", body=".entry-text"
)


def merge(posts: list[RawPost]) -> list[RawPost]:
    """One post per identity, as the store merges the copies of one page
    (storage/dedup_page.py), each with the link and key-moments flag the merge gives it."""
    return [
        replace(m.post, url=m.url, highlighted=m.highlighted)  # type: ignore[type-var]
        for m in merge_page(posts)
    ]


def jsonld(state: State) -> PageExtraction:
    return extract_page(
        render_jsonld(state, BASE), page_url(BASE, "jsonld"), timezone=PARIS, now=NOW
    )


def microdata(state: State) -> PageExtraction:
    html = render_microdata(state, BASE).encode("utf-8")
    return extract_page(html, page_url(BASE, "microdata"), timezone=PARIS, now=NOW)


def plain(state: State) -> PageExtraction:
    html = render_plain(state, BASE)
    return extract_page(html, page_url(BASE, "plain"), timezone=PARIS, selectors=PLAIN, now=NOW)


def detected(state: State) -> PageExtraction:
    """The plain page without its selectors: the generic detector finds the same posts."""
    html = render_plain(state, BASE)
    return extract_page(html, page_url(BASE, "plain"), timezone=PARIS, now=NOW)


def paged(state: State) -> PageExtraction:
    """Every page, followed through rel="next" as the spider does."""
    url, result = page_url(BASE, "paged"), PageExtraction()
    for number in range(1, page_count(state) + 1):
        page = extract_page(render_paged(state, BASE, number), url, timezone=PARIS, now=NOW)
        result.posts += page.posts
        result.ended, result.is_liveblog, result.path = page.ended, page.is_liveblog, page.path
        if number < page_count(state):
            assert page.next_url == f"{page_url(BASE, 'paged')}?page={number + 1}"
            url = page.next_url
        else:
            assert page.next_url is None
    return result


def rss(state: State) -> PageExtraction:
    body = render_rss(state, BASE).encode("utf-8")
    return parse_feed(
        body, page_url(BASE, "rss"), timezone=PARIS, content_type="application/rss+xml"
    )


def atom(state: State) -> PageExtraction:
    body = render_atom(state, BASE).encode("utf-8")
    return parse_feed(body, page_url(BASE, "atom"), timezone=PARIS)


PAGES: dict[str, Callable[[State], PageExtraction]] = {
    "jsonld": jsonld,
    "microdata": microdata,
    "plain": plain,
    "detected": detected,
    "paged": paged,
}
FEEDS: dict[str, Callable[[State], PageExtraction]] = {"rss": rss, "atom": atom}
PATHS = {
    "jsonld": "jsonld",
    "microdata": "microdata",
    "plain": "selectors",
    "detected": "detected",
    "paged": "microdata",
}
UNSTRUCTURED = ("plain", "detected")  # no schema.org data: no end of coverage, no declaration


def as_expected(post: RawPost) -> dict[str, object]:
    return {
        "headline": post.headline,
        "body": post.body,
        "published_at": utc_iso(post.published_at) if post.published_at else None,
        "highlighted": post.highlighted,
    }


@pytest.mark.parametrize("shape", [*PAGES, *FEEDS])
def test_shape_yields_the_fixture_posts(shape: str) -> None:
    check_state(shape, fixture_state())


@pytest.mark.parametrize("shape", [*PAGES, *FEEDS])
def test_shape_yields_the_real_seed_posts(shape: str, real_seed: Path) -> None:
    """The real TF1 text (../shared/seed), served in every shape, gives its 22 posts back."""
    state = fixture_state(load_posts(real_seed))
    assert len(state.posts) == 22
    check_state(shape, state)


@pytest.mark.parametrize("shape", [*PAGES, *FEEDS])
def test_every_step_of_the_timeline(shape: str) -> None:
    """Posts arriving, edits, the key moment appearing two steps late, the end."""
    states = timeline()
    assert len(states) >= 12
    for state in states:
        check_state(shape, state)
        result = {**PAGES, **FEEDS}[shape](state)
        assert result.ended is (state.ended and shape not in (*UNSTRUCTURED, *FEEDS))


def check_state(shape: str, state: State) -> None:
    result = {**PAGES, **FEEDS}[shape](state)
    assert result.warnings == []
    posts = merge(result.posts)
    expected = expected_updates(state)
    assert len(posts) == len(expected) == len(state.posts)
    got = [as_expected(p) for p in posts]
    for e in expected:
        e.pop("n")
        if shape in FEEDS:  # feeds have no key-moments block
            e["highlighted"] = False

    def order(d: dict[str, object]) -> tuple[str, str, str]:
        return str(d["published_at"]), str(d["headline"]), str(d["body"])

    assert sorted(got, key=order) == sorted(expected, key=order)


@pytest.mark.parametrize("shape", list(PAGES))
def test_page_shapes_declare_what_they_are(shape: str) -> None:
    result = PAGES[shape](fixture_state())
    assert result.path == PATHS[shape]
    assert result.ended is (shape not in UNSTRUCTURED)  # the plain page has no structured data
    assert result.is_liveblog is (shape not in UNSTRUCTURED)


@pytest.mark.parametrize("shape", [*PAGES, *FEEDS])
def test_same_minute_posts_stay_apart_and_the_closing_post_has_no_headline(shape: str) -> None:
    posts = merge({**PAGES, **FEEDS}[shape](fixture_state()).posts)
    minutes: dict[str, list[str]] = {}
    for p in posts:
        assert p.published_at is not None
        minutes.setdefault(utc_iso(p.published_at), []).append(p.headline)
    assert len(minutes["2026-02-10T20:10:00Z"]) == 2
    assert len(minutes["2026-02-10T08:30:00Z"]) == 2
    assert minutes["2026-02-10T23:20:00Z"] == ["“LE PIRE EST DERRIÈRE NOUS”, SELON MÉTÉO-FRANCE"]
    assert minutes["2026-02-11T06:30:00Z"] == [""]
    highlighted = [p.headline for p in posts if p.highlighted]
    assert highlighted == ([] if shape in FEEDS else ["LA TEMPÊTE YSOLDE À SON PAROXYSME"])


def test_keys_agree_between_the_json_ld_page_and_the_feeds() -> None:
    state = fixture_state()
    page_keys = {p.key for p in jsonld(state).posts}
    rss_urls = {p.url for p in rss(state).posts}
    assert page_keys == rss_urls
    rss_keys = [p.key for p in rss(state).posts]
    assert all(k.startswith("guid:") or k in page_keys for k in rss_keys if k)
    assert all(k.startswith("guid:urn:newsroom:post-") for k in (p.key for p in atom(state).posts))


def test_microdata_copy_keeps_its_own_anchor_and_joins_its_twin_in_storage() -> None:
    posts = microdata(fixture_state()).posts
    copies = [p for p in posts if p.in_key_moments]
    assert len(copies) == 1 and copies[0].key and copies[0].key.endswith("-hl")
    assert copies[0].highlighted and not copies[0].alt_keys
    twin = [p for p in posts if p.key == copies[0].key.removesuffix("-hl")]
    assert len(twin) == 1 and not twin[0].in_key_moments
    stored = merge_page(posts)
    assert len(stored) == len(posts) - 1  # the copy and its twin are one post
    [joined] = [m for m in stored if copies[0].key in m.keys]
    assert joined.highlighted and joined.url == twin[0].url and twin[0].key in joined.keys
