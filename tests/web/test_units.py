"""The pure parts of the pages: which Accept headers get a page, search marks, times,
titles, links, bars, and the word lists of both languages."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigie.web.format import bars, duration, first_words, http_link, shown_time, title, utc
from vigie.web.highlight import Marker
from vigie.web.i18n import MESSAGES, pick_language, plural_forms, translator
from vigie.web.negotiate import MAX_ACCEPT, prefers_html, wants_html

BROWSERS = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Firefox
    "application/xhtml+xml",
    "TEXT/HTML",
    "text/html;q=0.5, application/json;q=0.5",  # a tie goes to the page
)
API_CLIENTS = (
    "",
    "*/*",
    "application/json",
    "application/json, text/html;q=0.9",
    "text/event-stream",
    "text/html;q=0",  # refused
    "text/html;q=abc",  # unreadable quality: not a wish
    "text/html;q=7",  # out of range
    "text/plain, text/*",
    ";;;,,,",
    "x" * 10_000,
)


@pytest.mark.parametrize("accept", BROWSERS)
def test_browsers_get_pages(accept: str) -> None:
    assert prefers_html(accept)


@pytest.mark.parametrize("accept", API_CLIENTS)
def test_everyone_else_gets_json(accept: str) -> None:
    assert not prefers_html(accept)


def test_a_wish_beyond_what_is_read_is_not_read() -> None:
    assert not prefers_html("x" * MAX_ACCEPT + ",text/html")


@given(st.text(max_size=300))
def test_any_accept_header_is_answered(accept: str) -> None:
    assert prefers_html(accept) in (True, False)


def scope(query: bytes, accept: bytes | None) -> dict[str, object]:
    headers = [(b"accept", accept)] if accept is not None else []
    return {"type": "http", "query_string": query, "headers": headers}


def test_format_forces_a_choice_and_is_decided_once() -> None:
    assert not wants_html(scope(b"format=json", b"text/html"))
    assert wants_html(scope(b"format=html", b"application/json"))
    assert wants_html(scope(b"format=xml", b"text/html"))  # unknown: the header decides
    assert not wants_html(scope(b"format=%FF%FE", None))
    decided = scope(b"", b"text/html")
    assert wants_html(decided)
    decided["headers"] = []
    assert wants_html(decided)  # kept in the scope


# --- search marks --------------------------------------------------------------------------


def marked(query: str, text: str) -> list[str]:
    return [t for t, hit in Marker(query).pieces(text) if hit]


def test_marks_fold_accents_case_and_ligatures() -> None:
    text = "L’Élysée a réuni la CELLULE DE CRISE ; le cœur de la tempête."
    assert marked("elysee", text) == ["Élysée"]
    assert marked('"cellule de crise"', text) == ["CELLULE DE CRISE"]
    assert marked("coeur TEMPETE", text) == ["cœur", "tempête"]
    assert marked("-elysee crise", text) == ["CRISE"]  # exclusions are not marked
    assert marked('"crise de cellule"', text) == []  # a phrase is in order
    assert marked("", text) == [] and marked('"" -', text) == []


def test_pieces_put_the_text_back_together() -> None:
    for query in ("tempête", '"la tempête"', "a b c", "zzz"):
        text = "La tempête, la tempête ! Tempêtes et tempête."
        assert "".join(t for t, _ in Marker(query).pieces(text)) == text


def test_a_snippet_is_around_the_first_match() -> None:
    body = " ".join(f"mot{i}" for i in range(2000)) + " Ysolde " + "fin " * 100
    pieces = Marker("ysolde").snippet(body, width=120)
    text = "".join(t for t, _ in pieces)
    assert [t for t, hit in pieces if hit] == ["Ysolde"]
    assert text.startswith("… ") and text.endswith(" …") and len(text) < 140
    assert "".join(t for t, _ in Marker("absent").snippet("court")) == "court"


@given(st.text(max_size=200), st.text(alphabet=string.ascii_letters + ' "-é', max_size=30))
def test_marks_of_any_text_and_query(text: str, query: str) -> None:
    marker = Marker(query)
    assert "".join(t for t, _ in marker.pieces(text)) == text
    assert isinstance(marker.snippet(text), list)


# --- formats -------------------------------------------------------------------------------


def test_times() -> None:
    when = datetime(2026, 2, 10, 7, 10, tzinfo=UTC)
    assert utc(when) == "2026-02-10T07:10:00Z" and utc("2026-02-10T08:10:00+01:00") == utc(when)
    assert shown_time(when, "Europe/Paris") == "2026-02-10 08:10 CET"
    assert shown_time(when, "Not/AZone") == "2026-02-10 07:10 UTC"
    assert utc(None) == shown_time(None) == ""
    assert [duration(s) for s in (None, 30, 120, 5400, 86400 * 3)] == [
        "",
        "30 s",
        "2 min",
        "1 h 30 min",
        "3 d",
    ]


def test_titles_and_links() -> None:
    assert title({"headline": "  Un   titre\n", "body": "x"}) == "Un titre"
    assert title({"headline": "", "body": "mot " * 100}).endswith("…")
    assert len(first_words("a" * 500)) == 121
    assert http_link("https://news.example/a") == "https://news.example/a"
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "//host/x",
        "http://",
        None,
        "http://[::1",
    ):
        assert http_link(bad) is None, bad


def test_bars_scale_to_the_busiest_hour() -> None:
    shown = bars([0, 1, 10])
    assert [b["height"] for b in shown] == [0.0, 4.0, 40.0]
    assert bars([]) == [] and all(b["height"] == 0 for b in bars([0] * 24))


# --- languages -----------------------------------------------------------------------------


def test_both_languages_have_every_message_with_the_same_fields() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])
    for key, english in MESSAGES["en"].items():
        french = MESSAGES["fr"][key]
        assert type(english) is type(french), key
        fields = re.compile(r"{(\w+)}")
        assert set(fields.findall(str(english))) == set(fields.findall(str(french))), key
    assert plural_forms("fr", "live.new")[1] == "{n} nouvelles mises à jour"
    assert translator("fr")("row.edited", n=3) == "modifié 3×"


def test_which_language_a_reader_gets() -> None:
    assert pick_language({}, {}, "") == "en"
    assert pick_language({}, {}, "fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert pick_language({}, {}, "de, fr;q=0.5, en;q=0.9") == "en"
    assert pick_language({}, {"vigie_lang": "fr"}, "en") == "fr"
    assert pick_language({"lang": "en"}, {"vigie_lang": "fr"}, "fr") == "en"
    assert pick_language({"lang": "xx"}, {"vigie_lang": "zz"}, "q=;;") == "en"
