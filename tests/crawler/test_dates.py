"""crawler.dates: what pages print → aware datetimes, in the source's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from crawler.dates import parse_date_only, parse_datetime, to_utc

PARIS = "Europe/Paris"
JAN6 = date(2026, 1, 6)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "tz", "default", "expected"),
    [
        # the seed's own shapes (TF1 live, Paris, winter time)
        ("20:08 6 janvier 2026", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("20:08\n6 janvier 2026", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("00:00 7 janvier 2026", PARIS, None, utc(2026, 1, 6, 23, 0)),
        ("6 janvier 2026 à 20h08", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("Publié le 5 janvier 2026 à 18h36", PARIS, None, utc(2026, 1, 5, 17, 36)),
        ("20h08", PARIS, JAN6, utc(2026, 1, 6, 19, 8)),
        ("à 20h", PARIS, JAN6, utc(2026, 1, 6, 19, 0)),
        ("1er janvier", PARIS, JAN6, utc(2025, 12, 31, 23, 0)),
        ("mardi 6 janvier 2026", PARIS, None, utc(2026, 1, 5, 23, 0)),
        ("6 févr. 2026 14:00", PARIS, None, utc(2026, 2, 6, 13, 0)),
        ("Mis à jour le 06/01/2026 à 20:10", PARIS, None, utc(2026, 1, 6, 19, 10)),
        # English
        ("January 6, 2026 8:08 PM", "UTC", None, utc(2026, 1, 6, 20, 8)),
        ("Jan 6th, 2026 at 8:08 a.m.", "UTC", None, utc(2026, 1, 6, 8, 8)),
        ("6 Jan 2026 20:08", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("8 pm", "UTC", JAN6, utc(2026, 1, 6, 20, 0)),
        ("12.50 BST", "UTC", date(2023, 5, 15), utc(2023, 5, 15, 11, 50)),
        ("19:02(IST)", "UTC", date(2020, 10, 2), utc(2020, 10, 2, 13, 32)),
        # German (summer time in Berlin: +02:00)
        ("12.31 Uhr", "Europe/Berlin", date(2024, 8, 27), utc(2024, 8, 27, 10, 31)),
        ("Dienstag, 27. August 2024", "Europe/Berlin", None, utc(2024, 8, 26, 22, 0)),
        ("27.08.2024 12:31", "Europe/Berlin", None, utc(2024, 8, 27, 10, 31)),
        ("27. März 2024, 09:15 Uhr", "Europe/Berlin", None, utc(2024, 3, 27, 8, 15)),
        # machine formats
        ("2026-01-06T20:08:00+01:00", "UTC", None, utc(2026, 1, 6, 19, 8)),
        ("2026-01-06T19:08:00Z", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("2026-01-06T20:08:00", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("2026-01-06 20:08", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("2026-01-06", PARIS, None, utc(2026, 1, 5, 23, 0)),
        ("2023-05-15T11:50:54+0000", "UTC", None, utc(2023, 5, 15, 11, 50, 54)),
        ("2023-08-14T09:01:52.000Z", "UTC", None, utc(2023, 8, 14, 9, 1, 52)),
        ("Tue, 06 Jan 2026 19:08:00 GMT", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("Tue, 06 Jan 2026 20:08:00 +0100", "UTC", None, utc(2026, 1, 6, 19, 8)),
        ("Tue, 06 Jan 2026 19:08:00 -0000", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("1767726480", PARIS, None, utc(2026, 1, 6, 19, 8)),
        ("1767726480000", PARIS, None, utc(2026, 1, 6, 19, 8)),
    ],
)
def test_parse_datetime(text: str, tz: str, default: date | None, expected: datetime) -> None:
    found = parse_datetime(text, tz, default_date=default)
    assert found is not None
    assert found.tzinfo is not None
    assert found == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "not a date", "2026-13-45", "32 janvier 2026", "25:61", "Minute par minute"],
)
def test_unparseable_is_none(text: str) -> None:
    assert parse_datetime(text, PARIS, default_date=JAN6) is None


def test_clock_without_a_day_is_none() -> None:
    assert parse_datetime("20:08", PARIS) is None
    assert parse_datetime(None) is None


def test_keeps_the_printed_offset() -> None:
    found = parse_datetime("2026-01-06T20:08:00+01:00")
    assert found is not None and found.utcoffset() == timedelta(hours=1)
    local = parse_datetime("20:08 6 janvier 2026", PARIS)
    assert local is not None and local.isoformat() == "2026-01-06T20:08:00+01:00"


def test_summer_time_follows_the_zone() -> None:
    assert parse_datetime("20:08 6 juillet 2026", PARIS) == utc(2026, 7, 6, 18, 8)


def test_fallback_handles_relative_dates() -> None:
    found = parse_datetime("il y a 5 minutes", PARIS, languages=["fr"])
    assert found is not None and found.tzinfo is not None
    assert abs(datetime.now(UTC) - found) < timedelta(minutes=10)


def test_results_are_cached() -> None:
    first = parse_datetime("20:08 6 janvier 2026", PARIS)
    assert parse_datetime("20:08 6 janvier 2026", PARIS) is first
    assert parse_datetime("20:08 6 janvier 2026", "UTC") != first


def test_unknown_timezone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        parse_datetime("20:08 6 janvier 2026", "Mars/Olympus")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EN DIRECT - Coalition des volontaires, 6 janvier 2026", JAN6),
        ("Mardi 6 janvier 2026", JAN6),
        ("https://www.theguardian.com/world/live/2023/may/15/russia-ukraine", date(2023, 5, 15)),
        ("https://example.org/2026/01/06/live", JAN6),
        ("/direct-ukraine-06-janvier-2026", JAN6),
        ("Nahost-Ticker vom 27.08.2024", date(2024, 8, 27)),
        ("Live: 1er janvier", None),
        ("Minute par minute", None),
        (None, None),
    ],
)
def test_parse_date_only(text: str | None, expected: date | None) -> None:
    assert parse_date_only(text) == expected


def test_to_utc() -> None:
    assert to_utc(datetime(2026, 1, 6, 19, 8)) == utc(2026, 1, 6, 19, 8)
    aware = datetime(2026, 1, 6, 20, 8, tzinfo=timezone(timedelta(hours=1)))
    assert to_utc(aware).tzinfo is UTC
    assert to_utc(aware) == utc(2026, 1, 6, 19, 8)
