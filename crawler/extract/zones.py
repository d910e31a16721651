"""The timezone a page's clocks are in, when the source does not configure one, and why.

A configured `timezone` always wins. Otherwise, in this order:

1. offsets: the page's own machine timestamps with an offset other than zero (JSON-LD,
   `<time datetime>`, `[datetime]`, meta `article:published_time`), and printed clocks beside
   their machine time (`<time datetime="…T20:00:18Z">21:00</time>`, a post's epoch attribute
   beside its "21:00"): the zone of the outlet's country when it fits them, else the first
   of the common news zones that fits, else a fixed offset. A "Z" or "+00:00" alone says
   nothing: most CMSs write every timestamp in UTC.
2. a statement on the page ("All times are UK", "heure de Paris", "(UTC)", "Alle
   Zeitangaben in MESZ", "times below are in Kyiv time").
3. the outlet's country, from its domain (ccTLD), else its language (`<html lang>`,
   `og:locale`, the source's language), for countries with one zone.
4. UTC, with a warning.

A statement applies from where it stands in the page: one that changes the zone mid-page
("Times below are now in Eastern time") gives the posts after it that zone (`PageZone.at`).
Every scan is bounded (elements, texts, matches).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from lxml import etree

from crawler.clocks import clock_prefix
from crawler.dates import from_epoch, stamp_parts, zone
from crawler.extract.zone_clues import (
    MAX_STATEMENT,
    domain_zone,
    language_zone,
    may_state_zone,
    statement_zone,
)

# Zones of the world's big newsrooms, in the order a bare offset picks them.
COMMON_ZONES = (
    "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Athens", "Europe/Moscow",
    "Europe/Istanbul", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Auckland", "America/Sao_Paulo", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "Africa/Lagos", "Africa/Johannesburg",
    "Africa/Nairobi", "UTC",
)  # fmt: skip
_MAX_TIMESTAMPS = 200
_MAX_ELEMENTS = 200_000
_MAX_SCRIPT = 2_000_000
_FIT = 0.8  # share of the timestamps a zone must agree with
_ISO_OFFSET_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?\s*(Z|[+-]\d\d:?\d\d)\b"
)
# What a nonzero offset of `_ISO_OFFSET_RE` holds: a text without one has no offset to read.
# Two scans, each led by its literal sign, are some 5 times faster than one led by [+-].
_OFFSET_SIGNS = (re.compile(r"\+\d\d:?\d\d"), re.compile(r"-\d\d:?\d\d"))
_JSONLD = etree.XPath("//script[contains(translate(@type, 'JSONLD', 'jsonld'), 'ld+json')]/text()")
# Elements found by their attribute ("//@x/..", not "//*[@x]", which tests every element: 2 to
# 4 times slower in libxml2); the same elements, in document order.
_DATETIME = etree.XPath("//@datetime/..")
_META_DATES = etree.XPath(
    "//meta[contains(@property, 'time') or contains(@name, 'time') or contains(@itemprop, 'date')"
    " or contains(@name, 'date') or contains(@property, 'date')]/@content"
)
# "//body//*[@*[…]]", from the attributes
_EPOCH_HOLDERS = etree.XPath(
    "//@*[contains(local-name(), 'time') or contains(local-name(), 'date')]"
    "/parent::*[ancestor::body]"
)
_NO_TEXT = frozenset({"script", "style", "noscript", "template", "head", "title"})


@dataclass(frozen=True, slots=True)
class ZoneChange:
    """A statement in the page from which on its zone applies."""

    position: int  # the statement element's index in document order
    name: str
    why: str


@dataclass(frozen=True, slots=True)
class PageZone:
    """The zone of a page's clocks, where it came from, and statements that change it."""

    name: str
    why: str
    source: str  # configured | offsets | statement | country | default
    changes: tuple[ZoneChange, ...] = ()
    warning: str | None = None

    def at(self, position: int | None) -> str:
        """The zone in force at an element's document position."""
        current = self.name
        if position is None:
            return current
        for change in self.changes:
            if change.position > position:
                break
            current = change.name
        return current

    def names(self) -> list[str]:
        return list(dict.fromkeys([self.name, *(c.name for c in self.changes)]))


@dataclass(slots=True)
class _Evidence:
    offsets: list[tuple[datetime, int]] = field(default_factory=list)  # (instant, minutes)
    printed: list[tuple[datetime, int]] = field(default_factory=list)
    statements: list[tuple[int, str, str]] = field(default_factory=list)  # (position, zone, text)


def _minutes(offset: str) -> int:
    if offset.upper() == "Z":
        return 0
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def _iso_offsets(text: str) -> Iterable[tuple[datetime, int]]:
    if not any(sign.search(text) for sign in _OFFSET_SIGNS):  # only "Z" or none at all
        return
    for m in _ISO_OFFSET_RE.finditer(text):
        y, mo, d, hh, mi, ss, off = m.groups()
        minutes = _minutes(off)
        if minutes == 0 or abs(minutes) > 14 * 60:
            continue
        try:
            local = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0))
        except ValueError:
            continue
        yield (local - timedelta(minutes=minutes)).replace(tzinfo=UTC), minutes


def _display_offset(instant: datetime, text: str, year: int) -> int | None:
    """The offset at which a printed clock shows a machine instant ("21:00" for 20:00Z)."""
    prefix = clock_prefix(text)
    if prefix is not None and not prefix[1].strip():
        clock = prefix[0]
    else:
        _, clock = stamp_parts(text, year)
        if clock is None or len(text) > 60:
            return None
    utc = instant.astimezone(UTC)
    minutes = (clock.hour * 60 + clock.minute) - (utc.hour * 60 + utc.minute)
    minutes = (minutes + 12 * 60) % (24 * 60) - 12 * 60  # within ±12 h
    return minutes if minutes % 15 == 0 else None


def _machine_instant(value: str) -> datetime | None:
    from crawler.dates import parse_datetime

    m = _ISO_OFFSET_RE.search(value)
    return parse_datetime(m.group(0)) if m else from_epoch(value.strip())


def _collect(root: etree._Element, ev: _Evidence) -> None:
    for text in _JSONLD(root):
        ev.offsets.extend(_bounded(_iso_offsets(str(text)[:_MAX_SCRIPT])))
    for value in _META_DATES(root):
        ev.offsets.extend(_iso_offsets(str(value)))
    for el in _DATETIME(root)[: _MAX_TIMESTAMPS * 5]:
        value = el.get("datetime") or ""
        ev.offsets.extend(_iso_offsets(value))
        instant = _machine_instant(value)
        text = " ".join("".join(el.itertext()).split())
        if instant is not None and text and len(ev.printed) < _MAX_TIMESTAMPS:
            found = _display_offset(instant, text, instant.year)
            if found is not None:
                ev.printed.append((instant, found))
    for el in _EPOCH_HOLDERS(root)[:_MAX_TIMESTAMPS]:
        instant = next(
            (
                found
                for name, value in el.attrib.items()
                if ("time" in name.lower() or "date" in name.lower())
                and not any(w in name.lower() for w in ("modif", "updat", "edit"))
                and (found := from_epoch(value)) is not None
            ),
            None,
        )
        if instant is None:
            continue
        clock_el = next(el.iter("time"), None)
        text = " ".join("".join(clock_el.itertext()).split()) if clock_el is not None else ""
        if text and clock_el is not None and clock_el.get("datetime") is None:
            found = _display_offset(instant, text, instant.year)
            if found is not None:
                ev.printed.append((instant, found))
    del ev.offsets[_MAX_TIMESTAMPS:]


def _bounded(pairs: Iterable[tuple[datetime, int]]) -> list[tuple[datetime, int]]:
    out = []
    for pair in pairs:
        out.append(pair)
        if len(out) >= _MAX_TIMESTAMPS:
            break
    return out


def _statements(root: etree._Element) -> list[tuple[int, str, str]]:
    """(position, zone, text) of the zone statements of the page, in page order."""
    found: list[tuple[int, str, str]] = []
    for position, el in enumerate(root.iter()):
        if position > _MAX_ELEMENTS or len(found) >= _MAX_TIMESTAMPS:
            break
        tag = el.tag
        if not isinstance(tag, str) or tag in _NO_TEXT:
            continue
        for text in (el.text, el.tail):
            if not text or not may_state_zone(text):
                continue
            hit = statement_zone(text)
            if hit is None and text is el.text and 0 < len(el) <= 5:  # "All times are <b>BST</b>"
                whole = " ".join("".join(el.itertext()).split())
                hit = statement_zone(whole) if len(whole) <= MAX_STATEMENT else None
            if hit is not None:
                found.append((position, *hit))
                break
    return found


def _fits(name: str, pairs: Sequence[tuple[datetime, int]]) -> bool:
    tz = zone(name)
    good = 0
    for instant, minutes in pairs:
        offset = instant.astimezone(tz).utcoffset()
        if offset is not None and offset == timedelta(minutes=minutes):
            good += 1
    return good >= _FIT * len(pairs)


def _fixed(pairs: Sequence[tuple[datetime, int]]) -> str:
    """A zone for a bare offset: a common zone that fits, else Etc/GMT±h."""
    minutes = Counter(m for _, m in pairs).most_common(1)[0][0]
    same = [p for p in pairs if p[1] == minutes]
    if minutes % 60 == 0:
        hours = minutes // 60
        return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # POSIX sign: Etc/GMT-2 is +02:00
    return next((z for z in COMMON_ZONES if _fits(z, same)), "UTC")


def _offset_text(pairs: Sequence[tuple[datetime, int]]) -> str:
    minutes = Counter(m for _, m in pairs).most_common(1)[0][0]
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _country(root: etree._Element, url: str, language: str | None) -> tuple[str, str] | None:
    """(zone, why) of the outlet's country: domain, else page language, else the source's."""
    host = urlsplit(url).hostname or ""
    if found := domain_zone(host):
        return found[0], f"domain .{found[1]}"
    tags = [
        ("page language", root.get("lang") or root.get("xml:lang") or ""),
        ("og:locale", root.xpath("string(//meta[@property='og:locale']/@content)")),
        ("source language", language or ""),
    ]
    for label, tag in tags:
        if tag and (found_zone := language_zone(str(tag))):
            return found_zone, f"{label} {str(tag).strip()}"
    return None


def infer_zone(
    root: etree._Element,
    url: str,
    *,
    configured: str | None = None,
    language: str | None = None,
) -> PageZone:
    """The zone of the page's clocks (see the module docstring for the order)."""
    if configured:
        return PageZone(configured, "configured", "configured")
    ev = _Evidence()
    _collect(root, ev)
    ev.statements = _statements(root)
    country = _country(root, url, language)
    base = _base(ev, country)
    changes: list[ZoneChange] = []
    current = base.name
    for position, name, text in ev.statements:
        if name != current:
            changes.append(ZoneChange(position, name, f"the page says {text!r}"))
            current = name
    return PageZone(base.name, base.why, base.source, tuple(changes), base.warning)


def _base(ev: _Evidence, country: tuple[str, str] | None) -> PageZone:
    pairs = ev.offsets + ev.printed
    if pairs:
        what = "the page's timestamps" if ev.offsets else "the page's printed clocks"
        if ev.offsets and ev.printed:
            what = "the page's timestamps and printed clocks"
        shown = f"{what} show {_offset_text(pairs)}"
        if country is not None and _fits(country[0], pairs):
            return PageZone(country[0], f"{shown}, as its country does ({country[1]})", "offsets")
        if country is None:
            named = [z for _, z, _ in ev.statements]
            for name in dict.fromkeys([*named, *COMMON_ZONES]):
                if _fits(name, pairs):
                    return PageZone(name, f"{shown} (the first common zone that fits)", "offsets")
            return PageZone(_fixed(pairs), f"{shown}: a fixed offset", "offsets")
        return PageZone(
            _fixed(pairs), f"{shown}, unlike its country ({country[1]}): a fixed offset", "offsets"
        )
    if ev.statements:
        _, name, text = ev.statements[0]
        return PageZone(name, f"the page says {text!r}", "statement")
    if country is not None:
        return PageZone(country[0], f"the outlet's country ({country[1]})", "country")
    return PageZone(
        "UTC",
        "no offset, statement or country on the page",
        "default",
        warning="zone: the page says nothing of its timezone: clocks read as UTC"
        " (set the source's timezone)",
    )
