"""Markup, nesting and pathological text: every hostile document of tests/hostile_input.py is read
whole beside three good posts, which are all kept; one failing path or post costs only
itself. (How long each takes is measured by bench/hostile.py, not asserted here.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.documents import extract_document
from crawler.extract import jsonld, page
from crawler.markup import flatten, parse_markup
from crawler.models import PageExtraction, SourceSpec
from crawler.text import html_to_text
from crawler.urls import refusal
from tests.hostile_input import (
    BASE,
    GOOD_HEADLINES,
    MB,
    feed,
    hostile_documents,
    item,
    jsonld_page,
    nested_html,
    nested_json,
    plain_posts,
    post_html,
    update,
    without_unsafe,
)
from tests.hostile_input import page as html_page

NOW = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)
DOCUMENTS = list(hostile_documents(64 * 1024))


def extract(body: bytes, kind: str = "liveblog") -> PageExtraction:
    source = SourceSpec(name="s", url=BASE, kind=kind, timezone="Europe/Paris")
    return extract_document(body, BASE, source, now=NOW)


def test_the_corpus_covers_every_class() -> None:
    names = " ".join(name for name, _, _ in DOCUMENTS)
    parts = ["body:", "attribute:", "element id:", "stamp:", "jsonld url:", "feed title:"]
    parts += ["html nested 100000", "json nested 100000", "markup:", "many posts"]
    for part in parts:
        assert part in names
    assert len(DOCUMENTS) > 200


@pytest.mark.parametrize(("name", "kind", "body"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_a_hostile_part_costs_only_itself(name: str, kind: str, body: bytes) -> None:
    found = extract(body, kind)
    headlines = {p.headline for p in found.posts}
    assert set(GOOD_HEADLINES) <= headlines, (name, sorted(headlines)[:5], found.warnings)
    for post in found.posts:
        assert without_unsafe(post.headline) and without_unsafe(post.body)
        assert post.url is None or refusal(post.url) is None
    assert all(without_unsafe(w) and len(w) < 1000 for w in found.warnings)
    assert len(found.warnings) <= 50


def test_a_five_megabyte_line_in_a_post_is_kept() -> None:
    line = "x" * (5 * MB)
    found = extract(html_page([*plain_posts(3), post_html(9, "Long", line)]).encode())
    assert [len(p.body) for p in found.posts if p.headline == "Long"] == [5 * MB]


@pytest.mark.parametrize("tag", ["div", "b", "span", "section", "font"])
def test_what_follows_a_nesting_bomb_is_kept(tag: str) -> None:
    for bomb in (nested_html(100_000, tag), f"<{tag}>x" * 100_000):
        found = extract(html_page(plain_posts(3), before=bomb).encode())
        assert [p.headline for p in found.posts] == [f"Titre {i}" for i in range(3)]


def test_a_stray_end_of_document_keeps_the_rest() -> None:
    junk = "</div></article></main></body></html><html><body>"
    found = extract(html_page(plain_posts(3), before=junk * 3).encode())
    assert len(found.posts) == 3


@pytest.mark.parametrize("kind", ["list", "object", "mixed"])
def test_a_json_ld_block_nested_too_deep_is_skipped_and_told(kind: str) -> None:
    body = jsonld_page([update(i) for i in range(3)], extra_scripts=[nested_json(100_000, kind)])
    found = extract(body.encode())
    assert len(found.posts) == 3
    assert "jsonld: skipped a block nested too deep" in found.warnings


def test_a_feed_of_too_many_elements_keeps_its_first_entries() -> None:
    junk = "<item><title>t</title><x>" + "<y/>" * 60_000 + "</x></item>"
    found = extract(feed([item(0), item(1), junk, item(3)]).encode(), "feed")
    assert [p.headline for p in found.posts] == ["Entrée 0", "Entrée 1"]
    assert any("more than 50000 XML elements" in w for w in found.warnings)


# --- one failing path or post costs only itself ---------------------------------------------


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (page, "extract_jsonld"),
        (page, "extract_microdata"),
        (page, "page_date"),
        (page, "find_highlights"),
        (page, "summary_lists"),
        (page, "_next_url"),
        (page, "merge_structured"),
    ],
)
def test_a_failing_path_costs_only_itself(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str
) -> None:
    monkeypatch.setattr(module, name, _fail)
    body = jsonld_page([update(i, url=f"{BASE}#post-{i}") for i in range(3)])
    body = body.replace("</body>", "".join(plain_posts(3)) + "</body>")
    found = extract(body.encode())
    assert len(found.posts) >= 3
    assert any("skipped after an error (RuntimeError: boom)" in w for w in found.warnings)


def test_the_detector_failing_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "detect_posts", _fail)
    with pytest.raises(Exception, match=r"no posts found.*detector: skipped after an error"):
        extract(html_page(plain_posts(3)).encode())


def test_one_failing_update_costs_only_that_update(monkeypatch: pytest.MonkeyPatch) -> None:
    real = jsonld._update

    def flaky(obj: dict, page_url: str, tz: str) -> object:
        if obj.get("headline") == "Mise à jour 1":
            raise ValueError("bad update")
        return real(obj, page_url, tz)

    monkeypatch.setattr(jsonld, "_update", flaky)
    found = extract(jsonld_page([update(i) for i in range(3)]).encode())
    assert [p.headline for p in found.posts] == ["Mise à jour 0", "Mise à jour 2"]
    assert any("jsonld: an update: skipped after an error" in w for w in found.warnings)


def test_one_failing_html_post_costs_only_that_post(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.extract import html_posts

    real = html_posts.read_post

    def flaky(post: object, *args: object, **kwargs: object) -> object:
        if post.get("id") == "post-1":  # type: ignore[attr-defined]
            raise IndexError("bad post")
        return real(post, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html_posts, "read_post", flaky)
    found = extract(html_page(plain_posts(4)).encode())
    assert [p.headline for p in found.posts] == ["Titre 0", "Titre 2", "Titre 3"]


def test_one_failing_feed_entry_costs_only_that_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler import feeds

    real = feeds.entry_post

    def flaky(entry: dict, base: str, tz: str) -> object:
        if entry.get("title") == "Entrée 1":
            raise KeyError("bad entry")
        return real(entry, base, tz)

    monkeypatch.setattr(feeds, "entry_post", flaky)
    found = extract(feed([item(i) for i in range(3)]).encode(), "feed")
    assert [p.headline for p in found.posts] == ["Entrée 0", "Entrée 2"]
    assert any("feed: an entry: skipped after an error" in w for w in found.warnings)


# --- flattening ---------------------------------------------------------------------------------

_TAGS = re.compile(r"""<(?:[^<>"']|"[^"]*"|'[^']*')*>""")  # a quoted value may hold "<"
_markup = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "<div>",
                "</div>",
                "<b>",
                "</b>",
                "<p>",
                "</span>",
                "<br>",
                "<img/>",
                "<script>x<div></script>",
                '<a title="<i>">',
                "</a>",
            ]
        ),
        st.text(alphabet="xyz ", min_size=1, max_size=3),
    ),
    max_size=60,
).map("".join)


@given(_markup, st.integers(min_value=1, max_value=400))
@settings(deadline=None, max_examples=200)
def test_flattening_keeps_every_text(markup: str, repeat: int) -> None:
    deep = "<div>" * repeat + markup + "</div>" * repeat
    assert _TAGS.sub("", flatten(deep)).replace("x<div>", "x") == _TAGS.sub("", deep).replace(
        "x<div>", "x"
    )


def test_a_flattened_bomb_parses_within_the_parser_limit() -> None:
    from lxml import etree

    parser = etree.HTMLParser(recover=True)  # no huge_tree: libxml2 stops at depth 256
    markup = f"<html><body>{'<div>' * 5000}x<p id='after'>after</p></body></html>"
    root = parse_markup(markup, parser)
    assert root is not None and root.xpath("string(//p[@id='after'])") == "after"


def test_deep_markup_in_a_text_keeps_its_end() -> None:
    assert html_to_text(f"<p>a</p>{nested_html(10_000)}<p>end</p>").endswith("end")
