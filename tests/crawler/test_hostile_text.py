"""Control and escape characters: none reaches what the crawler hands on (headline, body, url,
keys, warnings, errors, validators), wherever the page hides them (HTML text, attributes,
JSON-LD escapes, feeds); zero-width and bidi characters are content and stay."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.documents import extract_document
from crawler.models import CrawlResult, PageExtraction, RawPost, SourceSpec, Validators
from crawler.sanitize import clean_extraction, clean_result, clean_text, has_unsafe
from tests.hostile_input import (
    ANSI,
    BASE,
    C0,
    C1,
    LONE_SURROGATES,
    NON_CHARACTERS,
    ZERO_WIDTH_AND_BIDI,
    feed,
    item,
    jsonld_page,
    kept_in_order,
    page,
    post_html,
    sprinkled,
    unsafe_characters,
    update,
    without_unsafe,
)

NOW = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)
HEADLINE, BODY = "Titre du direct", "Le texte de la mise à jour, une phrase."
CLASSES = {
    "C0": C0,
    "DEL": ["\x7f"],
    "C1": C1,
    "non-characters": NON_CHARACTERS,
    "ANSI escapes": ANSI,
    "mixed": ["\x00", "\x1b[31m", "\x85", "\ufffe", "\x7f", "\r", "\r\n"],
}


def extract(body: bytes, kind: str = "liveblog") -> PageExtraction:
    source = SourceSpec(name="s", url=BASE, kind=kind, timezone="Europe/Paris")
    return extract_document(body, BASE, source, now=NOW)


def assert_clean(found: PageExtraction) -> None:
    for post in found.posts:
        for text in (post.headline, post.body, post.url or "", post.key or "", *post.alt_keys):
            assert without_unsafe(text), repr(text)
    for warning in found.warnings:
        assert without_unsafe(warning), repr(warning)


# --- the function -----------------------------------------------------------------------------


@pytest.mark.parametrize("char", unsafe_characters(), ids=lambda c: f"U+{ord(c):04X}")
def test_every_unsafe_character_is_removed(char: str) -> None:
    assert clean_text(f"a{char}b{char}") == "ab"


def test_newline_and_tab_stay_and_carriage_returns_become_newlines() -> None:
    assert clean_text("a\tb\nc\r\nd\re") == "a\tb\nc\nd\ne"


@pytest.mark.parametrize("char", ZERO_WIDTH_AND_BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_zero_width_and_bidi_characters_are_content(char: str) -> None:
    assert clean_text(f"a{char}b") == f"a{char}b"


def test_an_ansi_sequence_loses_its_escape() -> None:
    assert clean_text("\x1b[31mrouge\x1b[0m") == "[31mrouge[0m"


@given(st.text())
@settings(deadline=None)  # timings vary on a shared machine
def test_cleaning_removes_exactly_the_unsafe_characters(text: str) -> None:
    cleaned = clean_text(text)
    assert not has_unsafe(cleaned)
    assert clean_text(cleaned) == cleaned
    expected = [c for c in text.replace("\r\n", "\n").replace("\r", "\n") if without_unsafe(c)]
    assert cleaned == "".join(expected)


@pytest.mark.parametrize("bad", ["\U0001fffe", "\U0010ffff", "\x00", "\ud800", "\ufdd0"])
@pytest.mark.parametrize("around", ["", "déjà ", "\U0001f600 ", "a\u00a0b\u202f"])
def test_an_unsafe_character_goes_beside_any_other_text(bad: str, around: str) -> None:
    # the cleaning looks at a text past the BMP (an emoji) apart from one within it
    assert clean_text(f"{around}x{bad}y{around}") == f"{around}xy{around}"
    assert has_unsafe(f"{around}{bad}")
    assert not has_unsafe(f"{around}xy")


# --- where pages hide them --------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_html_text_and_attributes_come_out_clean(name: str) -> None:
    bad = CLASSES[name]
    posts = [
        post_html(i, sprinkled(f"{HEADLINE} {i}", bad, i), sprinkled(BODY, bad, i + 7))
        for i in range(3)
    ]
    posts[0] = posts[0].replace('id="post-0"', f'id="post{"".join(bad)}-0"')
    found = extract(page(posts).encode("utf-8"))
    assert len(found.posts) == 3
    assert_clean(found)
    for i, post in enumerate(found.posts):
        assert kept_in_order(f"{HEADLINE} {i}", post.headline)
        assert kept_in_order(BODY, post.body)


@pytest.mark.parametrize("name", [*CLASSES, "lone surrogates"])
def test_jsonld_escapes_come_out_clean(name: str) -> None:
    bad = CLASSES.get(name, LONE_SURROGATES)
    updates = [
        update(
            i,
            headline=sprinkled(f"{HEADLINE} {i}", bad, i),
            articleBody=sprinkled(f"<p>{BODY}</p><p>{BODY}</p>", bad, i),
            url=f"{BASE}#post-{i}{''.join(bad[:2])}",
        )
        for i in range(3)
    ]
    doc = jsonld_page(updates)  # json.dumps writes C0 controls as \u escapes
    for char in LONE_SURROGATES:  # and surrogates as themselves: the page escapes them
        doc = doc.replace(char, f"\\u{ord(char):04x}")
    found = extract(doc.encode("utf-8"))
    assert len(found.posts) == 3
    assert_clean(found)
    assert all(kept_in_order(BODY * 2, p.body) for p in found.posts)


def test_a_jsonld_nul_escape_does_not_cost_the_post() -> None:
    updates = [update(i, articleBody=f"<p>avant\u0000après {i}</p>") for i in range(2)]
    found = extract(jsonld_page(updates).encode())
    assert [p.body for p in found.posts] == ["avantaprès 0", "avantaprès 1"]


@pytest.mark.parametrize("name", CLASSES)
def test_feeds_come_out_clean(name: str) -> None:
    bad = [c for c in CLASSES[name] if c not in "\r\n"]
    items = [item(i).replace(f"Entrée {i}", sprinkled(f"Entrée {i}", bad, i)) for i in range(3)] + [
        item(3).replace("Le texte", "Le <![CDATA[" + "".join(bad) + "]]> texte")
    ]
    found = extract(feed(items).encode("utf-8"), kind="feed")
    assert_clean(found)  # the XML is not well-formed: whatever feedparser kept is clean


def test_invalid_utf8_bytes_come_out_clean() -> None:
    html = page([post_html(i, f"Titre {i}", f"Texte {i} assez long du direct.") for i in range(3)])
    raw = (
        html.encode()
        .replace(b"Titre 1", b"Titre \xff\xfe\xc0\x80 1")
        .replace(
            b"Texte 2",
            b"Texte \xed\xa0\x80 2",  # an encoded surrogate
        )
    )
    found = extract(raw)
    assert len(found.posts) == 3
    assert_clean(found)


# --- the edge itself ---------------------------------------------------------------------------


def test_the_edge_cleans_every_field_and_warning() -> None:
    dirty = "".join(unsafe_characters())
    post = RawPost(
        headline=f"T{dirty}",
        body=f"B{dirty}",
        url=f"http://news.example/a{dirty}",
        key=f"k{dirty}",
        alt_keys=(f"a{dirty}", dirty),
    )
    found = PageExtraction(posts=[post], warnings=[f"w{dirty}", f"w{dirty}"])
    clean_extraction(found, BASE, now=NOW, feed=False)
    assert (post.headline, post.body, post.key, post.alt_keys) == ("T", "B", "k", ("a",))
    assert post.url == "http://news.example/a"
    assert found.warnings == ["w"]


def test_crawl_results_are_cleaned() -> None:
    result = CrawlResult(
        source="s",
        url=BASE,
        error="feed: not a feed: \x00\x1b[2Jjunk\nline",
        warnings=["a\x00", "a", "b\x9b"],
        validators={
            BASE: Validators('"abc"', "Tue, 06 Jan 2026 19:08:00 GMT"),
            f"{BASE}/nul": Validators('"a\x00b"', None),
            f"{BASE}/newline": Validators("x", "Tue\r\nSet-Cookie: a=b"),
        },
    )
    clean_result(result)
    assert result.error == "feed: not a feed: [2Jjunk line"
    assert result.warnings == ["a", "b"]
    assert result.validators == {
        BASE: Validators('"abc"', "Tue, 06 Jan 2026 19:08:00 GMT"),
        f"{BASE}/newline": Validators("x", None),
    }


def test_a_post_made_only_of_unsafe_characters_is_dropped() -> None:
    posts = [RawPost(headline="\x00\x01", body="\x7f"), RawPost(headline="ok", body="")]
    found = clean_extraction(PageExtraction(posts=posts), BASE, now=NOW, feed=False)
    assert [p.headline for p in found.posts] == ["ok"]


def test_json_dumps_escapes_are_what_the_page_sends() -> None:
    assert "\\u0000" in json.dumps({"a": "\x00"})  # the JSON-LD cases above hide real escapes


@pytest.mark.parametrize("char", ZERO_WIDTH_AND_BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_zero_width_and_bidi_characters_break_nothing(char: str) -> None:
    """Anywhere: text, ids, dates, links. Bidi controls stay in the text; zero-width spaces
    are what the text normalisation already drops (crawler.text)."""
    posts = [
        post_html(i, f"Titre{char} {i}", f"Le{char} texte numéro {i}, une phrase entière.")
        .replace(f'id="post-{i}"', f'id="post{char}-{i}"')
        .replace("2026-01-06T20:08", f"2026-01-06{char}T20:08")
        for i in range(3)
    ]
    head = f'<link rel="next" href="?page=2{char}">'
    found = extract(page(posts, head=head).encode("utf-8"))
    assert len(found.posts) == 3
    assert_clean(found)
    if char in "\u202e\u2066\u2069\u061c":
        assert all(char in p.headline and char in p.body for p in found.posts)
