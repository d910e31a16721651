"""Relative times as pages print them ("1 min ago", "2 hr 55 min ago", "il y a 5 minutes",
"vor 3 Stunden", "hace 2 horas", "just now") → how long ago, and to what precision.

A relative time only means something against the moment the page was rendered: the caller
anchors it on the response's `Date` header (else the fetch time), and the result is floored
to the smallest unit printed (at most an hour: "3 hours ago" at 14:37 is 11:00, a time the
post may really have had) and marked approximate. Spans over a week are refused: "3 months
ago" dates nothing to the day.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache

_UNITS = {
    "second": ("s sec secs second seconds seconde secondes sek sekunde sekunden segundo segundos"
               " secondo secondi"),
    "minute": "m min mins minute minutes mn minuten minuto minutos minuti",
    "hour": "h hr hrs hour hours heure heures std stunde stunden hora horas ora ore",
    "day": "d day days j jour jours tag tage tagen dia dias giorno giorni",
}  # fmt: skip
_UNIT_OF = {word: unit for unit, words in _UNITS.items() for word in words.split()}
_SPAN = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_ONE = "a an one un une ein eine einer einem einen una uno".split()  # noqa: SIM905
_NUMBER = rf"(?:\d{{1,4}}|(?:{'|'.join(_ONE)})\b)"  # "einem Tag" is no "eine m"
_UNIT = "|".join(sorted(_UNIT_OF, key=len, reverse=True))
_AMOUNT = rf"{_NUMBER}\s*(?:{_UNIT})\b\.?"
_AMOUNTS = rf"{_AMOUNT}(?:\s*,?\s*(?:and\s+|et\s+|und\s+|y\s+|e\s+)?{_AMOUNT})*"
_HEDGE = r"(?:about|around|over|nearly|almost|environ|plus d'|moins d'|etwa|ungefahr|knapp|uber)"
_FORMS = [
    re.compile(rf"(?:^|\b)(?:{_HEDGE}\s+)?(?P<a>{_AMOUNTS})\s+(?:ago|geleden|fa)\b"),
    re.compile(rf"(?:^|\b)(?:il y a|vor|hace)\s+(?:{_HEDGE}\s+)?(?P<a>{_AMOUNTS})"),
]
_PIECE_RE = re.compile(rf"({_NUMBER})\s*({_UNIT})\b")
_NOW_RE = re.compile(
    r"^(?:just now|moments? ago|a moment ago|right now|a l'instant|gerade eben|soeben"
    r"|gerade|ahora mismo|adesso)$"
)
_HINT_RE = re.compile(r"ago|il y a|vor |hace|geleden| fa\b|instant|eben|just now|moment", re.I)
_COMBINING_RE = re.compile("[\u0300-\u036f]")
MAX_TEXT = 60
MAX_SPAN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Ago:
    """A relative time: how long before the page was rendered, and the unit it counts in."""

    delta: timedelta
    unit: timedelta

    def before(self, anchor: datetime, tz: tzinfo | None = None) -> datetime:
        """The time it names against `anchor`, floored to its unit (at most an hour) in the
        page's zone `tz` (so that "3 hours ago" lands on a full hour there)."""
        when = anchor - self.delta
        step = min(self.unit, timedelta(hours=1))
        local = when.astimezone(tz) if tz is not None else when
        if step >= timedelta(hours=1):
            local = local.replace(minute=0, second=0, microsecond=0)
        elif step >= timedelta(minutes=1):
            local = local.replace(second=0, microsecond=0)
        else:
            local = local.replace(microsecond=0)
        return local.astimezone(anchor.tzinfo)


def may_be_ago(text: str) -> bool:
    """A cheap first look: could this short text be a relative time?"""
    return len(text) <= MAX_TEXT and _HINT_RE.search(text) is not None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_COMBINING_RE.sub("", text).split())


@lru_cache(maxsize=4096)
def parse_ago(text: str | None) -> Ago | None:
    """The relative time a short text is (or starts or ends with), or None."""
    if not text or not may_be_ago(text):
        return None
    folded = _fold(text).strip(" .:-–—·|()[]")
    if _NOW_RE.match(folded):
        return Ago(timedelta(0), _SPAN["minute"])
    for regex in _FORMS:
        m = regex.search(folded)
        if m is None:
            continue
        delta, unit = timedelta(0), _SPAN["day"]
        for number, word in _PIECE_RE.findall(m["a"]):
            count = 1 if number in _ONE else int(number)
            span = _SPAN[_UNIT_OF[word]]
            delta += count * span
            unit = min(unit, span)
        if delta > MAX_SPAN:
            return None
        return Ago(delta, unit)
    return None
