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
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Update, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage.models import Source


def worker_id() -> str:
    """host:pid:random, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_SOURCES = Source.__table__
# Built once: every poll claims, and building the statement cost more than running it.
_CLAIMABLE = or_(
    _SOURCES.c.lease_owner.is_(None),
    _SOURCES.c.lease_owner == bindparam("owner"),
    _SOURCES.c.lease_until.is_(None),
    _SOURCES.c.lease_until < bindparam("now", type_=_SOURCES.c.lease_until.type),
)
_TAKE = {
    "lease_owner": bindparam("owner"),
    "lease_until": bindparam("until", type_=_SOURCES.c.lease_until.type),
}
_CLAIM = update(_SOURCES).where(_SOURCES.c.id == bindparam("source_id"), _CLAIMABLE).values(_TAKE)
_CLAIM_MANY = (
    update(_SOURCES)
    .where(_SOURCES.c.id.in_(bindparam("source_ids", expanding=True)), _CLAIMABLE)
    .values(_TAKE)
)


def claim(session: Session, source_id: int, owner: str, until: datetime, now: datetime) -> bool:
    """Take or renew the lease of a source until `until`; False when another worker has it."""
    params = {"source_id": source_id, "owner": owner, "until": until, "now": now}
    result = session.execute(_CLAIM, params)
    _expire(session, source_id)
    return result.rowcount == 1


@cache
def _claim_many_returning(columns: tuple[str, ...]) -> Update:
    return _CLAIM_MANY.returning(_SOURCES.c.id, *(_SOURCES.c[c] for c in columns))


def claim_many_reading(
    session: Session,
    source_ids: Sequence[int],
    owner: str,
    until: datetime,
    now: datetime,
    columns: tuple[str, ...],
) -> dict[int, Row[Any]]:
    """`claim` for several sources in one statement, reading their `columns` in it too
    (UPDATE ... RETURNING): source id -> its row, for the sources claimed (those another
    worker holds are left out)."""
    params = {"source_ids": list(source_ids), "owner": owner, "until": until, "now": now}
    rows = {row[0]: row for row in session.execute(_claim_many_returning(columns), params)}
    if session.identity_map:
        for source_id in source_ids:
            _expire(session, source_id)
    return rows


def _expire(session: Session, source_id: int) -> None:
    loaded = session.identity_map.get(identity_key(Source, source_id))
    if loaded is not None:  # a Source this session holds no longer says what the row says
        session.expire(loaded)


def holder(session: Session, source_id: int) -> tuple[str | None, datetime | None]:
    row = session.execute(
        select(Source.lease_owner, Source.lease_until).where(Source.id == source_id)
    ).one()
    return row[0], row[1]


def _alive_here(owner: str) -> bool:
    """Whether a worker id names a live process of this host (unknowable for other hosts)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_local(session: Session) -> int:
    """Free the leases of workers of this host that are gone (killed, crashed): a restart
    on the same machine takes its sources back at once instead of waiting for expiry."""
    owners = session.execute(
        select(Source.lease_owner).where(Source.lease_owner.is_not(None)).distinct()
    ).scalars()
    freed = 0
    for owner in list(owners):
        if not _alive_here(owner):
            freed += release_all(session, owner)
    return freed


def release_all(session: Session, owner: str) -> int:
    """Give up every lease of a worker (on a clean stop), so others take over at once."""
    result = session.execute(
        update(Source).where(Source.lease_owner == owner).values(lease_owner=None, lease_until=None)
    )
    return result.rowcount


def alive_here(owner: str) -> bool:
    """Whether a worker id may still be running: False only for a process of this host
    that is gone (other claims than leases, e.g. alert deliveries, ask it too)."""
    return _alive_here(owner)
