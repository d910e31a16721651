"""The store's change feed: every revision written after a given one, in id order.

A new update writes its revision 1; an edit writes revision n > 1: the revisions table
alone says what changed, and its integer ids say in what order. `vigie serve` reads this
to push new and edited updates to open pages (vigie/web/live.py). On PostgreSQL ids come
from a sequence and a transaction can commit after one that took a later id, so a reader
may see id 12 before id 11: callers remember the ids they skipped and ask for them again
(`also`) for a while.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.models import Revision, Source, Update

MAX_ALSO = 1000  # skipped ids asked for again, at most


@dataclass(frozen=True, slots=True)
class Change:
    """One revision written: a new update (number 1) or an edit of one (number > 1)."""

    revision_id: int
    update_id: int
    number: int
    source: str
    story: int | None  # the update's story now

    @property
    def new(self) -> bool:
        return self.number == 1


def latest_revision_id(session: Session) -> int:
    """The id of the newest revision (0 in an empty store): where a change feed starts."""
    return int(session.execute(select(func.max(Revision.id))).scalar() or 0)


def changes_after(
    session: Session, after: int, *, also: Sequence[int] = (), limit: int = 500
) -> list[Change]:
    """The revisions with an id above `after` (and those of `also`), oldest first, at most
    `limit` of them."""
    wanted = Revision.id > after
    if also:
        wanted = or_(wanted, Revision.id.in_(sorted(set(also))[:MAX_ALSO]))
    stmt = (
        select(Revision.id, Revision.update_id, Revision.number, Source.name, Update.story_id)
        .join(Update, Update.id == Revision.update_id)
        .join(Source, Source.id == Update.source_id)
        .where(wanted)
        .order_by(Revision.id)
        .limit(max(0, limit))
    )
    return [Change(*row) for row in session.execute(stmt)]
