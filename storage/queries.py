"""Reading the store: updates with filters, full-text search and collapsed stories, in
pages with cursors or streamed; one update with its history; sources overview; and the
small lookups a crawl needs (validators, known posts).

Rows come back as plain dicts with the contract's field names, times as aware datetimes.
The full-text part (query parsing, match and rank clauses) lives in storage/search.py.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from crawler.models import RawPost, Validators
from storage import dedup, search
from storage.clean import clean_post
from storage.models import CrawlRun, HttpValidator, Revision, Source, Update, UpdateKey
from storage.rows import revision_row, update_row, update_row_columns

MAX_LIMIT = 100_000
# Ids are INTEGER columns: 32-bit on PostgreSQL, so a larger id names no row there (and
# cannot even be compared with one); the same bound on SQLite keeps the two alike.
MAX_ID = 2**31 - 1
MAX_CURSOR = 400  # characters: ours are under 100
ORDERS = ("newest", "rank")
STREAM_BATCH = 1000
NEWEST_CANDIDATES = 1000  # newest matches by id read for a page of a search in newest order


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


def _when() -> Any:
    """The sort time of an update: published, else first seen (indexed: ix_updates_when)."""
    return func.coalesce(Update.published_at, Update.first_seen_at)


def encode_cursor(
    order: str, key: datetime | float, update_id: int, ranked: tuple[int | None, ...] = ()
) -> str:
    """An opaque cursor: base64url of [order, sort key, id] of the last row of a page, and
    in rank order the [low, high) id bounds of that row's slice (storage/search.py)."""
    value = key.astimezone(UTC).isoformat() if isinstance(key, datetime) else float(key)
    raw = json.dumps([order, value, update_id, *ranked], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def _decode(cursor: str, order: str) -> tuple[datetime | float, int, list[Any]]:
    try:
        if len(cursor) > MAX_CURSOR or not cursor.isascii():
            raise ValueError("not one of ours")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, update_id, *rest = json.loads(raw)
        if kind == "newest":
            key: datetime | float = datetime.fromisoformat(value)
            if key.tzinfo is None:
                raise ValueError("naive time")
            key = key.astimezone(UTC)
            if rest:
                raise ValueError("slice")
        elif kind == "rank":
            key = float(value)
            if not math.isfinite(key):
                raise ValueError("rank")
            if rest and (len(rest) != 2 or not all(v is None or _is_id(v) for v in rest)):
                raise ValueError("slice")
        else:
            raise ValueError(kind)
        if not _is_id(update_id):
            raise ValueError("id")
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError, RecursionError):
        raise QueryError(f"invalid cursor {cursor[:40]!r}") from None
    if kind != order:
        raise QueryError(f"this cursor continues a list in {kind} order, not {order}")
    return key, update_id, rest


def decode_cursor(cursor: str, order: str) -> tuple[datetime | float, int]:
    """The (sort key, id) a cursor resumes after; QueryError when it is not one of ours."""
    key, update_id, _ = _decode(cursor, order)
    return key, update_id


def check_filter(f: UpdateFilter) -> None:
    """QueryError for a filter no store could run (ids beyond the schema's 32 bits, a
    negative limit), said in the words of its parameter; the cursor and order are checked
    where they are read."""
    if f.story is not None and not (_is_id(f.story) and f.story >= 1):
        raise QueryError(f"story: must be an id from 1 to {MAX_ID}")
    if any(not (_is_id(i) and i >= 1) for i in f.ids):
        raise QueryError(f"ids: must be ids from 1 to {MAX_ID}")
    if f.limit is not None and not 0 <= f.limit <= MAX_ID:
        raise QueryError(f"limit: must be from 0 to {MAX_ID}")
    if f.offset < 0:
        raise QueryError("offset: must not be negative")


def _order_of(f: UpdateFilter) -> str:
    order = f.order or ("rank" if f.search is not None else "newest")
    if order not in ORDERS:
        raise QueryError(f"unknown order {order!r} (use {' or '.join(ORDERS)})")
    if order == "rank" and f.search is None:
        raise QueryError("rank order needs a search")
    return order


def _where(stmt: Select[Any], f: UpdateFilter) -> Select[Any]:
    when = _when()
    if f.sources:
        stmt = stmt.where(Source.name.in_(list(f.sources)))
    if f.since:
        stmt = stmt.where(when >= f.since)
    if f.until:
        stmt = stmt.where(when <= f.until)
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


@dataclass(slots=True)
class _Selection:
    """A built selection of narrow rows (id, story, source, when[, rank]) with its sort key.

    Rows are sorted and paged narrow, then the page's full rows are read by id: sorting
    thousands of matches never drags their bodies through the sorter.
    """

    stmt: Select[Any]
    key: Any
    id: Any
    order: str
    members: Any = None  # collapse: the uncollapsed selection, to list the other sources
    searched: bool = False


def _select(session: Session, f: UpdateFilter) -> _Selection | None:
    """The filtered (and searched, and collapsed) selection; None when it is surely empty."""
    order = _order_of(f)
    when = _when()
    stmt = select(
        Update.id.label("id"),
        Update.story_id.label("story"),
        Source.name.label("source"),
        when.label("when"),
    ).join(Source, Source.id == Update.source_id)
    stmt = _where(stmt, f)
    rank = None
    if f.search is not None:
        query = search.parse_query(f.search)
        if query.empty:
            return None
        stmt, rank = search.apply_search(stmt, session.get_bind().dialect.name, query)
        stmt = stmt.add_columns(rank.label("rank"))
    if not f.collapse:
        key = rank if order == "rank" else when
        return _Selection(stmt, key, Update.id, order, searched=rank is not None)
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
    return _Selection(outer, key, picked.c.id, order, matches, rank is not None)


@dataclass(slots=True)
class _Ranked:
    """A narrow row of a search in rank order, with the id bounds of its slice."""

    id: int
    rank: float
    lo: int | None  # None: the slice reaches the oldest match
    hi: int | None  # None: the slice reaches the newest


def _sliced(f: UpdateFilter) -> bool:
    """Whether this selection is ranked by slices (search in rank order, not collapsed)."""
    return f.search is not None and not f.collapse and _order_of(f) == "rank"


def _ranked(session: Session, f: UpdateFilter, want: int | None) -> Iterator[_Ranked]:
    """The matches of a search in rank order, slice after slice (storage/search.py): the
    RANK_SLICE newest matches best first, then the next older ones, and so on.

    Each slice is ranked from the index alone; `updates` is read only to apply filters.
    A fresh slice learns its bounds with the same statement (window aggregates over it);
    a cursor's slice is read again by those bounds. `want` caps the rows the statements
    return (None: all of them).
    """
    query = search.parse_query(f.search or "")
    if query.empty:
        return
    dialect = session.get_bind().dialect.name
    filtered = bool(f.sources or f.since or f.until or f.seen_since or f.ids) or any(
        v is not None for v in (f.highlighted, f.edited, f.story)
    )
    indexed = search.index_matches(dialect, query, with_updates=filtered)
    id_col, rank = indexed.id, indexed.rank
    matches = indexed.stmt
    if f.sources:
        matches = matches.join(Source, Source.id == Update.source_id)
    matches = _where(matches, f)
    after: tuple[float, int] | None = None
    bounds: tuple[int | None, int | None] | None = None  # None: a fresh slice
    below: int | None = None
    if f.cursor:
        key, after_id, rest = _decode(f.cursor, "rank")
        after = (float(key), after_id)
        bounds = (rest[0], rest[1]) if rest else (None, None)
    given = 0
    while want is None or given < want:
        need = None if want is None else want - given
        if bounds is None:
            stmt = matches if below is None else matches.where(id_col < below)
            part = search.newest_ranked(indexed, stmt, search.RANK_SLICE)
            page = select(
                part.c.id,
                part.c.rank,
                func.count().over().label("n"),
                func.min(part.c.id).over().label("lo"),
                func.max(part.c.id).over().label("hi"),
            ).order_by(part.c.rank.desc(), part.c.id.desc())
            found = session.execute(page.limit(need)).all()
            if not found:
                return
            first = found[0]
            lo = first.lo if first.n >= search.RANK_SLICE else None
            hi = below if below is not None else first.hi + 1
            rows = [(r.id, r.rank) for r in found]
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
            yield _Ranked(uid, float(score), lo, hi)
        given += len(rows)
        if lo is None:
            return
        bounds, below, after = None, lo, None


def _ranked_rows(session: Session, ranked: Sequence[_Ranked]) -> list[dict[str, Any]]:
    full = _full_rows(session, [r.id for r in ranked]) if ranked else {}
    rows = []
    for r in ranked:
        row = full[r.id]
        row["rank"] = r.rank
        rows.append(row)
    return rows


def _find_ranked(session: Session, f: UpdateFilter, limit: int | None) -> Page:
    want = None if limit is None else f.offset + limit + 1
    found = list(_ranked(session, f, want))[f.offset :]
    more = limit is not None and len(found) > limit
    found = found[:limit] if limit is not None else found
    cursor = None
    if more and found:
        last = found[-1]
        cursor = encode_cursor("rank", last.rank, last.id, (last.lo, last.hi))
    return Page(_ranked_rows(session, found), cursor)


def _find_newest_searched(session: Session, f: UpdateFilter, limit: int) -> Page:
    """A page of a search in newest order, without scoring or sorting every match.

    The newest matches by id (NEWEST_CANDIDATES, or four pages) stand in for the newest by
    time; a match stored earlier can only belong to the page if its time reaches the
    page's last candidate, and those are read by the time index. Exact, whatever the
    order the store received updates in; only the page's rows are ranked.
    """
    query = search.parse_query(f.search or "")
    if query.empty:
        return Page([], None)
    dialect = session.get_bind().dialect.name
    when = _when()
    want = f.offset + limit + 1

    def narrow(stmt: Select[Any]) -> Select[Any]:
        if f.sources:
            stmt = stmt.join(Source, Source.id == Update.source_id)
        stmt = _where(stmt, f)
        if f.cursor:
            key, after = decode_cursor(f.cursor, "newest")
            at = bindparam(None, key, type_=when.type)
            stmt = stmt.where(tuple_(when, Update.id) < tuple_(at, after))
        return stmt

    indexed = search.index_matches(dialect, query, with_updates=True)
    size = max(NEWEST_CANDIDATES, 4 * want)
    stmt = narrow(indexed.stmt.add_columns(when.label("when")))
    stmt = stmt.order_by(indexed.id.desc()).limit(size)
    found = [(r.when, r.id) for r in session.execute(stmt)]
    if len(found) == size:
        edge, lowest = sorted(found, reverse=True)[want - 1][0], min(i for _, i in found)
        # `id + 0`: the time index must drive this, not a scan of the ids below `lowest`.
        earlier = (
            select(when.label("when"), Update.id.label("id"))
            .where(when >= bindparam(None, edge, type_=when.type), Update.id + 0 < lowest)
            .where(search.matches_row(dialect, query))
        )
        found += [(r.when, r.id) for r in session.execute(narrow(earlier))]
    found.sort(reverse=True)
    page = found[f.offset : want]
    more = len(page) > limit
    page = page[:limit]
    ranks = search.ranks_of(session, query, [i for _, i in page])
    full = _full_rows(session, [i for _, i in page]) if page else {}
    rows = []
    for _, uid in page:
        row = full[uid]
        row["rank"] = ranks[uid]
        rows.append(row)
    cursor = encode_cursor("newest", page[-1][0], page[-1][1]) if more and page else None
    return Page(rows, cursor)


def _paged(sel: _Selection, f: UpdateFilter) -> Select[Any]:
    stmt = sel.stmt
    if f.cursor:
        key, after = decode_cursor(f.cursor, sel.order)
        stmt = stmt.where(
            tuple_(sel.key, sel.id) < tuple_(bindparam(None, key, type_=sel.key.type), after)
        )
    return stmt.order_by(sel.key.desc(), sel.id.desc())


def _full_rows(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The full rows of these updates, by id (columns, not ORM objects: nothing piles up
    in the session while a long stream goes by)."""
    stmt = (
        select(*update_row_columns())
        .join(Source, Source.id == Update.source_id)
        .where(Update.id.in_(ids))
    )
    return {m["id"]: dict(m) for m in session.execute(stmt).mappings()}


def _rows(session: Session, sel: _Selection, found: Sequence[Any]) -> list[dict[str, Any]]:
    full = _full_rows(session, [m["id"] for m in found]) if found else {}
    rows = []
    for m in found:
        row = full[m["id"]]
        if sel.searched:
            row["rank"] = float(m["rank"])
        rows.append(row)
    if sel.members is not None:
        stories = sorted({r["story"] for r in rows if r["story"] is not None})
        others: dict[int, dict[int, str]] = {}
        members = sel.members
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
    return rows


def find_updates(session: Session, f: UpdateFilter) -> Page:
    """One page of updates matching the filter, and the cursor of the next page.

    Newest first (published time, else first seen; ties by id), or best rank first when
    searching. Cursors are keyset positions: rows inserted while paging never make a
    page repeat or skip a row that was already there (in rank order, as long as the
    index does not change: new matches shift every score a little).
    """
    check_filter(f)
    limit = None if f.limit is None else max(0, min(f.limit, MAX_LIMIT))
    if _sliced(f):
        return _find_ranked(session, f, limit)
    if f.search is not None and not f.collapse and limit is not None:
        return _find_newest_searched(session, f, limit)
    sel = _select(session, f)
    if sel is None:
        return Page([], None)
    stmt = _paged(sel, f)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    if f.offset:
        stmt = stmt.offset(f.offset)
    found = session.execute(stmt).mappings().all()
    more = limit is not None and len(found) > limit
    found = found[:limit] if limit is not None else found
    cursor = None
    if more and found:
        last = found[-1]
        key = last["rank"] if sel.order == "rank" else last["when"]
        cursor = encode_cursor(sel.order, key, last["id"])
    return Page(_rows(session, sel, found), cursor)


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
    if _sliced(f):
        want = None if f.limit is None else f.offset + max(0, f.limit)
        ranked = itertools.islice(_ranked(session, f, want), f.offset, None)
        while part := list(itertools.islice(ranked, batch)):
            yield from _ranked_rows(session, part)
        return
    sel = _select(session, f)
    if sel is None:
        return
    stmt = _paged(sel, f)
    if f.limit is not None:
        stmt = stmt.limit(max(0, f.limit))
    if f.offset:
        stmt = stmt.offset(f.offset)
    result = session.execute(stmt, execution_options={"yield_per": batch})
    for part in result.mappings().partitions():
        yield from _rows(session, sel, part)


def get_update(session: Session, update_id: int) -> dict[str, Any] | None:
    """One update with its revisions (oldest first) and its sightings in other sources."""
    if not _is_id(update_id):
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
    row["history"] = [revision_row(r) for r in revs]
    row["sightings"] = []
    if u.story_id is not None:
        others = list_updates(session, UpdateFilter(story=u.story_id, limit=200))
        row["sightings"] = [o for o in others if o["id"] != u.id]
    return row


def source_names(session: Session) -> list[str]:
    """The names of every stored source (configured now or before), sorted."""
    return list(session.execute(select(Source.name).order_by(Source.name)).scalars())


def sources_overview(session: Session, names: Sequence[str] | None = None) -> dict[str, dict]:
    """Crawl state and update count of each stored source, by name."""
    counts = dict(
        session.execute(select(Update.source_id, func.count()).group_by(Update.source_id)).all()
    )
    stmt = select(Source)
    if names is not None:
        stmt = stmt.where(Source.name.in_(list(names)))
    out: dict[str, dict] = {}
    for s in session.execute(stmt).scalars():
        out[s.name] = {
            "id": s.id,
            "last_crawl_at": s.last_crawl_at,
            "last_status": s.last_status,
            "last_http_status": s.last_http_status,
            "last_error": s.last_error,
            "last_path": s.last_path,
            "next_run_at": s.next_run_at,
            "current_interval": s.current_interval,
            "failures": s.failures,
            "backoff_until": s.backoff_until,
            "ended": s.ended,
            "gone": s.gone,
            "polls": s.polls,
            "updates": counts.get(s.id, 0),
        }
    return out


def validators_for(session: Session, source_id: int, url: str) -> Validators | None:
    row = session.execute(
        select(HttpValidator).where(HttpValidator.source_id == source_id, HttpValidator.url == url)
    ).scalar_one_or_none()
    return Validators(row.etag, row.last_modified) if row else None


def known_posts(session: Session, source_id: int, posts: Sequence[RawPost]) -> list[bool]:
    """For each post, whether the store already holds it unchanged (by key or content)."""
    posts = [clean_post(p) for p in posts]  # as save_crawl would store them
    prints = [
        [dedup.key_hash(k) for k in (p.key, *p.alt_keys) if k]
        + [dedup.key_hash(dedup.post_print(p))]
        for p in posts
    ]
    wanted = sorted({h for hs in prints for h in hs})
    if not wanted:
        return []
    rows = session.execute(
        select(UpdateKey.key_hash, Update.content_hash)
        .join(Update, Update.id == UpdateKey.update_id)
        .where(UpdateKey.source_id == source_id, UpdateKey.key_hash.in_(wanted))
    ).all()
    stored = dict(rows)
    out = []
    for p, hs in zip(posts, prints, strict=True):
        current = dedup.content_hash(p.headline, p.body)
        out.append(any(stored.get(h) == current for h in hs))
    return out


def recent_runs(session: Session, source_id: int, limit: int = 10) -> list[CrawlRun]:
    return list(
        session.execute(
            select(CrawlRun)
            .where(CrawlRun.source_id == source_id)
            .order_by(CrawlRun.started_at.desc())
            .limit(limit)
        ).scalars()
    )
