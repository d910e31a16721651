"""The two ways a search finds its hits without scoring every match: in rank order by
slices of the newest matches (`ranked_hits`, see storage/search.py), and in newest order
from the newest matches by id (`newest_searched_hits`). The generic selection, which both
avoid, is storage/selection.py; storage/queries.py reads the rows of their hits.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, cast, func, null, select, tuple_, union_all
from sqlalchemy.orm import Session

from storage import search
from storage.cursors import decode_cursor, decode_cursor_slice
from storage.filters import UpdateFilter, narrows, when, where
from storage.models import Source, Update
from storage.selection import Hit

NEWEST_CANDIDATES = 1000  # newest matches by id read for a page of a search in newest order


def ranked_hits(session: Session, f: UpdateFilter, take: int | None) -> Iterator[Hit]:
    """The matches of a search in rank order, slice after slice (storage/search.py): the
    RANK_SLICE newest matches best first, then the next older ones, and so on.

    Each slice is ranked from the index alone; `updates` is read only to apply filters.
    A fresh slice learns its bounds with the same statement (window aggregates over it);
    a cursor's slice is read again by those bounds. The hits come after the filter's
    cursor and offset, `take` at most (None: all of them).
    """
    want = None if take is None else f.offset + take
    yield from itertools.islice(_ranked(session, f, want), f.offset, None)


def _ranked(session: Session, f: UpdateFilter, want: int | None) -> Iterator[Hit]:
    """`ranked_hits` from the first match, `want` at most."""
    query = search.parse_query(f.search or "")
    if query.empty:
        return
    dialect = session.get_bind().dialect.name
    indexed = search.index_matches(dialect, query, with_updates=narrows(f))
    id_col, rank = indexed.id, indexed.rank
    matches = indexed.stmt
    if f.sources:
        matches = matches.join(Source, Source.id == Update.source_id)
    matches = where(matches, f)
    after: tuple[float, int] | None = None
    bounds: tuple[int | None, int | None] | None = None  # None: a fresh slice
    below: int | None = None
    if f.cursor:
        key, after_id, rest = decode_cursor_slice(f.cursor, "rank")
        after = (float(key), after_id)
        bounds = (rest[0], rest[1]) if rest else (None, None)
    given = 0
    while want is None or given < want:
        need = None if want is None else want - given
        if bounds is None:
            stmt = matches if below is None else matches.where(id_col < below)
            rows, (n, lo, hi) = _fresh_slice(session, indexed, stmt, need)
            if not n:
                return
            lo = lo if n >= search.RANK_SLICE else None
            hi = below if below is not None else hi + 1
        else:
            lo, hi = bounds
            stmt = matches.add_columns(rank.label("rank"))
            if lo is not None:
                stmt = stmt.where(id_col >= lo)
            if hi is not None:
                stmt = stmt.where(id_col < hi)
            if after is not None:
                at = bindparam(None, after[0], type_=rank.type)
                stmt = stmt.where(tuple_(rank, id_col) < tuple_(at, after[1]))
            stmt = stmt.order_by(rank.desc(), id_col.desc())
            rows = [(r.id, r.rank) for r in session.execute(stmt.limit(need))]
        for uid, score in rows:
            yield Hit(uid, float(score), float(score), (lo, hi))
        given += len(rows)
        if lo is None:
            return
        bounds, below, after = None, lo, None


def _fresh_slice(
    session: Session, indexed: search.IndexMatches, stmt: Select[Any], need: int | None
) -> tuple[list[tuple[int, float]], tuple[int, int, int]]:
    """The `need` best (id, rank) of the slice of the newest matches of `stmt`, best
    first, and the slice's (size, lowest id, highest id), in one statement; (0, 0, 0)
    for an empty slice.

    The slice is read once and aggregated beside its best rows (a row of its own in a
    UNION ALL): window aggregates over it made SQLite copy the whole slice and cost a
    third of the statement at 10,000 matches.
    """
    part = search.newest_ranked(indexed, stmt, search.RANK_SLICE)
    none = cast(null(), BigInteger)  # typed: PostgreSQL reads an untyped NULL as text
    best = (
        select(part.c.id, part.c.rank, none.label("n"), none.label("lo"), none.label("hi"))
        .order_by(part.c.rank.desc(), part.c.id.desc())
        .limit(need)
        .subquery("best")
    )
    summary = select(
        null(), null(), func.count(), func.min(part.c.id), func.max(part.c.id)
    ).select_from(part)
    rows: list[tuple[int, float]] = []
    size = (0, 0, 0)
    for r in session.execute(union_all(select(best), summary)):
        if r.n is None:
            rows.append((r.id, r.rank))
        elif r.n:
            size = (r.n, r.lo, r.hi)
    # The order of a UNION ALL's rows is not SQL's promise: sorted again, as ORDER BY did.
    rows.sort(key=lambda row: (row[1], row[0]), reverse=True)
    return rows, size


def newest_searched_hits(session: Session, f: UpdateFilter, take: int) -> list[Hit]:
    """The hits of a search in newest order, without scoring or sorting every match (ranked
    when their rows are read), after the filter's cursor and offset, `take` at most.

    The newest matches by id (NEWEST_CANDIDATES, or four pages) stand in for the newest by
    time; a match stored earlier can only belong to the page if its time reaches the
    page's last candidate, and those are read by the time index. Exact, whatever the
    order the store received updates in; only the page's rows are ranked.
    """
    query = search.parse_query(f.search or "")
    if query.empty:
        return []
    dialect = session.get_bind().dialect.name
    at = when()
    want = f.offset + take

    def narrow(stmt: Select[Any]) -> Select[Any]:
        if f.sources:
            stmt = stmt.join(Source, Source.id == Update.source_id)
        stmt = where(stmt, f)
        if f.cursor:
            key, after = decode_cursor(f.cursor, "newest")
            cut = bindparam(None, key, type_=at.type)
            stmt = stmt.where(tuple_(at, Update.id) < tuple_(cut, after))
        return stmt

    indexed = search.index_matches(dialect, query, with_updates=True)
    size = max(NEWEST_CANDIDATES, 4 * want)
    stmt = narrow(indexed.stmt.add_columns(at.label("when")))
    stmt = stmt.order_by(indexed.id.desc()).limit(size)
    found = [(r.when, r.id) for r in session.execute(stmt)]
    if len(found) == size:
        edge, lowest = sorted(found, reverse=True)[want - 1][0], min(i for _, i in found)
        # `id + 0`: the time index must drive this, not a scan of the ids below `lowest`.
        earlier = (
            select(at.label("when"), Update.id.label("id"))
            .where(at >= bindparam(None, edge, type_=at.type), Update.id + 0 < lowest)
            .where(search.matches_row(dialect, query))
        )
        found += [(r.when, r.id) for r in session.execute(narrow(earlier))]
    found.sort(reverse=True)
    return [Hit(uid, t) for t, uid in found[f.offset : want]]
