"""Source leases: several workers sharing one database split the sources between them.

A worker polls a source only while it holds the source's lease (`lease_owner`,
`lease_until`). Claiming is one conditional UPDATE, atomic on SQLite and PostgreSQL: it
succeeds when the lease is free, expired, or already ours. A worker keeps the lease of the
sources it polls (renewed at every poll, up to its next run plus a grace period), so the
split is stable; a dead worker's sources are taken over once its leases expire.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import Source


def worker_id() -> str:
    """host:pid:random, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(session: Session, source_id: int, owner: str, until: datetime, now: datetime) -> bool:
    """Take or renew the lease of a source until `until`; False when another worker has it."""
    result = session.execute(
        update(Source)
        .where(
            Source.id == source_id,
            or_(
                Source.lease_owner.is_(None),
                Source.lease_owner == owner,
                Source.lease_until.is_(None),
                Source.lease_until < now,
            ),
        )
        .values(lease_owner=owner, lease_until=until)
    )
    return result.rowcount == 1


def holder(session: Session, source_id: int) -> tuple[str | None, datetime | None]:
    row = session.execute(
        select(Source.lease_owner, Source.lease_until).where(Source.id == source_id)
    ).one()
    return row[0], row[1]


def release_all(session: Session, owner: str) -> int:
    """Give up every lease of a worker (on a clean stop), so others take over at once."""
    result = session.execute(
        update(Source).where(Source.lease_owner == owner).values(lease_owner=None, lease_until=None)
    )
    return result.rowcount
