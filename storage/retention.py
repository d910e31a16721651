"""What the store forgets: the records of old polls (`crawl_runs`), a batch at a time.

A poll writes one `crawl_runs` row, changed page or not: at a poll a minute, 1,000 sources
make 1.4 million rows a day, more than their posts by far. Nothing of vigie reads them
back but the tests and an operator's SQL, so past `keep_crawl_runs` they go. Posts,
revisions and the schedule are never pruned. Rows are taken oldest first by id (ids grow
with time; no index on the start time is needed), in bounded batches, each its own
transaction, so that a store with months of records behind it never holds the write lock
long.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun

BATCH = 5_000

_RUNS = CrawlRun.__table__


def prune_crawl_runs_batch(session: Session, before: datetime, batch: int = BATCH) -> int:
    """Delete up to `batch` of the oldest crawl records started before `before`; how many."""
    oldest = session.execute(
        select(_RUNS.c.id, _RUNS.c.started_at).order_by(_RUNS.c.id).limit(batch)
    ).all()
    doomed = [rid for rid, started in oldest if started < before]
    if doomed:
        session.execute(delete(_RUNS).where(_RUNS.c.id.in_(doomed)))
    return len(doomed)
