"""The members of stories (the copies of one news item across sources), many stories in
one query: what a page collapsed by story shows as "also in" and lays side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Source, Update

CHUNK = 500  # story ids per IN list
LEAD_CHARS = 300  # of each member's body: enough to show how an untitled copy starts


def story_members(
    session: Session, stories: Sequence[int], sources: Sequence[str] = ()
) -> dict[int, list[dict[str, Any]]]:
    """{story: its updates (of `sources` when given), earliest first}: by published time,
    else first seen, then id, as a collapsed list picks its row. Each member has id,
    source, url, headline, lead (the body's first LEAD_CHARS characters), published_at,
    first_seen_at, revisions and highlighted."""
    wanted = sorted({s for s in stories if s is not None})
    when = func.coalesce(Update.published_at, Update.first_seen_at)
    out: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), CHUNK):
        stmt = (
            select(
                Update.story_id.label("story"),
                Update.id,
                Source.name.label("source"),
                Update.url,
                Update.headline,
                func.substr(Update.body, 1, LEAD_CHARS).label("lead"),
                Update.published_at,
                Update.first_seen_at,
                Update.revisions,
                Update.highlighted,
            )
            .join(Source, Source.id == Update.source_id)
            .where(Update.story_id.in_(wanted[start : start + CHUNK]))
            .order_by(Update.story_id, when, Update.id)
        )
        if sources:
            stmt = stmt.where(Source.name.in_(list(sources)))
        for row in session.execute(stmt).mappings():
            member = dict(row)
            out.setdefault(member.pop("story"), []).append(member)
    return out
