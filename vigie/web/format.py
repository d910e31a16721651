"""How the pages show values: times (UTC in the markup, the source's zone on hover),
durations, a post's title or first words, paragraphs, links that may be followed, and
the hourly bars of a source. Functions of data to text or to plain pieces; the
templates call them and escape what they give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TITLE_CHARS = 120
CHART_WIDTH, CHART_HEIGHT = 240, 40  # the SVG's user units


def parse_iso(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def utc(value: str | datetime | None) -> str:
    """The machine-readable time of a <time datetime>: ISO 8601 in UTC."""
    when = parse_iso(value)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else ""


def shown_time(value: str | datetime | None, zone: str = "UTC") -> str:
    """A time for people in a zone: 2026-02-10 08:10 CET. The page's script rewrites
    it in the reader's own zone."""
    when = parse_iso(value)
    if when is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone}"


def duration(seconds: float | None) -> str:
    """30 s, 2 min, 1 h 30 min, 2 d."""
    if seconds is None:
        return ""
    s = round(seconds)
    if s < 90:
        return f"{s} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{round(hours / 24)} d"


def first_words(text: str, limit: int = TITLE_CHARS) -> str:
    """The start of a text on one line, cut at a space, with … when cut."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit)
    return line[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


def title(row: dict[str, Any]) -> str:
    """A post's headline, else how its text starts (closing posts often have none)."""
    headline = " ".join((row.get("headline") or "").split())
    return headline or first_words(row.get("body") or row.get("lead") or "")


def paragraphs(body: str) -> list[str]:
    """A body's paragraphs (separated by blank lines in the store)."""
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def lines(paragraph: str) -> list[str]:
    return paragraph.split("\n")


def http_link(url: str | None) -> str | None:
    """The URL when a browser may follow it (http or https with a host), else None:
    javascript:, data: and the like are shown as text, never linked."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return url.strip()
    return None


def bars(counts: list[int]) -> list[dict[str, float | int]]:
    """The bars of an hourly chart in the SVG's units: x, y, width, height, count."""
    if not counts:
        return []
    top = max(max(counts), 1)
    step = CHART_WIDTH / len(counts)
    out = []
    for i, n in enumerate(counts):
        height = 0.0 if n == 0 else max(2.0, CHART_HEIGHT * n / top)
        out.append(
            {
                "x": round(i * step + 0.5, 2),
                "y": round(CHART_HEIGHT - height, 2),
                "width": round(step - 1, 2),
                "height": round(height, 2),
                "n": n,
                "i": i,
            }
        )
    return out


FILTERS = {
    "utc": utc,
    "shown_time": shown_time,
    "duration": duration,
    "first_words": first_words,
    "title": title,
    "paragraphs": paragraphs,
    "lines": lines,
    "http_link": http_link,
}
GLOBALS = {"bars": bars, "chart_size": (CHART_WIDTH, CHART_HEIGHT)}
