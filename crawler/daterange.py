"""Which dates the crawler believes: the windows a time must fall in, and the record of the
dates refused on the way.

A date is refused, never repaired or guessed: the post keeps `published_at = None` and the
crawl result's warnings say so. Two windows:

- when text is parsed (`dates.parse_datetime`): what no page can mean. Fields out of range
  (month 13, 31 February, hour 25), offsets beyond ±14:00 (the widest real UTC offset), years
  outside 1900–2199 (which also keeps every later date arithmetic clear of Python's limits),
  bare numbers that are no epoch of 1973–2199 (seconds, or milliseconds: "12", "-1" and
  "2026" are no dates), NaN and infinity;
- at the crawler's output edge (`sanitize.clean_extraction`), against the fetch time: a post
  time more than FUTURE_SLACK (2 days) after the fetch is refused; on a live-blog page so is
  one before 1990 (no live blog is older: earlier dates are CMS placeholders, such as the
  epoch 1970-01-01). Feeds keep older dates (an archive's entries can be old), except the
  exact epoch zero, the placeholder of an unset date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

FIRST_YEAR, LAST_YEAR = 1900, 2199
MAX_OFFSET = timedelta(hours=14)
FUTURE_SLACK = timedelta(days=2)
EARLIEST_LIVE = datetime(1990, 1, 1, tzinfo=UTC)
EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)
_SAMPLE = 40  # characters of a refused text quoted in the warning


class Refused(NamedTuple):
    """A date the parser recognised and refused, and why."""

    reason: str


_NUMBER_RE = re.compile(  # no `\d+\.?\d*`: its two runs of digits backtrack quadratically
    r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$|^[+-]?(?:nan|inf|infinity)$", re.I
)
_BIG_YEAR_RE = re.compile(r"^(?:[+-]\d{4,}|\d{5,})-\d{1,2}-\d{1,2}(?!\d)")  # ISO, year ≥ 10000


def bare_number(text: str) -> datetime | Refused | None:
    """A text that is a bare number: its epoch (seconds, or milliseconds when too large for
    seconds) from 1973 (1e8 s) to 2199, else Refused ("12", "-1", "2026", "1e20", "nan"). An
    ISO date of a five-digit or negative year is Refused. None for any other text."""
    if _BIG_YEAR_RE.match(text):
        return Refused("a year beyond 9999 or before 0")
    if not _NUMBER_RE.match(text):
        return None
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        return Refused("not a number")
    seconds = value / 1000 if abs(value) >= 1e11 else value
    if not 1e8 <= seconds < 7258118400:
        return Refused("a number that is no epoch of 1973–2199")
    return datetime.fromtimestamp(seconds, UTC)


_refused: ContextVar[list[tuple[str, str]] | None] = ContextVar("refused_dates", default=None)


def parse_refusal(when: datetime) -> Refused | None:
    """Why a parsed time is refused whatever the page (see the module docstring), or None."""
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        return Refused(f"year {when.year} outside {FIRST_YEAR}–{LAST_YEAR}")
    offset = when.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return Refused("UTC offset beyond ±14:00")
    return None


def day_refusal(day: date) -> Refused | None:
    """Why a calendar date is refused whatever the page, or None."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return Refused(f"year {day.year} outside {FIRST_YEAR}–{LAST_YEAR}")
    return None


def edge_refusal(when: datetime, now: datetime, *, feed: bool) -> str | None:
    """Why a post time is refused against the fetch time `now`, or None when believed."""
    if parse_refusal(when) is not None:  # built elsewhere than the parser (feedparser's structs)
        return "outside the years vigie reads"
    if when > now + FUTURE_SLACK:
        return "more than 2 days after the fetch"
    if feed:
        return "the epoch zero (an unset date)" if when == EPOCH_ZERO else None
    return "before 1990 on a live-blog page" if when < EARLIEST_LIVE else None


def record(text: str, refused: Refused) -> None:
    """Note a refused date for the extraction being run (no-op outside `collecting`)."""
    found = _refused.get()
    if found is not None:
        found.append((text, refused.reason))


@contextmanager
def collecting() -> Iterator[list[tuple[str, str]]]:
    """Collect (text, reason) of the dates refused while the block runs."""
    found: list[tuple[str, str]] = []
    token = _refused.set(found)
    try:
        yield found
    finally:
        _refused.reset(token)


def summary(refused: list[tuple[str, str]], what: str = "date(s)") -> str | None:
    """One warning for the refused dates of a document, quoting the first."""
    unique = dict(refused)  # a text read twice (a post and the page's dates) counts once
    if not unique:
        return None
    text, reason = next(iter(unique.items()))
    sample = text if len(text) <= _SAMPLE else text[:_SAMPLE] + "…"
    return f"dates: refused {len(unique)} {what} (first {sample!r}: {reason}); left empty"
