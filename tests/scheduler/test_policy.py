"""scheduler/policy.py as a table: for each kind of crawl outcome, the schedule fields the
source gets (next run, failures, backoff, interval), and the lease the worker keeps."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.policy import (
    MAX_SLOWDOWN,
    Outcome,
    jittered,
    lease_after,
    next_state,
)

NOW = datetime(2026, 2, 10, 20, 0, tzinfo=UTC)
BASE = 120.0  # the source's configured interval
MAX_BACKOFF = 3600.0


def after(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def state(
    outcome: Outcome, *, current: float | None = None, failures: int = 0, jitter: float = 0.0
) -> dict[str, Any]:
    return next_state(
        now=NOW,
        base_interval=BASE,
        current_interval=current,
        failures=failures,
        outcome=outcome,
        jitter=jitter,
        max_backoff=MAX_BACKOFF,
    )


# (what happened, current interval, failures before) -> (next run in s, failures, backoff?,
# interval after); no jitter.
CASES = [
    # The first crawl, and any crawl that changed something: the configured interval.
    ("first ok", Outcome("ok"), None, 0, 120.0, 0, False, 120.0),
    ("changed", Outcome("ok", changed=True), 900.0, 0, 120.0, 0, False, 120.0),
    # Unchanged (a 200 with nothing new, a 304): half the interval more each time...
    ("unchanged once", Outcome("ok"), 120.0, 0, 180.0, 0, False, 180.0),
    ("not modified", Outcome("not_modified"), 180.0, 0, 270.0, 0, False, 270.0),
    # ... up to 8 times the interval, and never below the configured one.
    ("slowest", Outcome("not_modified"), 900.0, 0, 960.0, 0, False, 960.0),
    ("stays slowest", Outcome("not_modified"), 960.0, 0, 960.0, 0, False, 960.0),
    ("interval shortened", Outcome("not_modified"), 60.0, 0, 120.0, 0, False, 120.0),
    # A success after failures: the count is reset, the backoff is over.
    ("recovered", Outcome("ok", changed=True), 120.0, 3, 120.0, 0, False, 120.0),
    # Errors back off exponentially from the interval (2^failures), capped at max_backoff.
    ("first error", Outcome("error"), 120.0, 0, 240.0, 1, True, 120.0),
    ("second error", Outcome("error"), 120.0, 1, 480.0, 2, True, 120.0),
    ("fifth error", Outcome("error"), 120.0, 4, 3600.0, 5, True, 120.0),
    ("many errors", Outcome("error"), 120.0, 60, 3600.0, 61, True, 120.0),
    ("error keeps the slowdown", Outcome("error"), 500.0, 0, 240.0, 1, True, 500.0),
    ("error before any interval", Outcome("error"), None, 0, 240.0, 1, True, 120.0),
    # Retry-After: honoured when it asks for more than the backoff, ignored when less.
    ("retry after 1200 s", Outcome("error", retry_after=1200.0), 120.0, 0, 1200.0, 1, True, 120.0),
    ("retry after 10 s", Outcome("error", retry_after=10.0), 120.0, 0, 240.0, 1, True, 120.0),
    ("retry after a day", Outcome("error", retry_after=86400.0), None, 0, 86400.0, 1, True, 120.0),
]


@pytest.mark.parametrize(
    ("outcome", "current", "failures", "in_s", "failures_after", "backoff", "interval"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_next_state(
    outcome: Outcome,
    current: float | None,
    failures: int,
    in_s: float,
    failures_after: int,
    backoff: bool,
    interval: float,
) -> None:
    got = state(outcome, current=current, failures=failures)
    assert got["next_run_at"] == after(in_s)
    assert got["failures"] == failures_after
    assert got["backoff_until"] == (after(in_s) if backoff else None)
    assert got["current_interval"] == interval


def test_the_slowdown_reaches_its_ceiling_and_a_change_resets_it() -> None:
    current, seen = None, []
    for _ in range(12):
        current = state(Outcome("not_modified"), current=current)["current_interval"]
        seen.append(current)
    assert seen[:4] == [120.0, 180.0, 270.0, 405.0]
    assert seen[-1] == BASE * MAX_SLOWDOWN and seen == sorted(seen)
    assert state(Outcome("ok", changed=True), current=seen[-1])["current_interval"] == BASE


@pytest.mark.parametrize(
    "outcome",
    [Outcome("gone"), Outcome("ok", ended=True), Outcome("ok", changed=True, ended=True)],
    ids=["gone (410)", "ended", "ended with its last posts"],
)
@pytest.mark.parametrize("failures", [0, 4])
def test_ended_or_gone_has_no_next_run(outcome: Outcome, failures: int) -> None:
    assert state(outcome, current=500.0, failures=failures) == {
        "next_run_at": None,
        "failures": 0,
        "backoff_until": None,
        "current_interval": BASE,
    }


@pytest.mark.parametrize("seconds", [1.0, 120.0, 3600.0])
@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.5])
def test_jitter_stays_within_its_share_of_the_interval(seconds: float, jitter: float) -> None:
    rng = random.Random(7)
    got = [jittered(seconds, jitter, rng) for _ in range(2000)]
    low, high = max(0.5, seconds * (1 - jitter)), seconds * (1 + jitter)
    assert all(low <= g <= high for g in got)
    if jitter:  # spread over the range, not stuck at one end
        assert min(got) < seconds < max(got)
        assert max(got) - min(got) > seconds * jitter
    else:
        assert set(got) == {seconds}


def test_jitter_never_makes_a_run_due_at_once() -> None:
    rng = random.Random(1)
    assert min(jittered(0.4, 0.9, rng) for _ in range(1000)) == 0.5


def test_a_seeded_rng_gives_the_same_schedule() -> None:
    def runs(seed: int) -> list[datetime]:
        rng = random.Random(seed)
        return [
            next_state(
                now=NOW,
                base_interval=BASE,
                current_interval=BASE,
                failures=0,
                outcome=Outcome("ok", changed=True),
                jitter=0.1,
                max_backoff=MAX_BACKOFF,
                rng=rng,
            )["next_run_at"]
            for _ in range(5)
        ]

    assert runs(3) == runs(3) and runs(3) != runs(4)
    assert all(after(108) <= r <= after(132) for r in runs(3))


def test_backoff_is_jittered_too() -> None:
    rng = random.Random(5)
    got = {
        next_state(
            now=NOW,
            base_interval=BASE,
            current_interval=BASE,
            failures=2,
            outcome=Outcome("error"),
            jitter=0.1,
            max_backoff=MAX_BACKOFF,
            rng=rng,
        )["next_run_at"]
        for _ in range(50)
    }
    assert len(got) > 1 and all(after(864) <= r <= after(1056) for r in got)


NEXT = after(600)
LEASES = [
    # (owner, sticky, interval, next run) -> lease fields
    ("no leases (crawl NAME)", None, False, BASE, NEXT, {}),
    ("no leases, sticky", None, True, BASE, NEXT, {}),
    ("run --once", "w1", False, BASE, NEXT, {"lease_owner": None, "lease_until": None}),
    ("daemon", "w1", True, BASE, NEXT, {"lease_owner": "w1", "lease_until": after(660)}),
    ("fast source", "w1", True, 2.0, NEXT, {"lease_owner": "w1", "lease_until": after(610)}),
    ("mid source", "w1", True, 30.0, NEXT, {"lease_owner": "w1", "lease_until": after(630)}),
    ("ended", "w1", True, BASE, None, {"lease_owner": None, "lease_until": None}),
]


@pytest.mark.parametrize(
    ("owner", "sticky", "interval", "next_run", "expected"),
    [c[1:] for c in LEASES],
    ids=[c[0] for c in LEASES],
)
def test_lease_after(
    owner: str | None,
    sticky: bool,
    interval: float,
    next_run: datetime | None,
    expected: dict[str, Any],
) -> None:
    assert lease_after(owner, sticky=sticky, interval=interval, next_run=next_run) == expected
