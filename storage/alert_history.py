"""What `vigie alerts` and the API read of the alerts: per watch, its messages, last
delivery sent, deliveries pending and failed; the history of messages with their
deliveries, newest first. Reads only (the sender's side is storage/alert_deliveries.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import AlertDelivery, AlertMessage


@dataclass(frozen=True, slots=True)
class WatchStats:
    messages: int = 0
    last_sent_at: datetime | None = None
    pending: int = 0
    failed: int = 0
    last_error: str | None = None


def watch_stats(session: Session) -> dict[str, WatchStats]:
    """Per watch: messages made, the last delivery sent, deliveries pending and failed."""
    D = AlertDelivery.__table__.c
    M = AlertMessage.__table__.c
    counts: dict[str, dict[str, Any]] = {}
    for watch, n in session.execute(select(M.watch, func.count()).group_by(M.watch)):
        counts.setdefault(watch, {})["messages"] = n
    for watch, status, n, last in session.execute(
        select(M.watch, D.status, func.count(), func.max(D.sent_at))
        .join(AlertMessage.__table__, M.id == D.message_id)
        .group_by(M.watch, D.status)
    ):
        c = counts.setdefault(watch, {})
        if status == "sent":
            c["last_sent_at"] = last
        elif status in ("pending", "failed"):
            c[status] = n
    errors = (
        select(M.watch, D.last_error, D.id)
        .join(AlertMessage.__table__, M.id == D.message_id)
        .where(D.last_error.is_not(None))
        .order_by(D.id.desc())
        .limit(1000)
    )
    for watch, error, _ in session.execute(errors):
        counts.setdefault(watch, {}).setdefault("last_error", error)
    return {w: WatchStats(**c) for w, c in counts.items()}


@dataclass(frozen=True, slots=True)
class HistoryRow:
    message_id: int
    watch: str
    key: str
    created_at: datetime
    title: str
    events: int
    channel: str | None
    status: str | None
    attempts: int
    sent_at: datetime | None
    last_error: str | None


def history(
    session: Session, *, watch: str | None = None, limit: int = 50, before: int | None = None
) -> list[HistoryRow]:
    """Messages newest first (at most `limit`, with ids below `before`), one row per
    delivery (a message without channels: one row without)."""
    M = AlertMessage.__table__.c
    D = AlertDelivery.__table__.c
    messages = select(M.id).order_by(M.id.desc()).limit(limit)
    if watch is not None:
        messages = messages.where(M.watch == watch)
    if before is not None:
        messages = messages.where(M.id < before)
    ids = list(session.execute(messages).scalars())
    if not ids:
        return []
    rows = session.execute(
        select(
            M.id,
            M.watch,
            M.key,
            M.created_at,
            M.title,
            M.events,
            D.label,
            D.status,
            D.attempts,
            D.sent_at,
            D.last_error,
        )
        .outerjoin(AlertDelivery.__table__, D.message_id == M.id)
        .where(M.id.in_(ids))
        .order_by(M.id.desc(), D.id)
    )
    return [
        HistoryRow(
            r.id,
            r.watch,
            r.key,
            r.created_at,
            r.title,
            r.events,
            r.label,
            r.status,
            r.attempts or 0,
            r.sent_at,
            r.last_error,
        )
        for r in rows
    ]
