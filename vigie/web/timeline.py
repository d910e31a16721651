"""The timeline's data: the newest updates of some sources, one row per story.

A story's row is its earliest member (by published time, else first seen, as
`find_updates(collapse=True)` picks it), at that member's place in the newest-first
order; the later copies are folded into it (`copies`, and their sources in `sources`).
The library's own collapse ranks every story of the store before paging (seconds at a
million updates); here the newest rows are read by the time index, a page at a time, and
only the stories of those rows are looked up. The same rows feed the page, its JSON twin
(`/?format=json`) and the live updates (vigie/web/live.py), which render one story's row
again when a member arrives or changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.changes import Change
from storage.cursors import encode_cursor
from storage.filters import UpdateFilter
from storage.queries import find_updates
from storage.story_views import story_members
from vigie.output import plain

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_READS = 8  # pages of rows read to fill one page of stories, at most


@dataclass(slots=True)
class Timeline:
    rows: list[dict[str, Any]]  # JSON-ready, newest first, each with `copies` and `sources`
    next_cursor: str | None


def _with_copies(row: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    copies = [plain(m) for m in members if m["id"] != row["id"]]
    return plain(row) | {"copies": copies, "sources": sorted({c["source"] for c in copies})}


def timeline(
    session: Session,
    sources: Sequence[str] = (),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Timeline:
    """A page of the timeline of `sources` (all when empty), after `cursor`."""
    limit = max(1, min(limit, MAX_LIMIT))
    shown: list[dict[str, Any]] = []
    members: dict[int, list[dict[str, Any]]] = {}
    f = UpdateFilter(sources=sources, cursor=cursor, limit=limit + 1)
    after: str | None = None
    for _ in range(MAX_READS):
        page = find_updates(session, f)
        wanted = {r["story"] for r in page.rows if r["story"] is not None} - members.keys()
        members.update(story_members(session, sorted(wanted), sources))
        for row in page.rows:
            group = members.get(row["story"], []) if row["story"] is not None else []
            if group and group[0]["id"] != row["id"]:
                continue  # a later copy: it is shown in its story's row
            shown.append(_with_copies(row, group))
            if len(shown) > limit:
                break
        after = page.next_cursor
        if len(shown) > limit or after is None:
            break
        f.cursor, f.limit = after, 2 * limit
    if len(shown) > limit:
        shown = shown[:limit]
        last = shown[-1]
        when = datetime.fromisoformat(last["published_at"] or last["first_seen_at"])
        after = encode_cursor("newest", when, last["id"])
    return Timeline(shown, after)


def rows_for_changes(
    session: Session, changes: Iterable[Change], sources: Sequence[str] = ()
) -> list[tuple[Change, dict[str, Any]]]:
    """For each change of a source in `sources` (all when empty), the timeline row it
    alters: its story's row (the earliest member), or its own."""
    relevant = [c for c in changes if not sources or c.source in sources]
    stories = sorted({c.story for c in relevant if c.story is not None})
    members = story_members(session, stories, sources) if stories else {}
    heads: dict[Change, int] = {}
    for c in relevant:
        group = members.get(c.story, []) if c.story is not None else []
        heads[c] = group[0]["id"] if group else c.update_id
    ids = sorted(set(heads.values()))
    rows = {}
    if ids:
        found = find_updates(session, UpdateFilter(ids=ids, sources=sources, limit=None))
        rows = {r["id"]: r for r in found.rows}
    out = []
    for c in relevant:
        row = rows.get(heads[c])
        if row is not None:
            group = members.get(row["story"], []) if row["story"] is not None else []
            out.append((c, _with_copies(row, group)))
    return out
