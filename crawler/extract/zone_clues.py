"""What a page says about its clocks' timezone in words: statements and the outlet's country.

Owns the tables and the text rules zones.py reads: a statement on the page ("All times are
UK", "heure de Paris", "(UTC)", "Alle Zeitangaben in MESZ", "times below are in Kyiv time"),
the zone a zone word or place names (an abbreviation, a country adjective, or any IANA city:
"Kyiv" → Europe/Kyiv), and the country of an outlet from its domain (ccTLD) or its language
("en-GB", "fr"), for countries that have one zone only. Multi-zone countries (us, ca, au, br,
ru, mx, ...) and languages spoken across zones (en, es, pt, ar, ...) give no guess.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from zoneinfo import available_timezones

from crawler.dates import has_clock

# Zone words and places as statements print them (folded: lowercase, no accents).
_ZONE_WORDS = {
    "utc": "UTC", "gmt": "UTC", "zulu": "UTC", "temps universel": "UTC", "weltzeit": "UTC",
    "uk": "Europe/London", "british": "Europe/London", "bst": "Europe/London",
    "london": "Europe/London", "londres": "Europe/London", "britischer": "Europe/London",
    "irish": "Europe/Dublin", "ireland": "Europe/Dublin", "irlande": "Europe/Dublin",
    "paris": "Europe/Paris", "france": "Europe/Paris", "francaise": "Europe/Paris",
    "french": "Europe/Paris", "hf": "Europe/Paris", "belge": "Europe/Brussels",
    "suisse": "Europe/Zurich", "schweizer": "Europe/Zurich",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "mez": "Europe/Berlin",
    "mesz": "Europe/Berlin", "central european": "Europe/Berlin",
    "central european summer": "Europe/Berlin", "deutscher": "Europe/Berlin",
    "deutsche": "Europe/Berlin", "mitteleuropaischer": "Europe/Berlin",
    "mitteleuropaische": "Europe/Berlin", "german": "Europe/Berlin",
    "osterreichischer": "Europe/Vienna", "eet": "Europe/Athens", "eest": "Europe/Athens",
    "kiev": "Europe/Kyiv", "kyiv": "Europe/Kyiv", "kiew": "Europe/Kyiv",
    "ukrainian": "Europe/Kyiv", "moscow": "Europe/Moscow", "moscou": "Europe/Moscow",
    "moskauer": "Europe/Moscow", "msk": "Europe/Moscow", "israel": "Asia/Jerusalem",
    "ist": "Asia/Kolkata", "indian": "Asia/Kolkata", "india": "Asia/Kolkata",
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York", "us eastern": "America/New_York",
    "new york": "America/New_York", "washington": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "us central": "America/Chicago", "mt": "America/Denver", "mountain": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles", "us pacific": "America/Los_Angeles",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "sydney": "Australia/Sydney",
    "jst": "Asia/Tokyo", "japan": "Asia/Tokyo", "kst": "Asia/Seoul", "hkt": "Asia/Hong_Kong",
    "sgt": "Asia/Singapore", "sast": "Africa/Johannesburg", "nzst": "Pacific/Auckland",
    "nzdt": "Pacific/Auckland", "quebec": "America/Toronto", "montreal": "America/Toronto",
}  # fmt: skip
# "Local time" names the event's place, which the page does not say: no statement.
_LOCAL = frozenset({"local", "locale", "ortszeit", "lokal", "lokaler", "heure locale"})

# Single-zone countries by ccTLD (mainland zone for the few with remote islands).
CCTLD_ZONES = {
    "fr": "Europe/Paris", "de": "Europe/Berlin", "uk": "Europe/London", "gb": "Europe/London",
    "ie": "Europe/Dublin", "in": "Asia/Kolkata", "it": "Europe/Rome", "es": "Europe/Madrid",
    "nl": "Europe/Amsterdam", "be": "Europe/Brussels", "ch": "Europe/Zurich",
    "at": "Europe/Vienna", "lu": "Europe/Luxembourg", "pl": "Europe/Warsaw",
    "cz": "Europe/Prague", "sk": "Europe/Bratislava", "hu": "Europe/Budapest",
    "dk": "Europe/Copenhagen", "se": "Europe/Stockholm", "no": "Europe/Oslo",
    "fi": "Europe/Helsinki", "ee": "Europe/Tallinn", "lv": "Europe/Riga",
    "lt": "Europe/Vilnius", "gr": "Europe/Athens", "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia", "hr": "Europe/Zagreb", "si": "Europe/Ljubljana",
    "rs": "Europe/Belgrade", "ua": "Europe/Kyiv", "tr": "Europe/Istanbul",
    "pt": "Europe/Lisbon", "is": "Atlantic/Reykjavik", "mt": "Europe/Malta",
    "cy": "Asia/Nicosia", "il": "Asia/Jerusalem", "jp": "Asia/Tokyo", "kr": "Asia/Seoul",
    "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "tw": "Asia/Taipei",
    "sg": "Asia/Singapore", "my": "Asia/Kuala_Lumpur", "ph": "Asia/Manila",
    "th": "Asia/Bangkok", "vn": "Asia/Ho_Chi_Minh", "pk": "Asia/Karachi",
    "bd": "Asia/Dhaka", "lk": "Asia/Colombo", "np": "Asia/Kathmandu", "ae": "Asia/Dubai",
    "sa": "Asia/Riyadh", "qa": "Asia/Qatar", "eg": "Africa/Cairo",
    "za": "Africa/Johannesburg", "ng": "Africa/Lagos", "ke": "Africa/Nairobi",
    "ma": "Africa/Casablanca", "dz": "Africa/Algiers", "tn": "Africa/Tunis",
    "sn": "Africa/Dakar", "nz": "Pacific/Auckland", "ar": "America/Argentina/Buenos_Aires",
    "pe": "America/Lima", "ve": "America/Caracas",
}  # fmt: skip
# Languages spoken (nearly) in one zone only; a region subtag ("en-GB") goes by CCTLD_ZONES.
LANGUAGE_ZONES = {
    "de": "Europe/Berlin", "fr": "Europe/Paris", "it": "Europe/Rome", "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw", "cs": "Europe/Prague", "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest", "da": "Europe/Copenhagen", "sv": "Europe/Stockholm",
    "nb": "Europe/Oslo", "nn": "Europe/Oslo", "no": "Europe/Oslo", "fi": "Europe/Helsinki",
    "et": "Europe/Tallinn", "lv": "Europe/Riga", "lt": "Europe/Vilnius", "el": "Europe/Athens",
    "ro": "Europe/Bucharest", "bg": "Europe/Sofia", "hr": "Europe/Zagreb",
    "sl": "Europe/Ljubljana", "sr": "Europe/Belgrade", "uk": "Europe/Kyiv",
    "tr": "Europe/Istanbul", "he": "Asia/Jerusalem", "ja": "Asia/Tokyo", "ko": "Asia/Seoul",
    "th": "Asia/Bangkok", "vi": "Asia/Ho_Chi_Minh", "hi": "Asia/Kolkata",
}  # fmt: skip

_WORD = r"[a-z][a-z' .-]{0,40}?"
_END = r"(?:\s+(?:time|times|zeit|uhr))?\s*(?:$|[.,;:!)(\]]|\s+(?:unless|sauf|and|et|und|except))"
_STATEMENTS = [
    re.compile(p)
    for p in (
        # English: "All times are UK", "All times BST", "Times below are in Kyiv time".
        rf"\ball times?(?:\s+(?:are|shown|given|listed|quoted|below|above|on this page|here))*"
        rf"(?:\s+(?:in|as))?\s+(?P<z>{_WORD}){_END}",
        rf"\btimes?(?:\s+(?:below|above|shown|given|listed|here))*(?:\s+(?:are|is))?"
        rf"(?:\s+now)?\s+(?:in|as)\s+(?P<z>{_WORD}){_END}",
        # French: "heure de Paris", "(heures françaises)", "horaires en heure de Paris".
        rf"\bheures?\s+(?:de\s+|d')?(?P<z>{_WORD}){_END}",
        rf"\b(?:toutes les heures|horaires?|les heures)(?:\s+(?:sont|indiquees?|donnees?))*"
        rf"\s+(?:en|a l'|a)\s*(?:heure\s+(?:de\s+)?)?(?P<z>{_WORD}){_END}",
        # German: "Alle Zeitangaben in MESZ", "Uhrzeiten nach deutscher Zeit".
        rf"\b(?:alle\s+)?(?:zeit|uhrzeit)(?:angaben|en)?(?:\s+(?:sind|gelten))?"
        rf"\s+(?:in|nach)\s+(?P<z>{_WORD}){_END}",
        rf"\b(?:angaben|zeiten)\s+(?P<z>{_WORD})\s*(?:zeit|sommerzeit)\b",
    )
]
# "(UTC)", "(heure de Paris)" as a label of a heading or a note, not after a clock.
_LABEL_RE = re.compile(r"\(\s*(?P<z>[a-z][a-z .-]{0,30})\s*\)")
_STATEMENT_HINT_RE = re.compile(r"time|heure|horaire|zeit|\(", re.IGNORECASE)
# The hint without IGNORECASE (which makes it scan some 5 times slower), on the lowered text:
# it finds every text the hint finds ("I" lowers to "i", "İ" to "i" and a combining dot, "ı"
# stays) and a few more, which the hint then judges.
_LOWERED_HINT_RE = re.compile(
    "t(?:i\u0307?|\u0131)me|heure|hora(?:i\u0307?|\u0131)re|ze(?:i\u0307?|\u0131)t|\\("
)
MAX_STATEMENT = 160  # a statement is a short note or label, not a paragraph
_COMBINING_RE = re.compile("[\u0300-\u036f]")
_LEADING_RE = re.compile(r"^(?:the|la|le|les|l'|der|die|das|en|in)\s+")
# Starts where a run of spaces starts: from inside a long run `\s+` would rescan it (quadratic).
_TRAILING_RE = re.compile(
    r"(?<!\s)\s+(?:time|times|zeit|sommerzeit|standard|summer|heure|ortszeit)$"
)


def fold(text: str) -> str:
    """Lowercase without accents, spaces collapsed (the form the rules above read)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_COMBINING_RE.sub("", text).split())


@cache
def _cities() -> dict[str, str]:
    """IANA city names ("kyiv", "new york", "buenos aires") → their zone."""
    out: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "US/")):
            continue
        out.setdefault(name.rsplit("/", 1)[1].replace("_", " ").lower(), name)
    return out


def zone_named(words: str) -> str | None:
    """The IANA zone a zone word, an adjective or a place names ("UK", "BST", "Kyiv")."""
    words = fold(words).strip(" .-'")
    for _ in range(3):
        if words in _LOCAL:
            return None
        found = _ZONE_WORDS.get(words) or _cities().get(words)
        if found:
            return found
        shorter = _TRAILING_RE.sub("", _LEADING_RE.sub("", words)).strip()
        if shorter == words:
            break
        words = shorter
    return None


def may_state_zone(text: str) -> bool:
    """A cheap first look: could this text be a zone statement?"""
    return len(text) <= MAX_STATEMENT and _hinted(text)


def _hinted(text: str) -> bool:
    return (
        _LOWERED_HINT_RE.search(text.lower()) is not None
        and _STATEMENT_HINT_RE.search(text) is not None
    )


def statement_zone(text: str) -> tuple[str, str] | None:
    """(zone, the statement) when a short text says which zone the page's times are in."""
    if not text or len(text) > MAX_STATEMENT or not _hinted(text):
        return None
    folded = fold(text)
    for regex in _STATEMENTS:
        for m in regex.finditer(folded):
            if has_clock(folded[: m.start("z")][-12:]):
                continue  # "at 9pm UK time": the zone of one clock, said by its stamp
            found = zone_named(m["z"])
            if found:
                return found, " ".join(text.split())
    for m in _LABEL_RE.finditer(folded):
        before = folded[: m.start()].rstrip()
        if before and has_clock(before[-12:]):
            continue  # "19:02 (IST)": a stamp's own zone
        inner = m["z"].strip()
        inner = re.sub(r"^(?:heures?|times?|horaires?)\s+(?:de\s+|d'|in\s+)?", "", inner)
        found = zone_named(inner) if len(inner) <= 20 else None
        if found:
            return found, " ".join(text.split())
    return None


_GENERIC_TLDS = frozenset("com net org info biz io co me tv fm news app eu int online".split())  # noqa: SIM905


def domain_zone(host: str) -> tuple[str, str] | None:
    """(zone, country code) of a host's ccTLD when its country has one zone."""
    host = host.lower().rstrip(".")
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    if tld in _GENERIC_TLDS or tld not in CCTLD_ZONES:
        return None
    return CCTLD_ZONES[tld], tld


def language_zone(tag: str) -> str | None:
    """The zone of a language tag: its region ("en-GB", "fr_FR"), else the language if it is
    spoken in one zone ("de", "fr"); None for "en", "es", "pt", "en-US", ..."""
    parts = tag.strip().replace("_", "-").lower().split("-")
    if not parts or not parts[0]:
        return None
    region = next((p for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if region is not None:
        return CCTLD_ZONES.get(region)
    return LANGUAGE_ZONES.get(parts[0])
