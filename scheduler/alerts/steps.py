"""The alerts' step in a poll's transaction: what a saved crawl means for the watches,
written to the outbox with the crawl (storage/outbox.py), so that the events commit or
roll back with the updates they are about."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from crawler.models import CrawlResult
from scheduler.alerts.setup import AlertSetup
from storage.outbox import CrawlOutcome, enqueue_crawl


def record_crawl(
    session: Session,
    setup: AlertSetup | None,
    *,
    source_id: int,
    source: str,
    result: CrawlResult,
    new_ids: Sequence[int],
    changed_ids: Sequence[int],
    highlighted_ids: Sequence[int],
    had_posts: bool,
    failures_before: int,
    failures_after: int,
    now: datetime,
) -> int:
    """The crawl's events, in the caller's transaction; how many (none without watches)."""
    if setup is None or setup.empty:
        return 0
    crawl = CrawlOutcome(
        source_id=source_id,
        source=source,
        new_ids=new_ids,
        changed_ids=changed_ids,
        highlighted_ids=highlighted_ids,
        had_posts=had_posts,
        ok=result.ok,
        gone=result.status == "gone",
        error=result.error,
        failures_before=failures_before,
        failures_after=failures_after,
    )
    return enqueue_crawl(session, setup.watches, crawl, now)
