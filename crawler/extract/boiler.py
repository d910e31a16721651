"""Lines of a live blog that are no post text: promos, zone notes, credits and day lines.

Owns telling, from its text alone, a paragraph an editor did not write for the post: a
newsletter or app promo ("Sign up to our free newsletter", "Inscrivez-vous à notre
newsletter", "Jetzt den Newsletter abonnieren"), a note on the times ("All times are UK"),
a credit line ("With agency material", "Reuters contributed to this report", "Avec AFP",
"Mit Material von dpa") and a day line ("Montag, 26. August"). Bodies lose them (`clean`);
the detector does not count them as posts. Every rule reads short texts only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from crawler.dates import MONTHS, has_clock, stamp_parts
from crawler.extract.zone_clues import fold, statement_zone

MAX_LINE = 300  # a promo or a credit is a short paragraph; longer ones are post text
_PROMO_START_RE = re.compile(
    r"^(?:\W*)(?:sign up|signup|subscribe|get (?:our|the)|join (?:our|us)|download (?:our|the)"
    r"|follow (?:us|our)|want (?:more|the latest)|never miss|receive|inscrivez-vous|abonnez-vous"
    r"|recevez|telechargez|suivez(?:-nous| notre)|retrouvez|jetzt|abonnieren sie|melden sie sich"
    r"|laden sie|folgen sie|hol dir|holen sie sich|suscribete|descarga|iscriviti)\b"
)
_PROMO_NOUN_RE = re.compile(
    r"newsletter|app\b|appli|alert|notification|podcast|whatsapp|telegram|push|e-?mail|inbox"
    r"|briefing|abonnement|abo\b|boletin|courriel"
)
_NEWSLETTER_RE = re.compile(r"newsletter|briefing|boletin")
_SIGNUP_RE = re.compile(
    r"sign up|subscribe|inscri|abonn|anmeld|registr|suscr|iscri|receive|recevoir|erhalten"
)
_CREDIT_RE = re.compile(
    r"^\W*(?:with (?:agency material|agencies|reporting (?:by|from)|additional reporting|wires?"
    r"|afp|ap|reuters|pa|dpa)|additional reporting (?:by|from)|reporting by .{1,80}editing by"
    r"|(?:[\w.'’ -]{1,60}) contributed (?:to )?(?:this|the) (?:report|story|article)"
    r"|this (?:story|article|report) (?:includes|contains|was compiled with)"
    r"|avec (?:afp|ap|reuters|agences?|l'afp|ats|belga)|(?:source|sources)\s*:\s*(?:afp|reuters)"
    r"|mit (?:material|informationen|agenturmaterial|inhalten) (?:von|der|aus|des)"
    r"|mit agenturmaterial|mit material|quellen?\s*:\s*(?:dpa|afp|ap|reuters)"
    r"|(?:con|con informacion de) (?:efe|afp|agencias)|(?:fonte|fonti)\s*:)"
)
_WEEKDAYS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday lundi mardi mercredi jeudi
    vendredi samedi dimanche montag dienstag mittwoch donnerstag freitag samstag sonntag
    sonnabend lunes martes miercoles jueves viernes sabado domingo today yesterday
    aujourd hui hier heute gestern""".split()  # noqa: SIM905
)
_FILLER = frozenset("le la the on am den der de du vom el il".split())  # noqa: SIM905


def is_promo(text: str) -> bool:
    """A newsletter, app or social promo."""
    if not text or len(text) > MAX_LINE:
        return False
    folded = fold(text)
    if _PROMO_START_RE.match(folded) and _PROMO_NOUN_RE.search(folded):
        return True
    return bool(_NEWSLETTER_RE.search(folded) and _SIGNUP_RE.search(folded))


def is_credit(text: str) -> bool:
    """A credit line: agency material, "contributed to this report", "Avec AFP"."""
    if not text or len(text) > 200:
        return False
    return _CREDIT_RE.match(fold(text).strip("()[]*_ ")) is not None


def date_line(text: str, year: int = 2000) -> date | None:
    """The day a short line is, when it holds nothing but a date and maybe a weekday (`year`
    for a line that prints none)."""
    if not text or len(text) > 40 or has_clock(text):
        return None
    day, _ = stamp_parts(text, year)
    if day is None:
        return None
    words = re.findall(r"[^\W\d_]+", fold(text))
    rest = [w for w in words if w not in _WEEKDAYS and w not in _FILLER and w not in MONTHS]
    return day if not rest else None


def is_boilerplate(text: str) -> bool:
    """A promo, a note on the times, a credit line or a day line."""
    return (
        is_promo(text)
        or is_credit(text)
        or statement_zone(text) is not None
        or date_line(text) is not None
    )


def clean(paragraphs: Iterable[str]) -> list[str]:
    """The paragraphs of a body without its boilerplate lines."""
    return [p for p in paragraphs if not is_boilerplate(p)]
