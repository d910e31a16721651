"""Posts in embedded application state (#17): pages that render client-side carry their posts
in a script. The generic path finds arrays of post-like objects (a text, a time) whatever the
keys, decodes "sometimes encoded" state, and is used when the HTML holds fewer posts.

Our own pages in the styles of Next.js (pages router and app router), Nuxt 3 (devalue),
Apollo (normalized cache with references), a Redux store in `JSON.parse("…")`, base64 and
URI-encoded state; and what must not be taken for posts: a news index of other articles,
readers' comments, a related-articles list.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.documents import NoPostsError, extract_document
from crawler.extract import state
from crawler.extract.embedded import embedded_posts
from crawler.extract.page import extract_page, parse_html
from crawler.extract.state import decode_layers, js_string, state_values, unflatten
from crawler.models import SourceSpec
from tests.crawler.outlet_pages import NOW, shell

URL = "https://www.example-news.com/live/election-night"
TEXTS = (
    "Polls have now closed across the country and counting is under way.",
    "The first result is expected from the north-east within the hour.",
    "Turnout looks higher than at the last election, officials say.",
    "Both main candidates are expected to speak later tonight.",
)
SKELETON = '<div id="__next"><div class="skeleton">Loading live coverage…</div></div>'


def at(i: int) -> datetime:
    return datetime(2026, 3, 10, 14 - i, 5 * i, tzinfo=UTC)


def iso(i: int) -> str:
    return at(i).isoformat().replace("+00:00", "Z")


def next_data(posts: list[dict[str, Any]]) -> str:
    data = {
        "props": {
            "pageProps": {
                "navigation": [{"title": f"Section {i}", "href": f"/s/{i}"} for i in range(12)],
                "liveblog": {"id": "lb-77", "title": "Election night", "entries": posts},
                "footer": {"links": [{"label": "About", "url": "/about"}]},
            }
        },
        "page": "/live/[slug]",
        "buildId": "a1b2c3",
    }
    return f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'


NEXT_POSTS = [
    {
        "id": f"e{40 - i}",
        "publishedAt": iso(i),
        "updatedAt": iso(i),
        "title": f"Update {i}" if i % 2 == 0 else "",
        "body": [{"type": "paragraph", "text": TEXTS[i]}, {"type": "paragraph", "text": "More."}],
        "author": {"name": "Sam Reporter", "image": "https://img.example/sam.jpg"},
    }
    for i in range(4)
]


def test_next_pages_router_state_with_rich_text_blocks() -> None:
    html = shell(SKELETON, tail=next_data(NEXT_POSTS))
    result = extract_page(html, URL, now=NOW)
    assert result.path == "embedded"
    assert [p.published_at for p in result.posts] == [at(i) for i in range(4)]
    assert [p.body for p in result.posts] == [f"{t}\n\nMore." for t in TEXTS]
    assert [p.headline for p in result.posts] == ["Update 0", "", "Update 2", ""]
    assert result.posts[0].key == f"{URL}#e40"
    assert "Sam Reporter" not in result.posts[0].body


def test_nuxt_devalue_state() -> None:
    # devalue: a flat array, index 0 the root, numbers inside objects and arrays point into it
    flat: list[Any] = [["ShallowReactive", 1], {"data": 2}, {"live": 3}, {"posts": 4}, []]
    for i in range(4):
        flat[4].append(len(flat))
        n = len(flat)
        flat += [{"uid": n + 1, "created_at": n + 2, "content": n + 3}]
        flat += [f"p{i}", int(at(i).timestamp()), f"<p>{TEXTS[i]}</p>"]
    script = f'<script type="application/json" id="__NUXT_DATA__">{json.dumps(flat)}</script>'
    result = extract_page(shell('<div id="__nuxt"></div>', tail=script), URL, now=NOW)
    assert result.path == "embedded"
    assert [(p.published_at, p.body) for p in result.posts] == [(at(i), TEXTS[i]) for i in range(4)]


def test_apollo_normalized_cache_with_references() -> None:
    state = {"ROOT_QUERY": {"liveBlog({\"id\":\"77\"})": {"__ref": "LiveBlog:77"}},
             "LiveBlog:77": {"__typename": "LiveBlog", "posts": [
                 {"__ref": f"LivePost:{i}"} for i in range(4)]}}  # fmt: skip
    for i in range(4):
        state[f"LivePost:{i}"] = {
            "__typename": "LivePost",
            "id": str(i),
            "firstPublishedDate": iso(i),
            "lastModifiedDate": iso(0),
            "textHtml": f"<p>{TEXTS[i]}</p>",
        }
    script = f"<script>window.__APOLLO_STATE__ = {json.dumps(state)};</script>"
    result = extract_page(shell(SKELETON, tail=script), URL, now=NOW)
    assert result.path == "embedded"
    assert [(p.published_at, p.body) for p in result.posts] == [(at(i), TEXTS[i]) for i in range(4)]
    assert result.posts[1].updated_at == at(0)


def redux(posts: list[dict[str, Any]]) -> str:
    return json.dumps({"live": {"items": posts, "status": "ok"}, "user": {"loggedIn": False}})


REDUX_POSTS = [
    {"key": f"k{i}", "timestamp": int(at(i).timestamp() * 1000), "text": TEXTS[i]} for i in range(4)
]


@pytest.mark.parametrize(
    "script",
    [
        f"window.__INITIAL_STATE__ = JSON.parse({json.dumps(redux(REDUX_POSTS))});",
        "window.__PRELOADED_STATE__ = JSON.parse(atob('"
        + base64.b64encode(redux(REDUX_POSTS).encode()).decode()
        + "'));",
        f'window["__STATE__"] = JSON.parse(decodeURIComponent("{quote(redux(REDUX_POSTS))}"));',
        "self.__next_f.push([1, "
        + json.dumps("0:" + json.dumps(["$", "main", None, {"items": REDUX_POSTS}]) + "\n")
        + "]);",
    ],
    ids=["json-in-a-string", "base64", "uri-encoded", "next-app-router"],
)
def test_encoded_state(script: str) -> None:
    result = extract_page(shell(SKELETON, tail=f"<script>{script}</script>"), URL, now=NOW)
    assert result.path == "embedded"
    assert [(p.published_at, p.body) for p in result.posts] == [(at(i), TEXTS[i]) for i in range(4)]
    assert result.posts[0].key == f"{URL}#k0"


def test_the_html_wins_when_it_holds_as_many_posts() -> None:
    html_posts = "".join(
        f'<article class="entry" id="e{40 - i}"><time datetime="{iso(i)}">x</time>'
        f"<p>{TEXTS[i]}</p></article>"
        for i in range(4)
    )
    result = extract_page(shell(html_posts, tail=next_data(NEXT_POSTS)), URL, now=NOW)
    assert result.path == "detected" and len(result.posts) == 4


def test_more_posts_in_the_state_than_in_the_html() -> None:
    html_posts = "".join(
        f'<article class="entry"><time datetime="{iso(i)}">x</time><p>{TEXTS[i]}</p></article>'
        for i in range(3)
    )
    more = [*NEXT_POSTS, {**NEXT_POSTS[0], "id": "e99", "publishedAt": iso(5), "title": "Sixth"}]
    result = extract_page(shell(html_posts, tail=next_data(more)), URL, now=NOW)
    assert result.path == "embedded" and len(result.posts) == 5


ARTICLES = [
    {
        "id": f"a{i}",
        "title": f"Another article about the economy, number {i}",
        "publishedAt": iso(i),
        "summary": "A teaser of another article on this site, long enough to be read.",
        "url": f"https://www.example-news.com/business/article-{i}",
    }
    for i in range(8)
]
COMMENTS = [
    {
        "id": i,
        "createdAt": iso(i),
        "text": f"I completely disagree with this article, reader opinion number {i}.",
        "parentId": None,
        "likes": i,
    }
    for i in range(6)
]


@pytest.mark.parametrize(
    "state",
    [
        {"props": {"pageProps": {"articles": ARTICLES}}},
        {"props": {"pageProps": {"article": {"body": "Text"}, "comments": COMMENTS}}},
        {"props": {"pageProps": {"thread": COMMENTS}}},
        {"props": {"pageProps": {"related": [{**a, "url": f"/world/{i}"} for i, a in
                                             enumerate(ARTICLES)]}}},
    ],
    ids=["news-index", "comments", "comments-unnamed", "related-articles"],
)  # fmt: skip
def test_state_that_holds_no_posts(state: dict[str, Any]) -> None:
    script = f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(state)}</script>'
    html = shell("<p>An ordinary article page.</p>", tail=script)
    with pytest.raises(NoPostsError):
        extract_document(html.encode(), URL, SourceSpec(name="x", url=URL), now=NOW)


def test_decoding_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caps lowered (8 MB a script, 24 MB a page in production) to keep the test small."""
    monkeypatch.setattr(state, "MAX_SCRIPT", 200_000)
    monkeypatch.setattr(state, "MAX_TOTAL", 600_000)
    deep = "[" * 100_000 + "]" * 100_000
    big = '{"a": "' + "x" * 300_000 + '"}'
    junk = "window.__STATE__ = {unquoted: 1, " + "a: [" * 5000 + ";"
    page = (
        f'<html><body><script type="application/json">{deep}</script>'
        f'<script type="application/json">{big}</script><script>{junk}</script>'
        "<script>window.__X__ = JSON.parse(atob('!!!notbase64!!!'));</script></body></html>"
    )
    started = time.monotonic()
    assert state_values(parse_html(page)) == []
    # every assignment opens a JSON list that runs to the end of the script, unclosed
    quadratic = "window.a = [" + '"window.a = [", ' * 10_000
    unterminated = "JSON.parse('" * 10_000
    page = f"<html><body><script>{quadratic}</script><script>{unterminated}</script></body></html>"
    assert state_values(parse_html(page)) == []
    assert time.monotonic() - started < 5
    cyclic = unflatten([{"a": 1}, {"b": 0}])  # a reference back to the root ends
    assert cyclic["a"]["b"] is cyclic
    looped = unflatten([[0, 0]])
    assert looped[0] is looped and unflatten([{"a": 99}]) == {"a": None}


def test_js_strings_and_layers() -> None:
    assert js_string("'it\\'s \\x41'", 0) == ("it's A", 12)
    assert js_string('"unterminated', 0) is None
    scan_values = state_values(
        parse_html("<html><body><script>var s = JSON.parse('[1, 2, 3]');</script></body></html>")
    )
    assert scan_values == [[1, 2, 3]]
    assert decode_layers("%7B%22a%22%3A1%7D", _scan()) == {"a": 1}


def _scan() -> Any:
    from crawler.extract.state import _Scan

    return _Scan(deadline=time.monotonic() + 1)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_the_state_finder_never_raises_on_arbitrary_json(value: Any) -> None:
    for values in ([value], [value, {"posts": [value, value, value]}]):
        posts = embedded_posts(values, URL, timezone="Europe/Paris")
        assert all(p.published_at is not None for p in posts)
    unflatten(value if isinstance(value, list) else [value])
    script = json.dumps(value).replace("</", "<\\/")
    state_values(parse_html(f'<script type="application/json">{script}</script>'))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_the_state_decoder_never_raises_on_arbitrary_script_text(text: str) -> None:
    for script in (
        f"window.__S__ = {text}",
        f"window.__S__ = JSON.parse({text}",
        f"JSON.parse(atob('{text}'))",
        f'self.__next_f.push([1, "{text}"])',
        f"var x = '{text}",
    ):
        safe = script.replace("</", "<\\/")
        html = f"<html><body><script>{safe}</script></body></html>"
        values = state_values(parse_html(html))
        embedded_posts(values, URL, timezone="UTC")
    js_string(text, 0)
    decode_layers(text, _scan())
