"""The clock, match minute or "updated" a live-blog post's stamp text starts with or says.

The shapes live blogs print beside each post ("21:22", "20h08", "12.31 Uhr:", "8:08 pm -",
"95'", "45+2'", "5 min ago", "Updated at 12.36 BST"): whether a text is a stamp, and the clock
a headline or a body starts with. Reading a full date is crawler.dates' job.
"""

from __future__ import annotations

import re
from datetime import time
from functools import lru_cache

from crawler.dates import MAX_DATE_TEXT, fold, has_clock
from crawler.relative import parse_ago

# "21:22", "20h08", "12.31 Uhr:", "19:02(IST) ", "12.50 BST", "8:08 pm -", "[14:05]" at the start
# of a text. A dotted clock ("12.31") needs a clue after it (Uhr, a zone, a separator, the end),
# or it could be a number ("12.50 million").
# Spaces are matched possessively (`\s*+`): what follows each run never starts with a space,
# and backtracking into runs of spaces would make a long one quadratic.
_CLOCK_PREFIX_RE = re.compile(
    r"^\s*+[\[(]?\s*+(?P<h>[01]?\d|2[0-3])\s*+(?:(?P<sep>[:h])|\.(?=\d\d))\s*+(?P<m>[0-5]\d)"
    r"(?::[0-5]\d)?(?!\d)\s*+(?P<ampm>(?i:[ap]\.?m\b\.?))?"
    r"\s*+(?P<clue>(?i:uhr\b|h\b)|\(?\s*+\b(?:[A-Z]{2,5})\b\s*+\)|\b(?:[A-Z]{2,5})\b)?"
    r"\s*+[\])]?\s*+(?P<end>[:\-–—|•·,>]+\s*+|$)?"
)
# "95'", "45+2'", "90+4’", "12 min" (a football or rugby match minute), alone or first.
_MINUTE_RE = re.compile(r"^\s*(\d{1,3})(?:\s*\+\s*(\d{1,2}))?\s*(?:['’′]|(?i:min\b|mn\b))")
_UPDATED_RE = re.compile(
    r"updated|modifi|mis a jour|mise a jour|aktualisiert|actualiza|aggiornat", re.IGNORECASE
)


def clock_prefix(text: str) -> tuple[time, str] | None:
    """The clock a text starts with and the text after it ("12.31 Uhr: Titel" → 12:31, "Titel").

    None when the text does not start with a clock followed by a clue: a separator, a zone,
    "Uhr", the end of the text, or (for "21:22" and "20h08" shapes) a space.
    """
    m = _CLOCK_PREFIX_RE.match(text)
    if m is None:
        return None
    rest = text[m.end() :]
    dotted = m["sep"] is None
    if dotted and not (m["clue"] or m["ampm"] or (m["end"] or "").strip() or not rest.strip()):
        return None  # "12.50 million": a number, not a clock
    hour = int(m["h"])
    if m["ampm"]:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if m["ampm"].lower().startswith("p") else 0)
    return time(hour, int(m["m"])), rest


def match_minute(text: str) -> int | None:
    """The minute of play a text starts with ("95'" → 95, "45+2'" → 47), or None."""
    m = _MINUTE_RE.match(text)
    if m is None:
        return None
    minute = int(m[1]) + int(m[2] or 0)
    return minute if minute <= 200 else None


def is_stamp(text: str) -> bool:
    """True for the text of a post's time stamp: a clock first, a match minute, a relative
    time, or a short text with a clock in it (what a live blog prints beside each post)."""
    return len(text) <= MAX_DATE_TEXT and _is_stamp(text)


@lru_cache(maxsize=16384)
def _is_stamp(text: str) -> bool:
    text = text.strip()
    if not text or not (text[0].isdigit() or text[0] in "[(" or len(text) <= 60):
        return False
    if clock_prefix(text) is not None or match_minute(text) is not None:
        return True
    if len(text) <= 60 and parse_ago(text) is not None:  # "5 min ago", "vor 3 Stunden"
        return True
    return len(text) <= 60 and any(c.isdigit() for c in text) and has_clock(text)


def says_updated(text: str) -> bool:
    """True for a stamp that tells when the post was changed ("Updated at 12.36 BST")."""
    return _UPDATED_RE.search(fold(text)) is not None
