"""Statement helpers the writers share: lists cut into chunks of bound parameters, and
INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500  # rows or parameters per statement


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignore(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if is_postgresql(session) else sqlite
    for chunk in chunks(rows):
        session.execute(dialect.insert(model).on_conflict_do_nothing(), list(chunk))
