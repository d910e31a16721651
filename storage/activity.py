"""How many updates each source brought in per hour: arrivals (first_seen_at) counted by
clock hour in UTC, read from `ix_updates_first_seen` alone (migration 0005)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from storage.models import Source, Update

MAX_HOURS = 24 * 31


def hour_start(when: datetime) -> datetime:
    """The start of the clock hour (UTC) that holds `when`."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def arrivals_per_hour(
    session: Session,
    hours: int = 24,
    *,
    now: datetime | None = None,
    names: Sequence[str] | None = None,
) -> tuple[datetime, dict[str, list[int]]]:
    """(the start of the first hour, {source name: `hours` counts, oldest first}): the
    updates first seen in each clock hour (UTC), the last one being the current hour.
    Every stored source (or every one of `names`) is in the answer, zeros included."""
    if not 1 <= hours <= MAX_HOURS:
        raise ValueError(f"hours: from 1 to {MAX_HOURS}, got {hours}")
    start = hour_start(now or datetime.now(UTC)) - timedelta(hours=hours - 1)
    if session.get_bind().dialect.name == "postgresql":
        hour = func.to_char(
            Update.first_seen_at.op("AT TIME ZONE")(literal_column("'UTC'")), "YYYY-MM-DD HH24"
        )
    else:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        hour = func.substr(Update.first_seen_at, 1, 13)
    found = session.execute(
        select(Update.source_id, hour.label("hour"), func.count())
        .where(Update.first_seen_at >= start)
        .group_by(Update.source_id, hour)
    ).all()
    slots = {(start + timedelta(hours=i)).strftime("%Y-%m-%d %H"): i for i in range(hours)}
    stmt = select(Source.id, Source.name)
    if names is not None:
        stmt = stmt.where(Source.name.in_(list(names)))
    by_id = dict(session.execute(stmt).all())
    counts = {name: [0] * hours for name in by_id.values()}
    for source_id, when, count in found:
        name = by_id.get(source_id)
        slot = slots.get(when)
        if name is not None and slot is not None:  # a clock ahead of ours: not counted
            counts[name][slot] += count
    return start, counts
