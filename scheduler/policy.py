"""When to poll a source next: adaptive intervals, backoff, jitter. Pure functions.

- A source that changed is polled at its configured interval again.
- A source that did not change slows down by half its interval each poll, up to 8 times the
  interval; it speeds up again as soon as something new arrives.
- A failing source backs off exponentially from its interval, capped, reset on success;
  a server's Retry-After is honoured when it asks for more.
- An ended live blog or a gone (410) page has no next run.
- A worker that keeps its sources (the daemon) holds a source's lease until its next run
  plus a grace period; one that polls once lets it go.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_SLOWDOWN = 8.0
SLOWDOWN_STEP = 1.5
LEASE_GRACE = (10.0, 60.0)  # seconds a lease outlives the next run: the interval, within these


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a crawl did, as far as scheduling cares."""

    status: str  # ok | not_modified | error | gone
    changed: bool = False
    ended: bool = False
    retry_after: float | None = None


def jittered(seconds: float, jitter: float, rng: random.Random | None = None) -> float:
    spread = seconds * jitter
    return max(0.5, seconds + (rng or random).uniform(-spread, spread))


def next_state(
    *,
    now: datetime,
    base_interval: float,
    current_interval: float | None,
    failures: int,
    outcome: Outcome,
    jitter: float,
    max_backoff: float,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """The source's schedule fields after a crawl (as stored on its row)."""
    if outcome.status == "gone" or outcome.ended:
        return {
            "next_run_at": None,
            "failures": 0,
            "backoff_until": None,
            "current_interval": base_interval,
        }
    if outcome.status == "error":
        failures += 1
        delay = min(base_interval * 2 ** min(failures, 20), max(max_backoff, base_interval))
        if outcome.retry_after:
            delay = max(delay, outcome.retry_after)
        until = now + timedelta(seconds=jittered(delay, jitter, rng))
        return {
            "next_run_at": until,
            "failures": failures,
            "backoff_until": until,
            "current_interval": current_interval or base_interval,
        }
    if outcome.changed or current_interval is None:
        interval = base_interval
    else:
        interval = min(current_interval * SLOWDOWN_STEP, base_interval * MAX_SLOWDOWN)
    interval = max(interval, base_interval)
    return {
        "next_run_at": now + timedelta(seconds=jittered(interval, jitter, rng)),
        "failures": 0,
        "backoff_until": None,
        "current_interval": interval,
    }


def lease_after(
    owner: str | None, *, sticky: bool, interval: float, next_run: datetime | None
) -> dict[str, Any]:
    """The source's lease fields after a poll by `owner` (None: no leases, nothing to set).
    `sticky`: the worker keeps its sources, until the next run and a grace period (a dead
    worker's sources are taken over that much later); else, or with no next run, freed."""
    if owner is None:
        return {}
    if not sticky or next_run is None:
        return {"lease_owner": None, "lease_until": None}
    low, high = LEASE_GRACE
    grace = timedelta(seconds=min(max(low, interval), high))
    return {"lease_owner": owner, "lease_until": next_run + grace}
