"""What the store forgets: the records of old polls (`crawl_runs`), a batch at a time.

A poll writes one `crawl_runs` row, changed page or not: at a poll a minute, 1,000 sources
make 1.4 million rows a day, more than their posts by far. Nothing of vigie reads them
back but the tests and an operator's SQL, so past `keep_crawl_runs` they go. Posts,
revisions and the schedule are never pruned. Rows are taken in id order (ids grow with time, so the
scan meets the old ones first: no index on the start time is needed), in bounded batches,
each its own transaction, so that a store with months of records behind it never holds
the write lock long.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun

BATCH = 5_000

_RUNS = CrawlRun.__table__


def prune_crawl_runs_batch(session: Session, before: datetime, batch: int = BATCH) -> int:
    """Delete up to `batch` crawl records started before `before`, lowest ids first; how
    many. Records dated later (a clock that ran ahead, then was set right) are passed
    over, not in the way."""
    doomed = list(
        session.execute(
            select(_RUNS.c.id).where(_RUNS.c.started_at < before).order_by(_RUNS.c.id).limit(batch)
        ).scalars()
    )
    if doomed:
        session.execute(delete(_RUNS).where(_RUNS.c.id.in_(doomed)))
    return len(doomed)
