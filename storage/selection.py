"""A selection of updates found narrow: the filtered (searched, collapsed) rows as ids with
their sort key, in order, after a cursor (`Hit`s). The full rows of a page are read by id
afterwards (storage/queries.py): sorting thousands of matches never drags their bodies
through the sorter. The search-specific ways of finding hits are storage/search_pages.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from storage import search
from storage.cursors import decode_cursor
from storage.filters import UpdateFilter, order_of, when, where
from storage.models import Source, Update


@dataclass(slots=True)
class Hit:
    """A narrow row of a selection, in its order."""

    id: int
    key: datetime | float  # what the order sorts by, and a cursor carries: time or rank
    rank: float | None = None  # searching: the row's rank (None: ranked when read)
    slice: tuple[int | None, int | None] = ()  # rank slices: the [low, high) ids of its slice


@dataclass(slots=True)
class Selection:
    """A built selection of narrow rows (id, story, source, when[, rank]) with its sort key."""

    stmt: Select[Any]
    key: Any
    id: Any
    order: str
    members: Any = None  # collapse: the uncollapsed selection, to list the other sources
    searched: bool = False


def select_updates(session: Session, f: UpdateFilter) -> Selection | None:
    """The filtered (and searched, and collapsed) selection; None when it is surely empty."""
    order = order_of(f)
    at = when()
    stmt = select(
        Update.id.label("id"),
        Update.story_id.label("story"),
        Source.name.label("source"),
        at.label("when"),
    ).join(Source, Source.id == Update.source_id)
    stmt = where(stmt, f)
    rank = None
    if f.search is not None:
        query = search.parse_query(f.search)
        if query.empty:
            return None
        stmt, rank = search.apply_search(stmt, session.get_bind().dialect.name, query)
        stmt = stmt.add_columns(rank.label("rank"))
    if not f.collapse:
        key = rank if order == "rank" else at
        return Selection(stmt, key, Update.id, order, searched=rank is not None)
    # One row per story: the best-ranked member when ranking, else the earliest. The
    # matches are a subquery first: FTS5's bm25() cannot be called inside a window.
    matches = stmt.subquery("matches")
    by_rank = order == "rank"
    best = (
        (matches.c.rank.desc(), matches.c.id.desc())
        if by_rank
        else (matches.c.when.asc(), matches.c.id.asc())
    )
    pick = func.row_number().over(
        partition_by=func.coalesce(matches.c.story, -matches.c.id), order_by=best
    )
    picked = select(matches, pick.label("pick")).subquery("picked")
    outer = select(*[c for c in picked.c if c.key != "pick"]).where(picked.c.pick == 1)
    key = picked.c.rank if by_rank else picked.c.when
    return Selection(outer, key, picked.c.id, order, matches, rank is not None)


def selection_hits(
    session: Session, sel: Selection, f: UpdateFilter, take: int | None, batch: int | None
) -> Iterator[Hit]:
    """The selection's rows after the filter's cursor and offset, `take` at most (None: all),
    read `batch` at a time when streaming (a server-side cursor on PostgreSQL)."""
    stmt = sel.stmt
    if f.cursor:
        key, after = decode_cursor(f.cursor, sel.order)
        at = bindparam(None, key, type_=sel.key.type)
        stmt = stmt.where(tuple_(sel.key, sel.id) < tuple_(at, after))
    stmt = stmt.order_by(sel.key.desc(), sel.id.desc())
    if take is not None:
        stmt = stmt.limit(take)
    if f.offset:
        stmt = stmt.offset(f.offset)
    options = {"yield_per": batch} if batch else {}
    by_rank = sel.order == "rank"
    for m in session.execute(stmt, execution_options=options).mappings():
        rank = float(m["rank"]) if sel.searched else None
        yield Hit(m["id"], rank if by_rank else m["when"], rank)  # type: ignore[arg-type]
