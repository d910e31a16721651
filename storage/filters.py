"""What a reader asks of the updates: the filter, its checks, and the WHERE clauses it
becomes; the page it gets back. Ids are bounded by storage.ids.MAX_ID."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func

from storage.ids import MAX_ID
from storage.models import Source, Update

MAX_LIMIT = 100_000
ORDERS = ("newest", "rank")


class QueryError(ValueError):
    """A selection that cannot be run: a bad cursor, an order that does not apply."""


@dataclass(slots=True)
class UpdateFilter:
    sources: Sequence[str] = ()
    since: datetime | None = None  # published (else first seen) at or after
    until: datetime | None = None
    seen_since: datetime | None = None  # first seen (arrived) at or after
    highlighted: bool | None = None
    edited: bool | None = None
    limit: int | None = 100
    offset: int = 0
    story: int | None = None
    ids: Sequence[int] = field(default_factory=tuple)
    search: str | None = None  # full-text query (storage/search.py); rows gain a `rank`
    collapse: bool = False  # one row per story; rows gain `sources` (the other members')
    cursor: str | None = None  # from Page.next_cursor: the rows after that one
    order: str | None = None  # "newest" or "rank"; default: rank when searching


@dataclass(slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None  # None on the last page


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def check_filter(f: UpdateFilter) -> None:
    """QueryError for a filter no store could run (ids beyond the schema's 32 bits, a
    negative limit), said in the words of its parameter; the cursor and order are checked
    where they are read."""
    if f.story is not None and not (is_id(f.story) and f.story >= 1):
        raise QueryError(f"story: must be an id from 1 to {MAX_ID}")
    if any(not (is_id(i) and i >= 1) for i in f.ids):
        raise QueryError(f"ids: must be ids from 1 to {MAX_ID}")
    if f.limit is not None and not 0 <= f.limit <= MAX_ID:
        raise QueryError(f"limit: must be from 0 to {MAX_ID}")
    if f.offset < 0:
        raise QueryError("offset: must not be negative")


def order_of(f: UpdateFilter) -> str:
    order = f.order or ("rank" if f.search is not None else "newest")
    if order not in ORDERS:
        raise QueryError(f"unknown order {order!r} (use {' or '.join(ORDERS)})")
    if order == "rank" and f.search is None:
        raise QueryError("rank order needs a search")
    return order


def narrows(f: UpdateFilter) -> bool:
    """Whether the filter narrows the updates (beyond a search, order and paging)."""
    return bool(f.sources or f.since or f.until or f.seen_since or f.ids) or any(
        v is not None for v in (f.highlighted, f.edited, f.story)
    )


def when() -> Any:
    """The sort time of an update: published, else first seen (indexed: ix_updates_when)."""
    return func.coalesce(Update.published_at, Update.first_seen_at)


def where(stmt: Select[Any], f: UpdateFilter) -> Select[Any]:
    """`stmt` (over `updates`, joined to `sources` when the filter names sources) narrowed
    by the filter."""
    at = when()
    if f.sources:
        stmt = stmt.where(Source.name.in_(list(f.sources)))
    if f.since:
        stmt = stmt.where(at >= f.since)
    if f.until:
        stmt = stmt.where(at <= f.until)
    if f.seen_since:
        stmt = stmt.where(Update.first_seen_at >= f.seen_since)
    if f.highlighted is not None:
        stmt = stmt.where(Update.highlighted.is_(f.highlighted))
    if f.edited is not None:
        stmt = stmt.where(Update.revisions > 1 if f.edited else Update.revisions == 1)
    if f.story is not None:
        stmt = stmt.where(Update.story_id == f.story)
    if f.ids:
        stmt = stmt.where(Update.id.in_(list(f.ids)))
    return stmt
