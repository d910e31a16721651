"""A post's time stamp, as its HTML prints it: where it is, what it says, what surrounds it.

Owns finding the stamps of a post (a `<time datetime>`, `amp-timeago`, any `[datetime]`, an
epoch attribute such as `data-post-time`, or printed text: "21:22", "12.31 Uhr:",
"19:02 (IST), Oct 02", "95'"), telling a publication stamp from an "Updated at" one, leaving
out stamps of embedded things (a linked article's date), and the stamp's "meta box": the
small element around it holding the time, an author, a permalink, which is no body text.
A clock alone stays a clock here: `days.py` gives it a day once the whole list is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from functools import lru_cache

from lxml import etree

from crawler.clocks import clock_prefix, is_stamp, match_minute, says_updated
from crawler.daterange import Refused, record
from crawler.dates import MAX_DATE_TEXT, from_epoch, parse_datetime, stamp_parts, zone, zone_offset
from crawler.relative import Ago, may_be_ago, parse_ago
from crawler.text import clean_inline, is_chrome

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
META_MAX = 80  # a stamp's box holds little text: the time, an author, a "permalink" label
# Elements are picked in Python, not by an XPath union: libxml2 merges the node sets of a
# union in time quadratic in their size (minutes for a page of 100,000 stamps).
_TIME_TAGS = frozenset({"time", "amp-timeago"})
_EPOCH_HOLDERS = etree.XPath(
    "descendant-or-self::*[@*[contains(local-name(), 'time') or contains(local-name(), 'date')]]"
)
_DIGIT_RE = re.compile(r"\d")
_NO_TEXT = frozenset({"script", "style", "noscript", "template"})
_NOT_META = frozenset({"p", "blockquote", "li", *HEADINGS})
_BLOCK_TEXT_TAGS = ("p", *sorted(HEADINGS))


def time_elements(scope: etree._Element) -> list[etree._Element]:
    """The time-like elements inside `scope`, in page order: `<time>`, `amp-timeago`, any
    `[datetime]`, an `<abbr>` whose title starts like a date or an epoch (hAtom)."""
    return [el for el in scope.iterdescendants() if _time_like(el)]


def _time_like(el: etree._Element) -> bool:
    tag = el.tag
    if tag in _TIME_TAGS:
        return True
    if not isinstance(tag, str):
        return False
    if tag == "abbr" and (el.get("title") or "")[:1] in ("1", "2"):
        return True
    return el.get("datetime") is not None


def _has_block_text(el: etree._Element) -> bool:
    return next(el.iterdescendants(*_BLOCK_TEXT_TAGS), None) is not None


@dataclass(slots=True)
class Stamp:
    """When a post says it was published, as far as its own HTML tells."""

    at: datetime | None = None  # a full date and time
    day: date | None = None  # a printed date without a usable clock
    clock: time | None = None  # a clock alone ("21:22"): the day comes from the page
    minute: int | None = None  # a match minute ("95'")
    ago: Ago | None = None  # a relative time ("5 min ago"): anchored on the fetch later
    offset: tzinfo | None = None  # a zone printed beside the clock ("BST")
    updated: datetime | None = None
    epoch: datetime | None = None  # an epoch attribute of the post element, checked later

    @property
    def found(self) -> bool:
        return bool(self.at or self.clock or self.minute is not None or self.ago)


_LENGTH = etree.XPath("string-length(normalize-space(.))")
_LINK_TEXTS = etree.XPath(".//a//text()")


def text_length(el: etree._Element) -> int:
    """The length of an element's text, spaces collapsed (fast: for scoring, not for reading)."""
    return int(_LENGTH(el))


def link_length(el: etree._Element) -> int:
    """How much of an element's text sits in links."""
    return sum(len(t.strip()) for t in _LINK_TEXTS(el))


def text_of(el: etree._Element) -> str:
    """The element's text, spaces collapsed (for small elements: headings, stamps)."""
    return clean_inline(" ".join(el.itertext()))


def _maybe_stamp(text: str) -> str | None:
    """The stripped text when it may be a stamp: starts with a digit, or is short with one."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit() or text[0] in "[(":
        return text[:300]  # "09:05 – " and a long paragraph: its start tells
    if len(text) <= 60 and _DIGIT_RE.search(text):
        return text
    return text if may_be_ago(text) else None  # "an hour ago", "gerade eben"


def stamp_texts(scope: etree._Element) -> list[tuple[etree._Element, str]]:
    """(element, text) of the texts inside `scope` that may be stamps, in page order; the
    element is the one whose content the text is (a tail belongs to the parent)."""
    found = []
    for el in scope.iter():
        tag = el.tag
        if isinstance(tag, str) and tag not in _NO_TEXT and el.text:
            text = _maybe_stamp(el.text)
            if text:
                found.append((el, text))
        if el.tail and el is not scope:
            text = _maybe_stamp(el.tail)
            parent = el.getparent()
            if text and parent is not None:
                found.append((parent, text))
    return found


_STAMP_AREAS = frozenset({"header", "footer", "time"})  # chrome elsewhere, a post's own stamp here


def in_chrome(el: etree._Element, scope: etree._Element) -> bool | None:
    """True when `el` lies in chrome inside `scope` (an aside, a card, an embed); None when
    `el` is not inside `scope` at all."""
    node: etree._Element | None = el
    chrome = False
    while node is not None and node is not scope:
        if node.tag not in _STAMP_AREAS and is_chrome(node):
            chrome = True
        node = node.getparent()
    return chrome if node is scope else None


def meta_box(anchor: etree._Element, post: etree._Element) -> etree._Element:
    """The largest box around a stamp, inside the post, that holds little else (time, author)
    and no paragraph or heading."""
    box = anchor
    while box is not post:
        parent = box.getparent()
        if parent is None or parent is post or parent.tag in _NOT_META:
            return box
        if text_length(parent) > META_MAX or _has_block_text(parent):
            return box
        box = parent
    return box


@lru_cache(maxsize=8192)
def _stamp_text(
    text: str, year: int | None
) -> tuple[date | Refused | None, time | None, int | None, tzinfo | None, Ago | None]:
    """(day, clock, match minute, printed zone, relative time) of a stamp's text; Refused
    for a stamp with an impossible date (its clock must not take another day)."""
    ago = parse_ago(text)
    if ago is not None:
        return None, None, None, None, ago
    day, clock = stamp_parts(text, year)
    if isinstance(day, Refused):
        return day, None, None, None, None
    minute = match_minute(text) if clock is None else None
    prefix = clock_prefix(text)
    if prefix is not None and clock is None:
        clock = prefix[0]
    return day, clock, minute, zone_offset(text), None


def _text_stamp(text: str, stamp: Stamp, year: int | None) -> None:
    day, clock, minute, stamp.offset, ago = _stamp_text(text[:MAX_DATE_TEXT], year)
    if isinstance(day, Refused):
        record(text, day)
    elif ago is not None:
        stamp.ago = ago
    elif minute is not None:
        stamp.minute = minute
    elif clock is not None:
        stamp.clock, stamp.day = clock, day
    elif day is not None:
        stamp.day = day


_MACHINE_RE = re.compile(r"^\s*(?:\d{4}-\d{2}-\d{2}|\d{10}(?:\d{3})?(?:\.\d+)?\s*$)")


def machine_value(el: etree._Element) -> str | None:
    """The machine-readable time of a time-like element: `datetime`, or an `<abbr>`'s ISO or
    epoch `title` (hAtom), or an epoch as its text (`amp-timeago`)."""
    value = el.get("datetime")
    if value is not None:
        return value.strip()
    if el.tag == "abbr":
        title = el.get("title") or ""
        return title.strip() if _MACHINE_RE.match(title) else None
    return None


def _machine_time(el: etree._Element, tz: str) -> datetime | None:
    value = machine_value(el)
    if not value:
        return from_epoch(text_of(el))
    if _MACHINE_RE.match(value):
        return from_epoch(value) or parse_datetime(value, tz)
    return parse_datetime(value, tz)  # a datetime attribute in free text ("20:08")


def epoch_attribute(el: etree._Element) -> tuple[datetime | None, datetime | None]:
    """(published, updated) from epoch attributes such as data-post-time="1722888018921"."""
    published = updated = None
    for name, value in el.attrib.items():
        lower = name.lower()
        if "time" not in lower and "date" not in lower:
            continue
        found = from_epoch(value)
        if found is None:
            continue
        if any(w in lower for w in ("modif", "updat", "edit")):
            updated = updated or found
        else:
            published = published or found
    return published, updated


def epoch_attributes(
    post: etree._Element, deep: bool = False
) -> tuple[datetime | None, datetime | None]:
    """(published, updated) from epoch attributes of the post (`deep`: or inside it)."""
    published, updated = epoch_attribute(post)
    if published or not deep:
        return published, updated
    for el in _EPOCH_HOLDERS(post):
        found, changed = epoch_attribute(el)
        published, updated = published or found, updated or changed
        if published:
            break
    return published, updated


def read_stamp(
    post: etree._Element,
    tz: str,
    year: int | None,
    inside: Iterable[etree._Element] = (),
    texts: Sequence[tuple[etree._Element, str]] | None = None,
) -> tuple[Stamp, list[etree._Element]]:
    """The post's stamp and the meta boxes that hold its stamps (left out of the body).

    `inside` are further elements of the post (the siblings of a flat ticker's heading);
    `texts` the stamp texts of the post when already known (else the post is scanned).
    """
    stamp, boxes = Stamp(), []
    scopes = [post, *inside]
    timed: set[etree._Element] = set()
    for scope in scopes:
        for el in time_elements(scope):
            timed.update(el.iter())
            if in_chrome(el, scope):  # the date of a linked article, a tweet, a video
                continue
            label = f"{text_of(el)} {el.get('title', '')}"
            when = _machine_time(el, tz)
            boxes.append(meta_box(el, scope))
            value = machine_value(el)
            if says_updated(label):
                stamp.updated = stamp.updated or when
            elif when is not None and stamp.at is None:
                stamp.at = when
            elif when is None and not stamp.found and not (value and value in label):
                _text_stamp(label, stamp, year)  # not the refused machine value read again
    if texts is None:
        texts = [(el, text) for scope in scopes for el, text in stamp_texts(scope)]
    for el, text in texts:
        if el in timed or not is_stamp(text):
            continue
        scope = next((s for s in scopes if s is el or s in el.iterancestors()), None)
        if scope is None or in_chrome(el, scope):
            continue
        if len(text) <= 60:
            box = meta_box(el, scope)
            boxes.append(box)
            if not stamp.found:
                _text_stamp(text_of(box) if box is not scope else text, stamp, year)
        elif not stamp.found and (prefix := clock_prefix(text)) is not None:
            stamp.clock = prefix[0]
            stamp.offset = zone_offset(text[: len(text) - len(prefix[1])])
    # An epoch attribute beside a relative time ("3 hours ago") is the exact time it rounds.
    deep = not stamp.found or stamp.ago is not None
    stamp.epoch, epoch_updated = epoch_attributes(post, deep=deep)
    stamp.updated = stamp.updated or epoch_updated
    return stamp, [b for b in dict.fromkeys(boxes) if b is not post]


def check_epoch(stamp: Stamp, tz: str) -> None:
    """Use an epoch attribute when the post prints no time, or prints the same clock."""
    epoch = stamp.epoch
    if epoch is None or stamp.at is not None:
        return
    if stamp.clock is None and stamp.minute is None:
        stamp.at = epoch
        return
    if stamp.clock is not None:
        local = epoch.astimezone(stamp.offset or zone(tz))
        minutes = local.hour * 60 + local.minute - (stamp.clock.hour * 60 + stamp.clock.minute)
        if abs(minutes) <= 1:
            stamp.at = epoch
