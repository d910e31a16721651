"""Reading the store: updates with filters, one update with its history, sources overview,
and the small lookups a crawl needs (validators, known posts).

Rows come back as plain dicts with the contract's field names, times as aware datetimes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.models import RawPost, Validators
from storage import dedup
from storage.models import CrawlRun, HttpValidator, Revision, Source, Update, UpdateKey

MAX_LIMIT = 100_000


@dataclass(slots=True)
class UpdateFilter:
    sources: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    highlighted: bool | None = None
    edited: bool | None = None
    limit: int | None = 100
    offset: int = 0
    story: int | None = None
    ids: Sequence[int] = field(default_factory=tuple)


def update_row(u: Update, source: str) -> dict[str, Any]:
    return {
        "id": u.id,
        "source": source,
        "url": u.url,
        "headline": u.headline,
        "body": u.body,
        "published_at": u.published_at,
        "updated_at": u.updated_at,
        "first_seen_at": u.first_seen_at,
        "last_seen_at": u.last_seen_at,
        "revisions": u.revisions,
        "highlighted": u.highlighted,
        "story": u.story_id,
    }


def _order_newest(stmt: Any) -> Any:
    published = func.coalesce(Update.published_at, Update.first_seen_at)
    return stmt.order_by(published.desc(), Update.id.desc())


def list_updates(session: Session, f: UpdateFilter) -> list[dict[str, Any]]:
    """Updates matching the filter, newest first (by published time, else first seen)."""
    stmt = select(Update, Source.name).join(Source, Source.id == Update.source_id)
    if f.sources:
        stmt = stmt.where(Source.name.in_(list(f.sources)))
    when = func.coalesce(Update.published_at, Update.first_seen_at)
    if f.since:
        stmt = stmt.where(when >= f.since)
    if f.until:
        stmt = stmt.where(when <= f.until)
    if f.highlighted is not None:
        stmt = stmt.where(Update.highlighted.is_(f.highlighted))
    if f.edited is not None:
        stmt = stmt.where(Update.revisions > 1 if f.edited else Update.revisions == 1)
    if f.story is not None:
        stmt = stmt.where(Update.story_id == f.story)
    if f.ids:
        stmt = stmt.where(Update.id.in_(list(f.ids)))
    stmt = _order_newest(stmt)
    if f.limit is not None:
        stmt = stmt.limit(min(f.limit, MAX_LIMIT))
    if f.offset:
        stmt = stmt.offset(f.offset)
    return [update_row(u, name) for u, name in session.execute(stmt)]


def get_update(session: Session, update_id: int) -> dict[str, Any] | None:
    """One update with its revisions (oldest first) and its sightings in other sources."""
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
    row["history"] = [
        {
            "number": r.number,
            "headline": r.headline,
            "body": r.body,
            "updated_at": r.updated_at,
            "seen_at": r.seen_at,
        }
        for r in revs
    ]
    row["sightings"] = []
    if u.story_id is not None:
        others = list_updates(session, UpdateFilter(story=u.story_id, limit=200))
        row["sightings"] = [o for o in others if o["id"] != u.id]
    return row


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
    prints = [
        [dedup.key_hash(k) for k in (p.key, *p.alt_keys) if k]
        + [dedup.key_hash(dedup.content_print(p.headline, p.body, p.published_at))]
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
