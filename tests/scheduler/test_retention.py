"""The pruning rounds (scheduler/retention.py) without a store: batches until one is short,
at most MOST_BATCHES a round, cut between two batches by a stop, and a failing step never
the end of pruning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler import retention
from storage.retention import BATCH

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Steps:
    """A store step that 'deletes' from a pile of `left` records, BATCH at a time."""

    def __init__(self, left: int, fail: Exception | None = None) -> None:
        self.left, self.calls, self.fail = left, 0, fail

    async def __call__(self, fn: Callable[[Any], int]) -> int:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        done = min(BATCH, self.left)
        self.left -= done
        return done


def test_a_round_goes_until_a_short_batch() -> None:
    steps = Steps(2 * BATCH + 7)
    assert asyncio.run(retention.prune_once(steps, 3600, NOW)) == 2 * BATCH + 7
    assert steps.calls == 3


def test_a_round_is_bounded() -> None:
    steps = Steps(10**9)
    assert asyncio.run(retention.prune_once(steps, 3600, NOW)) == retention.MOST_BATCHES * BATCH


def test_a_stop_ends_a_round_between_two_batches() -> None:
    steps = Steps(10 * BATCH)
    assert asyncio.run(retention.prune_once(steps, 3600, NOW, lambda: steps.calls >= 2)) == (
        2 * BATCH
    )


@pytest.mark.parametrize("fail", [RuntimeError("cannot schedule new futures"), OSError("disk")])
def test_a_failing_round_is_logged_and_pruning_goes_on(
    fail: Exception, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "EVERY", 0.01)
    steps = Steps(0, fail)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(
            retention.prune_forever(steps, lambda: 3600.0, lambda: NOW, stop)
        )
        while steps.calls < 3:  # rounds after the failures
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert "retention:" in caplog.text and str(fail) in caplog.text
