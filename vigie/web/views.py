"""The data of each page, the same that its JSON twin answers: one update with its
revisions, a story's copies, the sources with their health and hourly arrivals. The
pages add what is only for reading (who had a story first, each revision's word diff,
a status in words), computed here too; the templates only lay it out."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.activity import arrivals_per_hour
from storage.filters import MAX_LIMIT, UpdateFilter
from storage.queries import get_update, list_updates
from storage.sources import sources_overview
from vigie.config import Config
from vigie.diff import word_diff_parts
from vigie.output import iso, plain
from vigie.rows import history_with_diffs, source_rows

CHART_HOURS = 24


def zones(config: Config) -> dict[str, str]:
    """Each configured source's time zone (its `timezone`, else UTC)."""
    return {s.name: s.timezone or "UTC" for s in config.sources}


def update_detail(session: Session, update_id: int) -> dict[str, Any] | None:
    """`/updates/{id}`: the update, its revisions with word diffs, its sightings."""
    row = get_update(session, update_id)
    if row is None:
        return None
    row["history"] = [plain(r) for r in history_with_diffs(row["history"])]
    row["sightings"] = [plain(r) for r in row["sightings"]]
    return plain(row)


def revision_changes(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each revision after the first with the word diff of what it changed, for people:
    {"number", "seen_at", "updated_at", "parts": [(field, pieces)]}, newest first."""
    out = []
    for prev, rev in itertools.pairwise(history):
        parts = [
            (part, word_diff_parts(prev[part], rev[part]))
            for part in ("headline", "body")
            if prev[part] != rev[part]
        ]
        out.append(
            {
                "number": rev["number"],
                "seen_at": rev["seen_at"],
                "updated_at": rev["updated_at"],
                "parts": parts,
            }
        )
    return out[::-1]


def story_detail(session: Session, story_id: int) -> dict[str, Any] | None:
    """`/stories/{id}`: the copies of one news item across sources, newest first."""
    rows = list_updates(session, UpdateFilter(story=story_id, limit=MAX_LIMIT))
    if not rows:
        return None
    return {"story": story_id, "updates": [plain(r) for r in rows]}


def _when(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["published_at"] or row["first_seen_at"])


def story_copies(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The story's copies earliest first, each with `delay`: seconds after the first
    (by published time, else first seen), and `seen_delay`: after the first vigie saw."""
    copies = sorted(detail["updates"], key=lambda r: (_when(r), r["id"]))
    first = _when(copies[0])
    seen = min(datetime.fromisoformat(r["first_seen_at"]) for r in copies)
    return [
        r
        | {
            "delay": (_when(r) - first).total_seconds(),
            "seen_delay": (datetime.fromisoformat(r["first_seen_at"]) - seen).total_seconds(),
        }
        for r in copies
    ]


def sources_data(
    config: Config, session: Session, now: datetime | None = None
) -> list[dict[str, Any]]:
    """`/sources`: each configured source with its crawl state and `posts_per_hour`, the
    updates it brought in (first seen) in each of the last 24 clock hours (UTC): `from`,
    the start of the first hour, and `counts`, oldest first, the last being this hour."""
    names = [s.name for s in config.sources]
    states = sources_overview(session, names)
    start, counts = arrivals_per_hour(session, CHART_HOURS, now=now, names=names)
    rows = [plain(r) for r in source_rows(config, states)]
    for row in rows:
        row["posts_per_hour"] = {
            "from": iso(start),
            "counts": counts.get(row["name"], [0] * CHART_HOURS),
        }
    return rows


def source_status(row: dict[str, Any], now: datetime | None = None) -> str:
    """One word for a source's health: disabled, gone, ended, backoff, new (never
    polled), else the last poll's status (ok, not_modified, error)."""
    now = now or datetime.now(UTC)
    if not row["enabled"]:
        return "disabled"
    if row["gone"]:
        return "gone"
    if row["ended"]:
        return "ended"
    backoff = row.get("backoff_until")
    if backoff and datetime.fromisoformat(backoff) > now:
        return "backoff"
    return row["last_status"] or "new"


def chart(row: dict[str, Any]) -> dict[str, Any]:
    """A source's hourly arrivals for its chart: counts, their total, the busiest hour
    (UTC, as HH:00) and each bar's hour."""
    series = row["posts_per_hour"]
    counts = series["counts"]
    start = datetime.fromisoformat(series["from"])
    hours = [(start.hour + i) % 24 for i in range(len(counts))]
    peak = max(range(len(counts)), key=lambda i: (counts[i], i)) if counts else 0
    return {
        "counts": counts,
        "total": sum(counts),
        "hours": [f"{h:02d}:00" for h in hours],
        "peak": f"{hours[peak]:02d}:00" if counts and counts[peak] else None,
    }
