"""The text of an alert: one event, or a digest of several, as a title, a plain-text body
readable on a phone, and the webhook's JSON payload.

Posts are hostile text: what goes into a message is plain text only (control and
bidirectional-override characters dropped, whitespace folded, every piece cut to a bound),
never markup; apprise is told the body is text, so it escapes it for channels that read
HTML or Markdown. A message says: the watch, the source, the time in the source's zone,
the headline or first words, the word diff of an edit, and the post's link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from typing import Any
from zoneinfo import ZoneInfo

from storage.alert_deliveries import EventView
from storage.clean import clean_text

TITLE_CHARS = 200
HEADLINE_CHARS = 200
EXCERPT_CHARS = 280
DIFF_CHARS = 600
BODY_CHARS = 3_500
DIGEST_LINES = 20
DIFF_INPUT_CHARS = 20_000  # of each text, for the diff: bounded time on a huge post
DIFF_CONTEXT = 4  # words around a change
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
HEALTH_TITLES = {
    "failing": "stopped answering",
    "empty": "posts disappeared (page structure changed?)",
    "recovered": "recovered",
    "gone": "is gone (HTTP 410): no longer polled",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str
    payload: dict[str, Any]

    def payload_json(self) -> str:
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"))


def plain(text: str | None, limit: int) -> str:
    """One line of plain text at most `limit` characters long (an ellipsis when cut)."""
    flat = _SPACES.sub(" ", _INVISIBLE.sub("", clean_text(text or ""))).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def local_time(when: datetime | None, zone: str | None) -> str:
    if when is None:
        return "time unknown"
    tz = ZoneInfo(zone) if zone else UTC
    local = when.astimezone(tz)
    return f"{local:%H:%M} {zone or 'UTC'} ({local:%a %d %b})"


def _what(e: EventView) -> str:
    """The headline, else the first words of the body."""
    return plain(e.headline, HEADLINE_CHARS) or plain(e.body, HEADLINE_CHARS) or "(no text)"


def word_changes(old: str, new: str, limit: int = DIFF_CHARS) -> str:
    """The changed words only, with a few words around each: `… a [-b-] {+c+} d …`."""
    a = _WORD.findall(old[:DIFF_INPUT_CHARS])
    b = _WORD.findall(new[:DIFF_INPUT_CHARS])
    pieces: list[str] = []
    ops = SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(DIFF_CONTEXT)
    for group in ops:
        words: list[str] = []
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                words += b[j1:j2]
                continue
            if i2 > i1:
                words.append("[-" + " ".join(a[i1:i2]) + "-]")
            if j2 > j1:
                words.append("{+" + " ".join(b[j1:j2]) + "+}")
        pieces.append(" ".join(words))
    return plain(" … ".join(pieces), limit) or "(no visible change)"


def _link(e: EventView, link_base: str | None) -> list[str]:
    lines = []
    if e.url:
        lines.append(plain(e.url, 500))
    if link_base and e.update_id is not None:
        lines.append(f"{link_base.rstrip('/')}/updates/{e.update_id}")
    return lines


def _event_json(e: EventView, zone: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": e.key,
        "kind": e.kind,
        "source": e.source,
        "update_id": e.update_id,
        "revision": e.revision,
        "url": e.url,
        "headline": e.headline[:2000],
        "body": e.body[:5000],
        "published_at": e.published_at.isoformat() if e.published_at else None,
        "timezone": zone,
    }
    if e.previous is not None:
        out["previous"] = {"headline": e.previous[0][:2000], "body": e.previous[1][:5000]}
    if e.detail:
        out["detail"] = e.detail[:500]
    return out


def render(
    events: Sequence[EventView],
    zones: dict[str, str],
    *,
    link_base: str | None = None,
    window: float | None = None,
) -> Rendered:
    """The message of one event, or the digest of several."""
    first = events[0]
    watch = first.watch
    if len(events) == 1 and first.batch is None:
        title, lines = _one(first, zones.get(first.source), link_base)
    else:
        title, lines = _digest(events, zones, link_base, window)
    title = plain(title, TITLE_CHARS)
    body = "\n".join(lines)
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1] + "…"
    payload = {
        "vigie": 1,
        "watch": watch,
        "key": message_key(events),
        "title": title,
        "text": body,
        "events": [_event_json(e, zones.get(e.source)) for e in events],
    }
    return Rendered(title, body, payload)


def _one(e: EventView, zone: str | None, link_base: str | None) -> tuple[str, list[str]]:
    source = plain(e.source, 64)
    if e.kind in HEALTH_TITLES:
        title = f"[{e.watch}] {source}: {HEALTH_TITLES[e.kind]}"
        lines = [f"{source} {HEALTH_TITLES[e.kind]}", local_time(e.created_at, zone)]
        if e.detail:
            lines.append(plain(e.detail, EXCERPT_CHARS))
        return title, lines
    what = _what(e)
    when = local_time(e.published_at or e.created_at, zone)
    if e.kind == "edited":
        title = f"[{e.watch}] edited · {source}: {what}"
        lines = [f"Edited (revision {e.revision}) · {source} · {when}", what]
        if e.previous is not None:
            old = f"{e.previous[0]} {e.previous[1]}"
            lines.append(word_changes(old, f"{e.headline} {e.body}"))
    else:
        title = f"[{e.watch}] {source}: {what}"
        lines = [f"{source} · {when}", what]
        if e.kind == "highlighted":
            lines[0] += " · now a key moment"
        excerpt = plain(e.body, EXCERPT_CHARS)
        if excerpt and excerpt != what:
            lines.append(excerpt)
    return title, lines + _link(e, link_base)


def _digest(
    events: Sequence[EventView],
    zones: dict[str, str],
    link_base: str | None,
    window: float | None,
) -> tuple[str, list[str]]:
    watch = events[0].watch
    sources = sorted({e.source for e in events})
    where = plain(", ".join(sources), 120)
    n = len(events)
    noun = "update" if n == 1 else "updates"
    if events[0].batch == "digest":
        span = f" in {_span(window)}" if window else ""
        head = f"{n} {noun}{span} · {where}"
    else:
        head = f"{n} {noun} in one poll · {where}"
    lines = [head]
    for e in events[:DIGEST_LINES]:
        zone = zones.get(e.source)
        when = (e.published_at or e.created_at).astimezone(ZoneInfo(zone) if zone else UTC)
        mark = "edited: " if e.kind == "edited" else ""
        lines.append(f"- {when:%H:%M} {plain(e.source, 40)}: {mark}{plain(_what(e), 120)}")
        lines += [f"  {link}" for link in _link(e, link_base)[:1]]
    if n > DIGEST_LINES:
        lines.append(f"… and {n - DIGEST_LINES} more")
    return f"[{watch}] {head}", lines


def _span(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def message_key(events: Sequence[EventView]) -> str:
    """The idempotency key of a message: its event's key, or for a digest the watch and
    the ids of its first and last events (stable: a message is made once, then resent
    as it is)."""
    if len(events) == 1 and events[0].batch is None:
        return events[0].key
    ids = [e.id for e in events]
    return f"{events[0].watch}:digest:e{min(ids)}-e{max(ids)}:n{len(ids)}"


def trial_message(watch: str, label: str, now: datetime, key: str) -> Rendered:
    """What `vigie alerts test` sends (its key is the test's own: never an event's)."""
    title = f"[{watch}] test message from vigie"
    body = f"A test of the watch {watch!r} through {label}, sent {now:%Y-%m-%d %H:%M:%S} UTC."
    payload = {
        "vigie": 1,
        "watch": watch,
        "key": key,
        "title": title,
        "text": body,
        "events": [],
        "test": True,
    }
    return Rendered(title, body, payload)
