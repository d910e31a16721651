"""A source's crawls: the state the next crawl starts from, and the record of each crawl.

Before a crawl: the source's counters and its page's HTTP validators (`crawl_states`,
`claim_crawl_states` with a lease, `stored_validators`). After it: the validators the
server sent, the source's new state (what the crawl found, then the schedule the scheduler
decided) and a `crawl_runs` row (`record_crawls`), in the caller's transaction, with the
crawl's posts (`storage/updates_write.py`): all of it commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy import Update as UpdateStatement
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage import leases
from storage.clean import clean_optional, clean_text
from storage.inputs import CrawlIn, ValidatorsIn
from storage.models import CrawlRun, HttpValidator, Source, utcnow
from storage.updates_write import SaveCounts, save_posts

_SOURCES = Source.__table__
STATE_COLUMNS = ("had_posts", "polls", "failures", "current_interval", "paginated")
# What the scheduler may set on a source after a crawl.
SCHEDULE_COLUMNS = frozenset(
    {"next_run_at", "failures", "backoff_until", "current_interval", "lease_owner", "lease_until"}
)


@dataclass(frozen=True, slots=True)
class CrawlState:
    """What the next crawl of a source starts from."""

    source_id: int
    had_posts: bool  # it has given posts before (extraction is stricter with a page that did)
    polls: int
    failures: int  # failed crawls in a row
    current_interval: float | None
    paginated: bool  # its last page read linked to a next one


@dataclass(frozen=True, slots=True)
class StoredValidators:
    etag: str | None
    last_modified: str | None


# Statements every poll runs, built once, for a batch of sources.
_STATES = select(_SOURCES.c.id, *(_SOURCES.c[c] for c in STATE_COLUMNS)).where(
    _SOURCES.c.id.in_(bindparam("source_ids", expanding=True))
)
_V = HttpValidator.__table__.c
_VALIDATORS = select(_V.source_id, _V.url, _V.etag, _V.last_modified).where(
    _V.source_id.in_(bindparam("source_ids", expanding=True))
)
_ENDED = select(_SOURCES.c.ended).where(_SOURCES.c.id == bindparam("source_id"))
_INSERT_RUN = insert(CrawlRun.__table__)


def _state(row: Row[Any]) -> CrawlState:
    return CrawlState(row[0], *row[1:])


def crawl_states(session: Session, source_ids: Sequence[int]) -> dict[int, CrawlState]:
    """The crawl state of these sources, by id (a source without a row is left out)."""
    rows = session.execute(_STATES, {"source_ids": list(source_ids)})
    return {row[0]: _state(row) for row in rows}


def claim_crawl_states(
    session: Session, source_ids: Sequence[int], owner: str, until: datetime, now: datetime
) -> dict[int, CrawlState]:
    """`crawl_states` of the sources whose lease `owner` holds or takes until `until`, read
    by the claim itself; the sources another worker holds are left out."""
    rows = leases.claim_many_reading(session, source_ids, owner, until, now, STATE_COLUMNS)
    return {source_id: _state(row) for source_id, row in rows.items()}


def stored_validators(
    session: Session, source_ids: Sequence[int]
) -> dict[tuple[int, str], StoredValidators]:
    """The HTTP validators stored for these sources, by (source id, URL)."""
    rows = session.execute(_VALIDATORS, {"source_ids": list(source_ids)})
    return {(r.source_id, r.url): StoredValidators(r.etag, r.last_modified) for r in rows}


def save_validators(
    session: Session, source_id: int, validators: Mapping[str, ValidatorsIn], now: datetime
) -> None:
    """Store the validators a crawl received, replacing those of the same URLs."""
    for raw_url, v in validators.items():
        url = clean_text(raw_url)
        etag, modified = clean_optional(v.etag), clean_optional(v.last_modified)
        row = session.execute(
            select(HttpValidator).where(
                HttpValidator.source_id == source_id, HttpValidator.url == url
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(
                HttpValidator(
                    source_id=source_id,
                    url=url,
                    etag=etag,
                    last_modified=modified,
                    updated_at=now,
                )
            )
        else:
            row.etag, row.last_modified, row.updated_at = etag, modified, now


@dataclass(frozen=True, slots=True)
class FinishedCrawl:
    """A crawl to record: its source, the crawl, what its posts did to the store
    (`save_posts`), and the schedule the scheduler decided from that (SCHEDULE_COLUMNS)."""

    source_id: int
    crawl: CrawlIn
    counts: SaveCounts
    schedule: Mapping[str, Any]


def record_crawls(
    session: Session,
    crawls: Sequence[FinishedCrawl],
    *,
    now: datetime | None = None,
    worker: str | None = None,
) -> None:
    """Record finished crawls (of different sources): the validators they received, each
    source's new state and a crawl record; one executemany per statement for the lot."""
    now = now or utcnow()
    values = []
    for c in crawls:
        unknown = set(c.schedule) - SCHEDULE_COLUMNS
        if unknown:
            raise ValueError(f"record_crawls: not schedule columns: {sorted(unknown)}")
        save_validators(session, c.source_id, c.crawl.validators, now)
        values.append(_source_values(session, c, now) | {"last_worker": worker})
    _write_sources(session, [c.source_id for c in crawls], values)
    session.execute(_INSERT_RUN, [_run_row(c, now, worker) for c in crawls])


def save_crawl(
    session: Session,
    source_id: int,
    crawl: CrawlIn,
    *,
    now: datetime | None = None,
    worker: str | None = None,
) -> SaveCounts:
    """One crawl stored whole, with no schedule decided: its posts, then its record. The
    scheduler's polls compose the same steps with their schedule (`scheduler/store_steps.py`)."""
    now = now or utcnow()
    counts = save_posts(session, source_id, crawl.posts, now)
    record_crawls(session, [FinishedCrawl(source_id, crawl, counts, {})], now=now, worker=worker)
    return counts


def _source_values(session: Session, c: FinishedCrawl, now: datetime) -> dict[str, Any]:
    """What the source's row becomes after this crawl."""
    crawl, counts = c.crawl, c.counts
    error = clean_optional(crawl.error)
    values: dict[str, Any] = {
        "last_crawl_at": now,
        "last_status": crawl.status,
        "last_http_status": crawl.http_status,
        # A crawl that worked around bad input (a truncated feed, a wrong charset) says so.
        "last_error": error or ("; ".join(map(clean_text, crawl.warnings))[:2000] or None),
    }
    if crawl.path:
        values["last_path"] = crawl.path
    if crawl.pages:  # it read a page: whether that page links to more is news
        values["paginated"] = crawl.paginated
    if counts.new or counts.changed:
        values["last_change_at"] = now
    if crawl.posts:
        values["had_posts"] = True
    if crawl.ended and not session.execute(_ENDED, {"source_id": c.source_id}).scalar_one():
        values["ended"], values["ended_at"] = True, now
    if crawl.status == "gone":
        values["gone"] = True
    values.update(c.schedule)
    return values


def _run_row(c: FinishedCrawl, now: datetime, worker: str | None) -> dict[str, Any]:
    crawl = c.crawl
    return {
        "source_id": c.source_id,
        "started_at": crawl.started_at or now,
        "finished_at": now,
        "status": crawl.status,
        "http_status": crawl.http_status,
        "error": clean_optional(crawl.error),
        "pages": crawl.pages,
        "new": c.counts.new,
        "changed": c.counts.changed,
        "unchanged": c.counts.unchanged,
        "duration_ms": int(crawl.duration * 1000),
        "worker": worker,
    }


@cache
def _source_update(columns: frozenset[str]) -> UpdateStatement:
    """UPDATE sources SET <columns>, polls = polls + 1 WHERE id = :source_id (built once
    per set of columns: a poll's statement is compiled once, not every time)."""
    values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in sorted(columns)}
    values["polls"] = _SOURCES.c.polls + 1
    return update(_SOURCES).where(_SOURCES.c.id == bindparam("source_id")).values(values)


def _write_sources(
    session: Session, source_ids: Sequence[int], values: Sequence[dict[str, Any]]
) -> None:
    """The sources' new state: one executemany per set of columns. In source order, so that
    concurrent writers lock the rows of sources in one order."""
    updates: dict[frozenset[str], list[dict[str, Any]]] = {}
    for source_id, v in sorted(zip(source_ids, values, strict=True), key=lambda p: p[0]):
        params = {f"v_{k}": value for k, value in v.items()}
        params["source_id"] = source_id
        updates.setdefault(frozenset(v), []).append(params)
    for columns, rows in updates.items():
        session.execute(_source_update(columns), rows)
    if session.identity_map:
        for source_id in source_ids:
            loaded = session.identity_map.get(identity_key(Source, source_id))
            if loaded is not None:  # a Source this session holds no longer says what the row says
                session.expire(loaded)
