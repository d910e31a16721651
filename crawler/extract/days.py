"""Days for clocks: the stamps of a list of posts → aware published times.

A post that prints a clock alone ("21:22", "12.31 Uhr") takes its day from the date headings
of the stream ("Dienstag, 27. August 2024"): the heading above it when the stream opens with
one, else the heading below it (some tickers close each day with its date). Day headings
come from the post stream itself: a heading beside the posts (or alone in a box beside the
list that holds them), or in a flat ticker a short line that is a date alone ("Montag, 26.
August") — never a promo, a teaser or a sidebar with an old date. Without headings the
newest post takes the page's day, and walking from it to older posts, a clock that jumps
forward by more than an hour means the day before. A match minute ("95'") counts from the
kick-off the page prints beside its date ("27/09/2020 … 17h00"), else from the declared
coverage start; without either it has no time (an invented one would change every poll).
A relative time ("5 min ago") counts back from the fetch and is marked approximate.

A time before the page's `earliest` (far before its own published date) or after `latest`
(after the fetch) is suspect: a clock that got it from a heading is dated again without
headings; any other is left without a time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from lxml import etree

from crawler.dates import has_clock, parse_date_only, stamp_parts, zone
from crawler.extract.boiler import date_line
from crawler.extract.read import Reading
from crawler.extract.stamps import stamp_texts, text_length, text_of
from crawler.text import is_chrome

_DAY_HEADINGS = ("h2", "h3", "h4", "h5", "h6")  # h1: the page title
_SLACK = timedelta(hours=1)
_YEAR_RE = re.compile(r"\d{4}")
_CLIMB = 4
_WRAPPER_SLACK = 10  # a box around a heading may add this much text ("Live", a dash)


def _in_stream(el: etree._Element, containers: set[etree._Element]) -> bool:
    """The element stands in the stream: its parent holds the posts (or is one of the few
    boxes around them), or it is wrapped alone in boxes that do; nothing on the way is chrome."""
    node, size = el, text_length(el)
    for _ in range(_CLIMB):
        if is_chrome(node):
            return False
        parent = node.getparent()
        if parent is None:
            return False
        if parent in containers:
            return True
        if text_length(parent) > size + _WRAPPER_SLACK:
            return False  # a box with more in it: a promo, a teaser, a card
        node = parent
    return False


def date_headings(
    region: etree._Element,
    posts: set[etree._Element],
    streams: Sequence[etree._Element] = (),
    year: int | None = None,
) -> list[tuple[etree._Element, date]]:
    """(heading, day) of the stream's date headings inside `region` (see the module docstring).

    `streams` are the elements that hold the posts; `year` dates a short line without a year
    that stands among them (a flat ticker's "Montag, 26. August")."""
    containers: set[etree._Element] = set()
    for stream in streams:
        node: etree._Element | None = stream
        for _ in range(_CLIMB):
            if node is None:
                break
            containers.add(node)
            if node is region:
                break
            node = node.getparent()
    found = []
    for el in region.iterdescendants(*_DAY_HEADINGS):  # no XPath union: quadratic in libxml2
        if el in posts or text_length(el) > 50:
            continue
        text = text_of(el)
        if not _YEAR_RE.search(text) or has_clock(text):
            continue
        if any(a in posts for a in el.iterancestors()):
            continue
        if containers and not _in_stream(el, containers):
            continue
        day = parse_date_only(text)
        if day is not None:
            found.append((el, day))
    headed = {el for el, _ in found}
    for stream in streams if year is not None else ():
        for el in stream:
            if not isinstance(el.tag, str) or el in posts or el in headed or is_chrome(el):
                continue
            if text_length(el) <= 40 and (day := date_line(text_of(el), year)) is not None:
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
            clocks.append(_minutes(r.stamp.at.astimezone(zone(r.zone or tz)).time()))
        elif r.stamp.clock is not None:
            clocks.append(_minutes(r.stamp.clock))
        elif r.stamp.minute is not None:
            clocks.append(r.stamp.minute)
    down = sum(1 for a, b in pairwise(clocks) if b < a)
    up = sum(1 for a, b in pairwise(clocks) if b > a)
    return down >= up


def _opens_with_headings(
    headings: Sequence[tuple[int, date]], first: int, last: int, day: date
) -> bool:
    """Headings above their posts (the stream opens with one) rather than below them (it
    closes with one). Headings only between posts: above when the first one names a day
    before the page's (the newest posts, above it, are of the page's day)."""
    before = sum(1 for p, _ in headings if p < first)
    after = sum(1 for p, _ in headings if p > last)
    if before or after:
        return before > 0 and before >= after
    return headings[0][1] < day


def suspect(when: datetime | None, earliest: datetime | None, latest: datetime | None) -> bool:
    """A time outside the page's plausible range (see the module docstring)."""
    if when is None:
        return False
    return (earliest is not None and when < earliest) or (latest is not None and when > latest)


def resolve(
    readings: Sequence[Reading],
    *,
    day: date,
    tz: str,
    now: datetime,
    positions: dict[etree._Element, int] | None = None,
    headings: Sequence[tuple[int, date]] = (),
    start: datetime | None = None,
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> None:
    """Set `published_at` of every reading from its stamp (see the module docstring)."""
    positions = positions or {}
    places = [positions.get(r.element, 0) for r in readings]
    above = bool(headings) and _opens_with_headings(headings, min(places), max(places), day)
    floating: list[Reading] = []
    for r in readings:
        s, local = r.stamp, zone(r.zone or tz)
        if s.at is not None:
            r.post.published_at = s.at
        elif s.clock is not None:
            given = s.day or _heading_day(positions.get(r.element, 0), headings, above)
            when = datetime.combine(given, s.clock, tzinfo=s.offset or local) if given else None
            if when is None or (s.day is None and suspect(when, earliest, latest)):
                floating.append(r)  # no day, or one from a heading far off the page's dates
            else:
                r.post.published_at = when
        elif s.minute is not None and start is not None:
            r.post.published_at = start + timedelta(minutes=s.minute)
        elif s.ago is not None:
            r.post.published_at = s.ago.before(now, local)
            r.post.time_approximate = True
    order = floating if _newest_first(readings, tz) else floating[::-1]
    shift, previous = 0, None
    for r in order:
        clock = r.stamp.clock
        assert clock is not None
        if previous is not None and _minutes(clock) > previous + 60:
            shift -= 1  # going back in time, the clock went forward: the day before
        previous = _minutes(clock)
        when = datetime.combine(
            day + timedelta(days=shift), clock, tzinfo=r.stamp.offset or zone(r.zone or tz)
        )
        if when > now + _SLACK:  # a clock later than now belongs to the day before
            when -= timedelta(days=1)
        r.post.published_at = when
    for r in readings:
        if suspect(r.post.published_at, earliest, latest):
            r.post.published_at, r.post.time_approximate = None, False
