"""Reading the updates: one page of a selection and the cursor of the next (`find_updates`),
or every row of it streamed (`iter_updates`); one update with its history (`get_update`);
the library entry point of search (`search_updates`).

A selection is found narrow, as `Hit`s (id and sort key, in order, after the cursor and
offset), by one of three finders: rank slices of a search (storage/search_pages.py), the
newest matches of a search in newest order (storage/search_pages.py), or the generic
filtered, searched or collapsed selection (storage/selection.py). One pager cuts the hits
into a page and reads the full rows of their ids. Rows come back as plain dicts with the
contract's field names, times as aware datetimes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import search
from storage.cursors import encode_cursor
from storage.filters import MAX_LIMIT, Page, UpdateFilter, check_filter, is_id, order_of
from storage.models import Revision, Source, Update
from storage.rows import revision_row, update_row, update_row_columns
from storage.search_pages import newest_searched_hits, ranked_hits
from storage.selection import Hit, select_updates, selection_hits

STREAM_BATCH = 1000


@dataclass(slots=True)
class _Plan:
    """How a filter's selection is read: its hits (`take` at most, `batch` at a time when
    streaming), in which order, and what the rows need besides their columns."""

    hits: Callable[[int | None, int | None], Iterator[Hit]]
    order: str
    members: Any = None  # collapse: the uncollapsed selection, to list the other sources
    rank_by: search.SearchQuery | None = None  # hits without a rank: rank the rows read


def _plan(session: Session, f: UpdateFilter, *, paged: bool) -> _Plan | None:
    """The plan of a filter's selection; None when it is surely empty. `paged`: a page of
    known size is wanted (a search in newest order then reads only its newest matches)."""
    order = order_of(f)
    if f.search is not None and not f.collapse:
        query = search.parse_query(f.search)
        if query.empty:
            return None
        if order == "rank":
            return _Plan(lambda take, _: ranked_hits(session, f, take), order)
        if paged:

            def newest(take: int | None, _: int | None) -> Iterator[Hit]:
                assert take is not None  # a page has a size
                return iter(newest_searched_hits(session, f, take))

            return _Plan(newest, order, rank_by=query)
    sel = select_updates(session, f)
    if sel is None:
        return None
    return _Plan(
        lambda take, batch: selection_hits(session, sel, f, take, batch), order, sel.members
    )


def _full_rows(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The full rows of these updates, by id (columns, not ORM objects: nothing piles up
    in the session while a long stream goes by)."""
    stmt = (
        select(*update_row_columns())
        .join(Source, Source.id == Update.source_id)
        .where(Update.id.in_(ids))
    )
    return {m["id"]: dict(m) for m in session.execute(stmt).mappings()}


def _rows(session: Session, plan: _Plan, hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """The full rows of these hits, in their order, with their rank when searching and the
    other sources of their story when collapsed."""
    ids = [h.id for h in hits]
    full = _full_rows(session, ids) if hits else {}
    ranks = search.ranks_of(session, plan.rank_by, ids) if plan.rank_by else {}
    rows = []
    for h in hits:
        row = full[h.id]
        rank = ranks.get(h.id, h.rank)
        if rank is not None:
            row["rank"] = rank
        rows.append(row)
    if plan.members is not None:
        _add_story_sources(session, plan.members, rows)
    return rows


def _add_story_sources(session: Session, members: Any, rows: list[dict[str, Any]]) -> None:
    """`sources`: the names of the other sources each row's story was found in."""
    stories = sorted({r["story"] for r in rows if r["story"] is not None})
    others: dict[int, dict[int, str]] = {}
    for start in range(0, len(stories), 500):
        chunk = stories[start : start + 500]
        for story, uid, source in session.execute(
            select(members.c.story, members.c.id, members.c.source).where(
                members.c.story.in_(chunk)
            )
        ):
            others.setdefault(story, {})[uid] = source
    for row in rows:
        group = others.get(row["story"], {}) if row["story"] is not None else {}
        row["sources"] = sorted({s for uid, s in group.items() if uid != row["id"]})


def find_updates(session: Session, f: UpdateFilter) -> Page:
    """One page of updates matching the filter, and the cursor of the next page.

    Newest first (published time, else first seen; ties by id), or best rank first when
    searching. Cursors are keyset positions: rows inserted while paging never make a
    page repeat or skip a row that was already there (in rank order, as long as the
    index does not change: new matches shift every score a little).
    """
    check_filter(f)
    limit = None if f.limit is None else max(0, min(f.limit, MAX_LIMIT))
    plan = _plan(session, f, paged=limit is not None)
    if plan is None:
        return Page([], None)
    hits = list(plan.hits(None if limit is None else limit + 1, None))
    more = limit is not None and len(hits) > limit
    hits = hits[:limit]
    cursor = None
    if more and hits:
        last = hits[-1]
        cursor = encode_cursor(plan.order, last.key, last.id, last.slice)
    return Page(_rows(session, plan, hits), cursor)


def list_updates(session: Session, f: UpdateFilter) -> list[dict[str, Any]]:
    """Updates matching the filter, newest first (by published time, else first seen)."""
    return find_updates(session, f).rows


def iter_updates(
    session: Session, f: UpdateFilter, *, batch: int = STREAM_BATCH
) -> Iterator[dict[str, Any]]:
    """Every update of the selection (the filter's limit applies when set), streamed.

    The narrow rows come `batch` at a time (a server-side cursor on PostgreSQL) and each
    batch's full rows are read by id, so memory stays flat however many rows there are.
    The session must stay open while iterating.
    """
    check_filter(f)
    plan = _plan(session, f, paged=False)
    if plan is None:
        return
    hits = plan.hits(None if f.limit is None else max(0, f.limit), batch)
    while part := list(itertools.islice(hits, batch)):
        yield from _rows(session, plan, part)


def search_updates(
    session: Session, query: str, f: UpdateFilter | None = None
) -> list[dict[str, Any]]:
    """Updates matching `query` and the filter, best first (or in the filter's order).

    The library entry point of search (what `bench/` times). Each row has the update's
    fields plus `rank`. Cost, in rank order: one pass over the matches in the index (FTS5
    MATCH or a GIN index scan) newest first, with the filters, and the scoring of at most
    RANK_SLICE of them per slice; `updates` rows are read for the page only. In newest
    order, the newest matches by id and the older ones whose time reaches them are read,
    and only the page is scored. Collapsed, every match is scored and sorted.
    """
    base = f if f is not None else UpdateFilter()
    return find_updates(session, replace(base, search=query)).rows


def get_update(session: Session, update_id: int) -> dict[str, Any] | None:
    """One update with its revisions (oldest first) and its sightings in other sources."""
    if not is_id(update_id):
        return None
    found = session.execute(
        select(Update, Source.name)
        .join(Source, Source.id == Update.source_id)
        .where(Update.id == update_id)
    ).first()
    if found is None:
        return None
    u, name = found
    row = update_row(u, name)
    revs = session.execute(
        select(Revision).where(Revision.update_id == u.id).order_by(Revision.number)
    ).scalars()
    row["history"] = [revision_row(r, u) for r in revs]
    row["sightings"] = []
    if u.story_id is not None:
        others = list_updates(session, UpdateFilter(story=u.story_id, limit=200))
        row["sightings"] = [o for o in others if o["id"] != u.id]
    return row
