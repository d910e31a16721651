"""Days for clocks: the stamps of a list of posts → aware published times.

A post that prints a clock alone ("21:22", "12.31 Uhr") takes its day from the date headings
of the stream ("Dienstag, 27. August 2024"): the heading above it when the stream opens with
one, else the heading below it (some tickers close each day with its date). Without headings
the newest post takes the page's day, and walking from it to older posts, a clock that jumps
forward by more than an hour means the day before. A match minute ("95'") counts from the
kick-off the page prints beside its date ("27/09/2020 … 17h00"), else from the declared
coverage start; without either it has no time (an invented one would change every poll).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from lxml import etree

from crawler.dates import has_clock, parse_date_only, stamp_parts, zone
from crawler.extract.read import Reading
from crawler.extract.stamps import stamp_texts, text_length, text_of

_DAY_HEADINGS = ("h2", "h3", "h4", "h5", "h6")  # h1: the page title
_SLACK = timedelta(hours=1)
_YEAR_RE = re.compile(r"\d{4}")


def date_headings(
    region: etree._Element, posts: set[etree._Element]
) -> list[tuple[etree._Element, date]]:
    """(heading, day) of the headings in `region` that are a date alone and lie in no post."""
    found = []
    for el in region.iterdescendants(*_DAY_HEADINGS):  # no XPath union: quadratic in libxml2
        if el in posts or text_length(el) > 50:
            continue
        text = text_of(el)
        if not _YEAR_RE.search(text) or has_clock(text):
            continue
        if any(a in posts for a in el.iterancestors()):
            continue
        day = parse_date_only(text)
        if day is not None:
            found.append((el, day))
    return found


def kickoff(root: etree._Element, day: date, tz: str) -> datetime | None:
    """The start time printed beside the page's date ("DATE : 27/09/2020 Horaires : 17h00")."""
    texts = [text for _, text in stamp_texts(root)]
    for i, text in enumerate(texts):
        if parse_date_only(text) != day:
            continue
        for near in texts[i : i + 3]:
            _, clock = stamp_parts(near, day.year)
            if clock is not None:
                return datetime.combine(day, clock, tzinfo=zone(tz))
    return None


def _heading_day(position: int, headings: Sequence[tuple[int, date]], above: bool) -> date | None:
    if above:
        before = [d for p, d in headings if p < position]
        return before[-1] if before else None
    after = [d for p, d in headings if p > position]
    return after[0] if after else None


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _newest_first(readings: Sequence[Reading], tz: str) -> bool:
    """True when the clocks mostly go down the page (the newest post on top)."""
    clocks = []
    for r in readings:
        if r.stamp.at is not None:
            clocks.append(_minutes(r.stamp.at.astimezone(zone(tz)).time()))
        elif r.stamp.clock is not None:
            clocks.append(_minutes(r.stamp.clock))
        elif r.stamp.minute is not None:
            clocks.append(r.stamp.minute)
    down = sum(1 for a, b in pairwise(clocks) if b < a)
    up = sum(1 for a, b in pairwise(clocks) if b > a)
    return down >= up


def resolve(
    readings: Sequence[Reading],
    *,
    day: date,
    tz: str,
    now: datetime,
    positions: dict[etree._Element, int] | None = None,
    headings: Sequence[tuple[int, date]] = (),
    start: datetime | None = None,
) -> None:
    """Set `published_at` of every reading from its stamp (see the module docstring)."""
    positions = positions or {}
    first = min((positions.get(r.element, 0) for r in readings), default=0)
    above = bool(headings) and headings[0][0] < first
    floating: list[Reading] = []
    for r in readings:
        s = r.stamp
        if s.at is not None:
            r.post.published_at = s.at
        elif s.clock is not None:
            given = s.day or _heading_day(positions.get(r.element, 0), headings, above)
            if given is None:
                floating.append(r)
            else:
                r.post.published_at = datetime.combine(given, s.clock, tzinfo=s.offset or zone(tz))
        elif s.minute is not None and start is not None:
            r.post.published_at = start + timedelta(minutes=s.minute)
    order = floating if _newest_first(readings, tz) else floating[::-1]
    shift, previous = 0, None
    for r in order:
        clock = r.stamp.clock
        assert clock is not None
        if previous is not None and _minutes(clock) > previous + 60:
            shift -= 1  # going back in time, the clock went forward: the day before
        previous = _minutes(clock)
        when = datetime.combine(
            day + timedelta(days=shift), clock, tzinfo=r.stamp.offset or zone(tz)
        )
        if when > now + _SLACK:  # a clock later than now belongs to the day before
            when -= timedelta(days=1)
        r.post.published_at = when
