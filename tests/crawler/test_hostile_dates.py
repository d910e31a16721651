"""Dates no page can mean: fields out of range, offsets beyond ±14:00, unreadable years,
numbers that are no epoch, NaN, non-string JSON values, far-future and placeholder times.
Each is refused, never guessed (no exception, no invented date): the post keeps
`published_at = None` and the document's warnings say so."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler import daterange
from crawler.dates import MAX_DATE_TEXT, parse_date_only, parse_datetime, stamp_parts
from crawler.documents import extract_document
from crawler.models import PageExtraction, SourceSpec
from tests.hostile_input import (
    BASE,
    bad_numbers,
    far_future,
    feed,
    impossible_free_dates,
    impossible_iso_dates,
    item,
    jsonld_page,
    non_string_dates,
    page,
    placeholder_past,
    post_html,
    unreadable_years,
    update,
)

NOW = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)
JAN6 = date(2026, 1, 6)
PARIS = "Europe/Paris"
NEVER_A_DATE = impossible_iso_dates() + unreadable_years() + impossible_free_dates()


def extract(body: str, kind: str = "liveblog") -> PageExtraction:
    source = SourceSpec(name="s", url=BASE, kind=kind, timezone=PARIS)
    return extract_document(body.encode("utf-8"), BASE, source, now=NOW)


def readable(when: datetime | None) -> bool:
    if when is None:
        return True
    offset = when.utcoffset()
    return 1900 <= when.year <= 2199 and offset is not None and abs(offset) <= timedelta(hours=14)


@pytest.mark.parametrize("text", NEVER_A_DATE, ids=repr)
@pytest.mark.parametrize("default", [None, JAN6])
def test_impossible_dates_are_refused_and_noted(text: str, default: date | None) -> None:
    with daterange.collecting() as refused:
        assert parse_datetime(text, PARIS, default_date=default) is None
    assert refused and refused[0][0] == text


@pytest.mark.parametrize("text", [str(n) for n in bad_numbers()], ids=repr)
def test_numbers_that_are_no_epoch_are_no_date(text: str) -> None:
    assert parse_datetime(text, PARIS, default_date=JAN6) is None  # not "the 12th this month"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29T12:00:00+14:00", datetime(2024, 2, 28, 22, 0, tzinfo=UTC)),
        ("2026-01-06T20:08:00-12:00", datetime(2026, 1, 7, 8, 8, tzinfo=UTC)),
        ("1767726480", datetime(2026, 1, 6, 19, 8, tzinfo=UTC)),
        ("1767726480000", datetime(2026, 1, 6, 19, 8, tzinfo=UTC)),
        ("1767726480.5", datetime(2026, 1, 6, 19, 8, 0, 500000, tzinfo=UTC)),
        ("1900-01-01T00:00:00Z", datetime(1900, 1, 1, tzinfo=UTC)),
        ("2199-12-31T23:00:00Z", datetime(2199, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_the_edges_of_what_is_read_are_still_read(text: str, expected: datetime) -> None:
    assert parse_datetime(text, PARIS) == expected


@pytest.mark.parametrize("text", ["31.02.2026 20:08", "31 février 2026 à 20h08", "32/01/2026 8:00"])
def test_a_stamp_with_an_impossible_date_gives_no_clock(text: str) -> None:
    day, clock = stamp_parts(text, 2026)
    assert isinstance(day, daterange.Refused) and clock is None


def test_date_only_texts_outside_the_years_are_none() -> None:
    assert parse_date_only("Direct du 6 janvier 0005") is None
    assert parse_date_only("Live 31/02/2026") is None
    assert parse_date_only("x" * 100_000 + " 6 janvier 2026") is None  # past the text read


def test_only_the_start_of_a_long_text_is_read() -> None:
    assert parse_datetime("2026-01-06 " + "x" * 10_000, PARIS) is not None
    assert parse_datetime("x" * MAX_DATE_TEXT + " 6 janvier 2026 20:08", PARIS) is None


@given(st.text(max_size=80), st.sampled_from([None, JAN6]))
@settings(deadline=None)  # dateparser's first import takes seconds
def test_any_text_gives_a_readable_date_or_none(text: str, default: date | None) -> None:
    assert readable(parse_datetime(text, PARIS, default_date=default))


@given(
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}\Z")
)
@settings(deadline=None)  # dateparser's first import takes seconds
def test_an_iso_date_is_read_as_written_or_refused(text: str) -> None:
    found = parse_datetime(text, PARIS)
    if found is not None:  # never "corrected" into another day
        assert found.strftime("%Y-%m-%dT%H:%M:%S") == text[:19]
        assert readable(found)


# --- in documents ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", NEVER_A_DATE + bad_numbers(), ids=repr)
def test_a_jsonld_date_that_is_no_date_leaves_the_post_undated(value: str) -> None:
    updates = [update(0), update(1, datePublished=value, dateModified=value), update(2)]
    found = extract(jsonld_page(updates))
    assert [p.headline for p in found.posts] == [u["headline"] for u in updates]
    assert found.posts[1].published_at is None and found.posts[1].updated_at is None
    assert found.posts[0].published_at is not None


@pytest.mark.parametrize("value", non_string_dates(), ids=repr)
def test_jsonld_dates_of_any_json_type_are_read_or_left_empty(value: object) -> None:
    updates = [update(0), update(1, datePublished=value), update(2)]
    found = extract(jsonld_page(updates))
    assert len(found.posts) == 3
    assert readable(found.posts[1].published_at)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_json_nan_and_infinity_as_dates(literal: str) -> None:
    updates = [update(0), update(1, datePublished="@X@"), update(2)]
    found = extract(jsonld_page(updates).replace('"@X@"', literal))
    assert len(found.posts) == 3
    assert found.posts[1].published_at is None
    assert any(w.startswith("dates: refused") for w in found.warnings)


@pytest.mark.parametrize("value", far_future(NOW), ids=repr)
def test_post_times_far_after_the_fetch_are_refused(value: str) -> None:
    for body, kind in (
        (jsonld_page([update(0), update(1, datePublished=value), update(2)]), "liveblog"),
        (feed([item(0), item(1, pub=value), item(2)]), "feed"),
    ):
        found = extract(body, kind)
        assert len(found.posts) == 3
        assert found.posts[1].published_at is None, (kind, value)
        # on a page, the page's own dates refuse it first (far off them: extract/days.py)
        told = ("2 days after the fetch", "far off the page's own dates")
        assert any(t in w for w in found.warnings for t in told), (kind, found.warnings)


def test_a_time_just_after_the_fetch_is_kept() -> None:
    """A server's clock may run ahead: a page keeps a time within 2 hours of the fetch (its
    own window, docs/extraction.md), a feed within the edge's 2 days."""
    soon = NOW + timedelta(hours=1)
    found = extract(jsonld_page([update(0, datePublished=soon.isoformat()), update(1)]))
    assert found.posts[0].published_at == soon
    later = NOW + timedelta(hours=30)
    pub = later.strftime("%a, %d %b %Y %H:%M:%S +0000")
    found = extract(feed([item(0, pub=pub), item(1)]), "feed")
    assert found.posts[0].published_at == later


@pytest.mark.parametrize("value", placeholder_past(), ids=repr)
def test_placeholder_times_are_refused_on_pages(value: str) -> None:
    found = extract(jsonld_page([update(0), update(1, datePublished=value), update(2)]))
    assert found.posts[1].published_at is None
    assert any(w.startswith("dates:") for w in found.warnings)


def test_feeds_keep_old_dates_but_not_the_epoch_zero() -> None:
    old = "Sat, 01 Jan 1949 10:00:00 GMT"
    zero = "Thu, 01 Jan 1970 00:00:00 GMT"
    found = extract(feed([item(0, pub=old), item(1, pub=zero), item(2)]), "feed")
    assert found.posts[0].published_at == datetime(1949, 1, 1, 10, tzinfo=UTC)
    assert found.posts[1].published_at is None


@pytest.mark.parametrize("value", NEVER_A_DATE + bad_numbers() + placeholder_past(), ids=repr)
def test_html_stamps_and_epoch_attributes_that_are_no_date(value: str) -> None:
    posts = [post_html(i, f"Titre {i}", f"Le texte numéro {i} du direct.") for i in range(3)]
    posts[1] = (
        f'<article class="post" id="post-1" data-post-time="{value}"><time datetime="{value}">'
        f"{value}</time><h2>Titre 1</h2><p>Le texte numéro 1 du direct.</p></article>"
    )
    found = extract(page(posts))
    assert [p.headline for p in found.posts] == ["Titre 0", "Titre 1", "Titre 2"]
    assert found.posts[1].published_at is None, found.posts[1].published_at


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1899-01-01"])
def test_a_placeholder_coverage_end_ends_nothing(value: str) -> None:
    body = jsonld_page([update(0), update(1)]).replace(
        '"coverageStartTime"', f'"coverageEndTime": {json.dumps(value)}, "coverageStartTime"'
    )
    found = extract(body)
    assert found.ended is False
    assert len(found.posts) == 2


def test_a_feed_of_absurd_struct_times_has_no_dates() -> None:
    items = [item(i, pub=p) for i, p in enumerate(["Fri, 31 Dec 9999 23:59:59 GMT", "junk"])]
    found = extract(feed(items), "feed")
    assert [p.published_at for p in found.posts] == [None, None]
