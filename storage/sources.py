"""The rows of the configured sources: created or refreshed from the config, and read back
(their names, the finished ones, an overview of their crawl state)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.bulk import insert_ignore
from storage.clean import clean_text
from storage.models import HttpValidator, Source, Update, utcnow


def ensure_sources(session: Session, sources: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Create or refresh the rows of configured sources (name, url, kind); name -> id."""
    wanted = [(clean_text(n), clean_text(u), clean_text(k)) for n, u, k in sources]
    now = utcnow()
    insert_ignore(
        session,
        Source,
        [
            {
                "name": n,
                "url": u,
                "kind": k,
                "created_at": now,
                "polls": 0,
                "had_posts": False,
                "paginated": False,
                "failures": 0,
                "ended": False,
                "gone": False,
            }
            for n, u, k in wanted
        ],
    )
    rows = session.execute(select(Source).where(Source.name.in_([n for n, _, _ in wanted])))
    ids: dict[str, int] = {}
    by_name = {n: (u, k) for n, u, k in wanted}
    for src in rows.scalars():
        url, kind = by_name[src.name]
        if src.url != url:
            # A new URL is a new page: its validators, pagination and end of coverage no
            # longer apply.
            src.url, src.ended, src.ended_at, src.gone = url, False, None, False
            src.paginated = False
            session.query(HttpValidator).filter_by(source_id=src.id).delete()
        src.kind = kind
        ids[src.name] = src.id
    return ids


def source_names(session: Session) -> list[str]:
    """The names of every stored source (configured now or before), sorted."""
    return list(session.execute(select(Source.name).order_by(Source.name)).scalars())


def finished_sources(session: Session) -> set[str]:
    """The names of the sources not to poll any more: ended live blogs, gone (410) pages."""
    rows = session.execute(
        select(Source.name).where(Source.ended.is_(True) | Source.gone.is_(True))
    )
    return set(rows.scalars())


def sources_overview(session: Session, names: Sequence[str] | None = None) -> dict[str, dict]:
    """Crawl state and update count of each stored source, by name."""
    counts = dict(
        session.execute(select(Update.source_id, func.count()).group_by(Update.source_id)).all()
    )
    stmt = select(Source)
    if names is not None:
        stmt = stmt.where(Source.name.in_(list(names)))
    out: dict[str, dict[str, Any]] = {}
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
            "last_worker": s.last_worker,
            "updates": counts.get(s.id, 0),
        }
    return out
