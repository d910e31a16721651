"""Flat tickers: a time-prefixed element starts a post, the siblings after it belong to it.

Many tickers are one run of paragraphs: `<p><strong>9h05 -</strong> Le préfet…</p><p>…</p>
<p>…</p><p><b>9h32 -</b> …</p>`, "09:05 –", "14.32 Uhr:", whatever the tag. Only the first
paragraph of each post carries a time, so most siblings have none: the repeated-block rule
(half of them stamped) does not apply. Here a post starts at each sibling whose text opens
with a clock and a separator, and runs to the next one. It ends earlier at what closes a
post in such a stream: a heading that is no start (a day heading, "Mehr zum Thema"), a line
that is a date alone, or a list of links (related articles). What comes before the first
start (lead bullets, an intro, "All times are UK") is no post.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from crawler.clocks import clock_prefix
from crawler.extract.boiler import date_line
from crawler.extract.stamps import HEADINGS, link_length, text_length
from crawler.text import clean_inline

MIN_STARTS = 3
_LEAD = 40  # characters read from the start of an element to find its clock
_MIN_PREFIXED = 0.5  # share of the stamped siblings that must open with their clock (the
# others are paragraphs that mention a time: "The road reopened at 15:10.")


def lead_text(el: etree._Element, limit: int = _LEAD) -> str:
    """The beginning of an element's text, read lazily."""
    out: list[str] = []
    size = 0
    for chunk in el.itertext():
        out.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return clean_inline("".join(out))[:limit]


def opens_with_clock(el: etree._Element) -> bool:
    """The element's text starts with a clock and a separator ("9h05 -", "14.32 Uhr:")."""
    return clock_prefix(lead_text(el)) is not None


def ticker_starts(timed: Sequence[etree._Element]) -> list[etree._Element] | None:
    """The stamped siblings that open with their clock, when at least half of them do."""
    if not timed or timed[0].tag in HEADINGS:
        return None  # a ticker of headings: the repeated-block rule reads it
    starts = [el for el in timed if opens_with_clock(el)]
    if len(starts) < MIN_STARTS or len(starts) < _MIN_PREFIXED * len(timed):
        return None
    return starts


def _closes(el: etree._Element) -> bool:
    """What ends a post in a flat stream: a heading, a date line, a list of links."""
    if el.tag in HEADINGS:
        return True
    size = text_length(el)
    if 0 < size <= 40 and date_line(clean_inline(" ".join(el.itertext()))):
        return True
    if el.tag in ("ul", "ol", "nav") or (el.tag == "div" and len(el) > 1):
        links = sum(1 for _ in el.iter("a"))
        return links >= 2 and size > 0 and link_length(el) >= 0.8 * size
    return False


def ticker_followers(
    parent: etree._Element, starts: Sequence[etree._Element]
) -> list[list[etree._Element]]:
    """For each start, the siblings after it up to the next start or what closes a post."""
    chosen = set(starts)
    out: list[list[etree._Element]] = []
    current: list[etree._Element] | None = None
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if child in chosen:
            current = []
            out.append(current)
        elif current is not None:
            if _closes(child):
                current = None
            else:
                current.append(child)
    return out


def continued(same: Sequence[etree._Element], stamped: set[etree._Element]) -> bool:
    """True when unstamped siblings stand between stamped ones (a post's further paragraphs),
    as opposed to a list where every post is one element."""
    seen_stamp = pending = False
    for el in same:
        if el in stamped:
            if pending and seen_stamp:
                return True
            seen_stamp, pending = True, False
        elif text_length(el) > 0:
            pending = True
    return False
