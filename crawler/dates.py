"""Dates and times as pages print them → aware datetimes.

Owns every date parsing rule of the crawler: ISO 8601, RFC 822, epoch numbers, and the free
text of French, English and German pages ("20:08 6 janvier 2026", "12.31 Uhr", "January 6,
2026 8:08 PM"). Times without an offset are read in the source's timezone. The common shapes
are parsed with the regexes below (a 500-post page is parsed on every poll); `dateparser` is
only the fallback for the rest. Results are cached by (text, tz, default_date, languages).

Hostile text is bounded: only the first MAX_DATE_TEXT characters of a text are read, and
what cannot be a date (see crawler.daterange) is refused, never guessed: a bare number is an
epoch or nothing, and dateparser must find a day and a month (it turns "12", "-1" or "nan"
into a day of the current month otherwise). What a post's stamp text starts with (a clock
prefix, a match minute) is crawler.clocks'.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.daterange import Refused, bare_number, day_refusal, parse_refusal, record

MAX_DATE_TEXT = 300  # a stamp is never longer; the rest of a longer text is not read

_MONTH_NAMES = {
    1: "janvier janv jan january januar janner jänner",
    2: "fevrier fevr fev february feb februar",
    3: "mars mar march marz maerz",
    4: "avril avr april apr",
    5: "mai may",
    6: "juin june jun juni",
    7: "juillet juil july jul juli",
    8: "aout august aug",
    9: "septembre sept sep september",
    10: "octobre oct october oktober okt",
    11: "novembre nov november",
    12: "decembre dec december dezember dez",
}
MONTHS = {name: n for n, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_EPOCH_RE = re.compile(r"^\d{10}(?:\.\d+)?$|^\d{13}$")
_RFC822_RE = re.compile(r"^(?:[a-z]{3},\s*)?\d{1,2}\s+[a-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}", re.I)
# Numeric dates: 27.08.2024, 27/08/2024, 2024-08-27, 2024/08/27.
_NUM_DMY_RE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_NUM_YMD_RE = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\b|(?=t\d))")  # ISO's "…t20:08"
# "6 janvier 2026", "1er janvier", "27. August 2024", "6 Jan 2026", "6-janvier-2026".
_DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(?:er|st|nd|rd|th|\.)?[\s_-]+(?:de\s+)?({_MONTH})\b\.?(?:[\s_-]+(\d{{4}})\b)?"
)
# "January 6, 2026", "Jan 6 2026", "2023/may/15".
_MONTH_DAY_RE = re.compile(rf"\b({_MONTH})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b,?(?:\s+(\d{{4}}))?")
_YEAR_MONTH_DAY_RE = re.compile(rf"\b(\d{{4}})/({_MONTH})/(\d{{1,2}})\b")
# "20:08", "20h08", "20 h", "12.31 uhr", "8:08 pm", "8 pm", with optional seconds. A dotted
# time needs a clue after it, or "12.31" could be a day and a month.
_TIME_RE = re.compile(
    r"(?<![\d.:])(\d{1,2})\s*+"
    r"(?:[:h]\s*+(\d{2})(?::(\d{2}))?"
    r"|\.(\d{2})(?=\s*(?:uhr|[ap]\.?m\b|[a-z]{3,4}\b|$))"
    r"|h\b|(?=\s*[ap]\.?m\b))"
    r"(?:\s*([ap])\.?m\b\.?)?(?!\d)"
)
_ZONE_RE = re.compile(r"\b(UTC|GMT|BST|CET|CEST|MEZ|MESZ|EST|EDT|PST|PDT|IST|Z)\b")
_ZONE_OFFSETS = {
    "UTC": 0, "GMT": 0, "Z": 0, "BST": 60, "CET": 60, "MEZ": 60, "CEST": 120, "MESZ": 120,
    "EST": -300, "EDT": -240, "PST": -480, "PDT": -420, "IST": 330,
}  # fmt: skip
_COMBINING_RE = re.compile("[\u0300-\u036f\u200b\u200c\u200d\u2060\ufeff]")
_RELATIVE_RE = re.compile(
    r"\b(?:hier|yesterday|gestern|aujourd|today|heute|il y a|ago|vor|minutes?|heures?|hours?)\b"
)


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    """The ZoneInfo for a name; ValueError when unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"dates: unknown timezone {tz!r}") from exc


def to_utc(dt: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken as UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def fold(text: str) -> str:
    """Lowercase, accents off, non-breaking and zero-width spaces normalised."""
    text = text.casefold()
    if not text.isascii():
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(text.split())  # str.split() knows every Unicode space


def _offset(text: str) -> timezone | Refused:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if minutes > 59 or hours * 60 + minutes > 14 * 60:
        return Refused(f"UTC offset {text} beyond ±14:00")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _iso(m: re.Match[str], tz: str) -> datetime | Refused:
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        naive = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
    except ValueError as exc:
        return Refused(f"impossible date ({exc})")
    if off is None:
        return naive.replace(tzinfo=zone(tz))
    offset = UTC if off.upper() == "Z" else _offset(off)
    return offset if isinstance(offset, Refused) else naive.replace(tzinfo=offset)


def _find_date(
    text: str, default_year: int | None, *, require_year: bool = False
) -> tuple[date | Refused | None, str]:
    """The first date in folded text, and the text with it cut out; Refused when the first
    date shape holds an impossible date (31 February, month 13, year 10)."""
    for regex, order in (
        (_NUM_YMD_RE, "ymd"),
        (_YEAR_MONTH_DAY_RE, "ymd"),
        (_NUM_DMY_RE, "dmy"),
        (_DAY_MONTH_RE, "dmy"),
        (_MONTH_DAY_RE, "mdy"),
    ):
        for m in regex.finditer(text):
            parts = dict(zip(order, m.groups(), strict=True))
            if parts["y"] is None and require_year:
                continue
            year = int(parts["y"]) if parts["y"] else default_year or datetime.now(UTC).year
            month = int(parts["m"]) if parts["m"].isdigit() else MONTHS[parts["m"]]
            try:
                found = date(year, month, int(parts["d"]))
            except ValueError as exc:
                return Refused(f"impossible date ({exc})"), text
            return day_refusal(found) or found, text[: m.start()] + " " + text[m.end() :]
    return None, text


def _find_time(text: str) -> tuple[time | Refused | None, str]:
    """The first clock in folded text and the text without it; Refused for "25:61"."""
    m = _TIME_RE.search(text)
    if not m:
        return None, text
    hour, minute, second, dotted, meridiem = m.groups()
    h, mi, s = int(hour), int(minute or dotted or 0), int(second or 0)
    if meridiem:
        if h > 12:
            return Refused(f"impossible clock ({m[0].strip()})"), text
        h = h % 12 + (12 if meridiem.startswith("p") else 0)
    if h > 23 or mi > 59 or s > 59:
        return Refused(f"impossible clock ({m[0].strip()})"), text
    return time(h, mi, s), text[: m.start()] + " " + text[m.end() :]


def _free_text(text: str, tz: str, default_date: date | None) -> datetime | Refused | bool | None:
    """A datetime; False when no date or time shape was recognised; None when unusable;
    Refused for an impossible date or clock."""
    folded = fold(text)
    day, rest = _find_date(folded, default_date.year if default_date else None)
    if isinstance(day, Refused):  # never the clock on the page's day instead
        return day
    clock, rest = _find_time(rest)
    if isinstance(clock, Refused):
        return clock
    if day is None:
        if clock is None:
            return False
        if default_date is None:
            return None
        day = default_date
    zone_name = _ZONE_RE.search(text)
    tzinfo = timezone(timedelta(minutes=_ZONE_OFFSETS[zone_name[1]])) if zone_name else zone(tz)
    return datetime.combine(day, clock or time(0), tzinfo=tzinfo)


def _dateparser(text: str, tz: str, languages: tuple[str, ...]) -> datetime | None:
    if len(text) > 120 or not (re.search(r"\d", text) or _RELATIVE_RE.search(fold(text))):
        return None
    import dateparser  # slow to import: only when a page needs it

    settings: dict[str, object] = {
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "REQUIRE_PARTS": ["day", "month"],  # or "12" is the 12th of this month
    }
    try:
        found = dateparser.parse(text, languages=list(languages) or None, settings=settings)
    except Exception:  # dateparser raises many kinds of errors on odd input
        return None
    if found is None:
        return None
    return found if found.tzinfo else found.replace(tzinfo=zone(tz))


@lru_cache(maxsize=16384)
def _parse(
    text: str, tz: str, default_date: date | None, languages: tuple[str, ...]
) -> datetime | Refused | None:
    found = _read(text, tz, default_date, languages)
    if isinstance(found, datetime):
        return parse_refusal(found) or found
    return found


def _read(
    text: str, tz: str, default_date: date | None, languages: tuple[str, ...]
) -> datetime | Refused | None:
    text = text.strip().strip("\u200b\ufeff")
    if not text:
        return None
    if m := _ISO_RE.match(text):
        return _iso(m, tz)
    if _EPOCH_RE.match(text):
        seconds = float(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    if (number := bare_number(text)) is not None:
        return number
    if _RFC822_RE.match(text):
        try:
            found = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            found = None
        if found is not None:
            if found.tzinfo is None:  # no zone, or "-0000" (UTC, local zone unknown)
                return found.replace(tzinfo=UTC if "-0000" in text else zone(tz))
            return found
    free = _free_text(text, tz, default_date)
    if free is not False:
        return free or None
    return _dateparser(text, tz, languages)


def parse_datetime(
    text: str | None,
    tz: str = "UTC",
    *,
    default_date: date | None = None,
    languages: list[str] | tuple[str, ...] | None = None,
) -> datetime | None:
    """An aware datetime from what a page prints, or None.

    Local times are read in `tz`; a time alone ("20:08") takes its date from `default_date`
    (None without one); a date alone is midnight local time. The result keeps the offset it
    was printed with (or the source's), so compare instants, not fields. A refused date (see
    crawler.daterange) is None too, and noted for the extraction's warnings.
    """
    found = read_datetime(text, tz, default_date=default_date, languages=languages)
    if isinstance(found, Refused):
        record(text or "", found)
        return None
    return found


def read_datetime(
    text: str | None,
    tz: str = "UTC",
    *,
    default_date: date | None = None,
    languages: list[str] | tuple[str, ...] | None = None,
) -> datetime | Refused | None:
    """`parse_datetime` that tells a refused date (Refused) from an unreadable one (None),
    for a caller that has another reading to fall back to only in the second case."""
    if not text or not isinstance(text, str):
        return None
    return _parse(text[:MAX_DATE_TEXT], tz, default_date, tuple(languages or ()))


def parse_date_only(text: str | None, languages: tuple[str, ...] | None = None) -> date | None:
    """A calendar date with a year found anywhere in a heading, a title or a URL, or None."""
    del languages  # month names of every supported language are always tried
    return _date_only(text[: MAX_DATE_TEXT * 2]) if text else None


@lru_cache(maxsize=4096)
def _date_only(text: str) -> date | None:
    folded = fold(text)
    if not re.search(r"\d{4}", folded):
        return None
    found, _ = _find_date(folded, None, require_year=True)
    return found if isinstance(found, date) and 1990 <= found.year <= 2100 else None


def zone_offset(text: str) -> timezone | None:
    """The fixed offset of a zone abbreviation printed in the text ("BST", "IST"), if any."""
    m = _ZONE_RE.search(text)
    return timezone(timedelta(minutes=_ZONE_OFFSETS[m[1]])) if m else None


def has_clock(text: str) -> bool:
    """True when a short text holds a clock time anywhere ("Horaires : 17h00", "20:08 6 janv")."""
    found, _ = _find_time(fold(text[:MAX_DATE_TEXT]))
    return isinstance(found, time)


def from_epoch(value: str | None) -> datetime | None:
    """An aware UTC datetime from epoch seconds or milliseconds between 2000 and 2100."""
    if not value or not _EPOCH_RE.match(value.strip()):
        return None
    value = value.strip()
    seconds = float(value) / (1000 if len(value) == 13 else 1)
    return datetime.fromtimestamp(seconds, UTC) if 946684800 <= seconds < 4102444800 else None


def stamp_parts(text: str, year: int | None = None) -> tuple[date | Refused | None, time | None]:
    """The date (its year defaulting to `year`) and the clock a short stamp holds, if any.

    An impossible date is Refused, and then its clock is no time either."""
    day, rest = _find_date(fold(text[:MAX_DATE_TEXT]), year)
    if isinstance(day, Refused):
        return day, None
    clock, _ = _find_time(rest)
    if isinstance(clock, Refused):
        return clock, None
    return day, clock
