"""When the store forgets: the records of polls older than `[storage] keep_crawl_runs`
are pruned at start and then every hour, a batch per transaction taking its turn with
the polls' writes (`storage/retention.py` says what is pruned)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage.retention import BATCH, prune_crawl_runs_batch

log = logging.getLogger("vigie.retention")

EVERY = 3600.0  # seconds between two prunings
MOST_BATCHES = 40  # per pruning: a store with years behind it catches up over a few hours

Run = Callable[[Callable[[Session], int]], Awaitable[int]]


async def prune_once(
    run: Run, keep: float, now: datetime, stopped: Callable[[], bool] = lambda: False
) -> int:
    """The crawl records started more than `keep` seconds before `now`, deleted a batch at
    a time through `run` (a store step) until none is left or `stopped()`; how many."""
    before = now - timedelta(seconds=keep)
    total = 0
    for _ in range(MOST_BATCHES):
        if stopped():
            break
        done = await run(lambda session: prune_crawl_runs_batch(session, before))
        total += done
        if done < BATCH:
            break
    return total


async def prune_forever(
    run: Run, keep: Callable[[], float], clock: Callable[[], datetime], stop: asyncio.Event
) -> None:
    """`prune_once` now and every EVERY seconds until `stop` (a round ends between two
    batches when it is set); a failure is logged and the next round tries again."""
    while not stop.is_set():
        try:
            pruned = await prune_once(run, keep(), clock(), stop.is_set)
            if pruned:
                log.info("retention: %d crawl records pruned", pruned)
        except SQLAlchemyError as exc:
            log.warning("retention: %s", " ".join(str(exc).split())[:300])
        except Exception as exc:  # never the end of pruning for the daemon's life
            if stop.is_set():
                return  # the store queue closed under a round cut short by the stop
            log.warning("retention: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EVERY)
