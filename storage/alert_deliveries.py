"""The sender's side of the outbox: events packed into messages, messages into one
delivery per channel, deliveries claimed, acknowledged or retried (what `vigie alerts`
and the API read of them: storage/alert_history.py).

Every step is its own short transaction, committed before anything leaves: a message is
written (with its idempotency key and its deliveries) before its first attempt, so a
restart resends the same message with the same key, and a delivery a channel acknowledged
is marked sent before the next is claimed. A claim names its sender and lasts until a time,
so two senders on one database never hold one delivery at once; a sender that stops
frees its claims, and one killed mid-send has them freed by the next (a dead process of
this host) or by time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import AlertDelivery, AlertEvent, AlertMessage, Revision, Source, Update

PACK_LIMIT = 2_000  # events read per packing round
DIGEST_MAX = 500  # events in one digest message at most (the rest make the next one)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event with what its message tells: the update, its source, its previous text."""

    id: int
    watch: str
    kind: str
    key: str
    batch: str | None
    source: str
    update_id: int | None
    revision: int | None
    url: str | None
    headline: str
    body: str
    published_at: datetime | None
    previous: tuple[str, str] | None  # the headline and body before an edit
    detail: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """A claimed delivery: one message to one channel."""

    id: int
    channel: str
    watch: str
    key: str
    title: str
    body: str
    payload: str
    attempts: int  # before this one
    first_at: datetime  # when the message was made


class PackConflict(Exception):
    """Another sender packed some of these events first: this round's packing is undone."""


def _views(session: Session, where: Sequence[Any], limit: int) -> list[EventView]:
    """Events not yet in a message (the oldest first), with what their messages tell."""
    E = AlertEvent.__table__.c
    U = Update.__table__.c
    S = Source.__table__.c
    rows = session.execute(
        select(
            E.id,
            E.watch,
            E.kind,
            E.key,
            E.batch,
            S.name,
            E.update_id,
            E.revision,
            U.url,
            U.headline,
            U.body,
            U.published_at,
            E.detail,
            E.created_at,
        )
        .join(Source.__table__, S.id == E.source_id)
        .outerjoin(Update.__table__, U.id == E.update_id)
        .where(E.message_id.is_(None), *where)
        .order_by(E.id)
        .limit(limit)
    ).all()
    edits = [(r.update_id, r.revision) for r in rows if r.kind == "edited"]
    previous = _previous_texts(session, edits)
    return [
        EventView(
            id=r.id,
            watch=r.watch,
            kind=r.kind,
            key=r.key,
            batch=r.batch,
            source=r.name,
            update_id=r.update_id,
            revision=r.revision,
            url=r.url,
            headline=r.headline or "",
            body=r.body or "",
            published_at=r.published_at,
            previous=previous.get((r.update_id, r.revision)) if r.kind == "edited" else None,
            detail=r.detail,
            created_at=r.created_at,
        )
        for r in rows
    ]


def ready_groups(
    session: Session, windows: Mapping[str, float], now: datetime
) -> list[list[EventView]]:
    """Events not yet in a message, as the messages to make of them: an event alone, the
    events of one poll's batch, or a digest watch's events once its window has passed
    since the oldest of them (`windows`: watch -> seconds). Digests still gathering are
    not read, however many events they hold: they never hold up the other events."""
    E = AlertEvent.__table__.c
    views = _views(session, [or_(E.batch.is_(None), E.batch != "digest")], PACK_LIMIT)
    gathering = (
        select(E.watch, func.min(E.created_at), func.count())
        .where(E.message_id.is_(None), E.batch == "digest")
        .group_by(E.watch)
    )
    for watch, oldest, count in session.execute(gathering).all():
        due = oldest + timedelta(seconds=windows.get(watch, 0.0)) <= now
        if due or count >= DIGEST_MAX:
            views += _views(session, [E.batch == "digest", E.watch == watch], DIGEST_MAX)
    groups: dict[tuple[str, str], list[EventView]] = {}
    ready: list[list[EventView]] = []
    for view in views:
        if view.batch is None:
            ready.append([view])
        else:
            groups.setdefault((view.watch, view.batch), []).append(view)
    for batch in groups.values():
        ready += [batch[i : i + DIGEST_MAX] for i in range(0, len(batch), DIGEST_MAX)]
    ready.sort(key=lambda g: g[0].id)
    return ready


def _previous_texts(
    session: Session, edits: Sequence[tuple[int | None, int | None]]
) -> dict[tuple[int, int], tuple[str, str]]:
    """The text an edit replaced: revision n-1 of each (update, revision n)."""
    wanted = {(u, r - 1) for u, r in edits if u is not None and r is not None and r > 1}
    if not wanted:
        return {}
    R = Revision.__table__.c
    found: dict[tuple[int, int], tuple[str, str]] = {}
    ids = sorted({u for u, _ in wanted})
    for i in range(0, len(ids), 500):
        for uid, number, headline, body in session.execute(
            select(R.update_id, R.number, R.headline, R.body).where(
                R.update_id.in_(ids[i : i + 500])
            )
        ):
            if (uid, number) in wanted:
                found[(uid, number + 1)] = (headline, body)
    return found


def add_message(
    session: Session,
    events: Sequence[EventView],
    *,
    key: str,
    title: str,
    body: str,
    payload: str,
    channels: Iterable[tuple[str, str]],
    now: datetime,
) -> int:
    """A message made of `events`, and its pending delivery to each (channel id, label);
    raises PackConflict when another sender took one of the events first."""
    message = AlertMessage(
        watch=events[0].watch,
        key=key,
        title=title,
        body=body,
        payload=payload,
        events=len(events),
        created_at=now,
    )
    session.add(message)
    session.flush()
    E = AlertEvent.__table__.c
    taken = session.execute(
        update(AlertEvent.__table__)
        .where(E.id.in_([e.id for e in events]), E.message_id.is_(None))
        .values(message_id=message.id)
    ).rowcount
    if taken != len(events):
        raise PackConflict(key)
    rows = [
        {
            "message_id": message.id,
            "channel": channel,
            "label": label,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel, label in dict(channels).items()
    ]
    if rows:
        session.execute(AlertDelivery.__table__.insert(), rows)
    return message.id


def due_deliveries(
    session: Session,
    now: datetime,
    *,
    busy: Iterable[str] = (),
    only: Sequence[str] | None = None,
) -> list[DeliveryJob]:
    """The oldest pending delivery of each channel not `busy` (of the channels `only`,
    when given), when it is due and nobody holds it (one at a time per channel: a channel
    receives its messages in order, and one with a backlog of thousands costs the others
    nothing). A read: `claim` takes them."""
    D = AlertDelivery.__table__.c
    M = AlertMessage.__table__.c
    skip = set(busy)
    pending = select(D.channel, func.min(D.id)).where(D.status == "pending")
    if only is not None:
        pending = pending.where(D.channel.in_(list(only)))
    firsts = [
        first
        for channel, first in session.execute(pending.group_by(D.channel))
        if channel not in skip
    ]
    if not firsts:
        return []
    rows = session.execute(
        select(
            D.id,
            D.channel,
            D.next_attempt_at,
            D.claimed_until,
            M.watch,
            M.key,
            M.title,
            M.body,
            M.payload,
            D.attempts,
            M.created_at,
        )
        .join(AlertMessage.__table__, M.id == D.message_id)
        .where(D.id.in_(firsts))
        .order_by(D.id)
    ).all()
    return [
        DeliveryJob(
            r.id,
            r.channel,
            r.watch,
            r.key,
            r.title,
            r.body,
            r.payload,
            r.attempts,
            r.created_at,
        )
        for r in rows
        if r.next_attempt_at <= now and (r.claimed_until is None or r.claimed_until < now)
    ]


def claim(
    session: Session, jobs: Sequence[DeliveryJob], owner: str, until: datetime, now: datetime
) -> list[DeliveryJob]:
    """The jobs this sender now holds until `until` (others took the rest first)."""
    D = AlertDelivery.__table__.c
    held = []
    for job in jobs:
        taken = session.execute(
            update(AlertDelivery.__table__)
            .where(
                D.id == job.id,
                D.status == "pending",
                or_(D.claimed_until.is_(None), D.claimed_until < now),
            )
            .values(claimed_until=until, claimed_by=owner)
        ).rowcount
        if taken:
            held.append(job)
    return held


def release_claims(session: Session, owner: str) -> int:
    """Free what a sender holds (it stops: what it did not finish goes to the next)."""
    D = AlertDelivery.__table__.c
    return int(
        session.execute(
            update(AlertDelivery.__table__)
            .where(D.claimed_by == owner, D.status == "pending")
            .values(claimed_until=None, claimed_by=None)
        ).rowcount
    )


def release_dead_claims(session: Session, alive: Callable[[str], bool]) -> int:
    """Free the claims of senders that are gone (`alive(owner)` False): what a killed
    sender held is sent again at once by the next, not once its claim expires."""
    D = AlertDelivery.__table__.c
    owners = session.execute(
        select(D.claimed_by).where(D.status == "pending", D.claimed_by.is_not(None)).distinct()
    ).scalars()
    freed = 0
    for owner in [o for o in owners if not alive(o)]:
        freed += release_claims(session, owner)
    return freed


def record_sent(session: Session, delivery_id: int, now: datetime) -> None:
    D = AlertDelivery.__table__.c
    session.execute(
        update(AlertDelivery.__table__)
        .where(D.id == delivery_id)
        .values(
            status="sent",
            sent_at=now,
            attempts=D.attempts + 1,
            claimed_until=None,
            claimed_by=None,
            last_error=None,
        )
    )


def record_failure(
    session: Session, delivery_id: int, error: str, retry_at: datetime | None
) -> None:
    """A failed attempt: retried at `retry_at`, or given up (failed) when None."""
    D = AlertDelivery.__table__.c
    values: dict[str, Any] = {
        "attempts": D.attempts + 1,
        "claimed_until": None,
        "claimed_by": None,
        "last_error": error[:1000],
    }
    if retry_at is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = retry_at
    session.execute(update(AlertDelivery.__table__).where(D.id == delivery_id).values(values))


def drop_channels(session: Session, keep: Iterable[str], reason: str) -> int:
    """Pending deliveries to channels no longer configured: failed, saying why."""
    D = AlertDelivery.__table__.c
    return int(
        session.execute(
            update(AlertDelivery.__table__)
            .where(D.status == "pending", D.channel.not_in(list(keep)))
            .values(status="failed", last_error=reason, claimed_until=None, claimed_by=None)
        ).rowcount
    )
