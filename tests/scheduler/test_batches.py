"""The store queue: steps of concurrent polls share a transaction, and a failing step fails
alone."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.batches import LINGER, StoreQueue
from storage.db import Store
from storage.models import Source


def _add(name: str) -> Any:
    def step(session: Session) -> str:
        session.add(Source(name=name, url=f"https://x/{name}", created_at=datetime.now(UTC)))
        session.flush()
        if name.startswith("bad"):
            raise ValueError(name)
        return name

    return step


def _names(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.execute(select(Source.name)).scalars())


async def _run_all(queue: StoreQueue, names: list[str], alone: bool = False) -> list[Any]:
    return await asyncio.gather(
        *(queue.run(_add(n), alone=alone) for n in names), return_exceptions=True
    )


def test_steps_asked_for_together_share_transactions(store: Store) -> None:
    queue = StoreQueue(store)
    names = [f"s{i}" for i in range(250)]
    results = asyncio.run(_run_all(queue, names))
    queue.close()
    assert results == names
    assert _names(store) == set(names)


def test_a_failing_step_fails_alone(store: Store) -> None:
    queue = StoreQueue(store)
    names = ["a", "bad1", "b", "c", "bad2", "d"]
    results = asyncio.run(_run_all(queue, names))
    queue.close()
    assert results[0] == "a" and results[2:4] == ["b", "c"] and results[5] == "d"
    assert isinstance(results[1], ValueError) and isinstance(results[4], ValueError)
    assert _names(store) == {"a", "b", "c", "d"}  # nothing of the failed steps was kept


@pytest.mark.parametrize("alone", [True, False])
def test_steps_alone_or_not_all_land(store: Store, alone: bool) -> None:
    queue = StoreQueue(store)
    asyncio.run(_run_all(queue, ["x", "y", "z"], alone=alone))
    queue.close()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 3


class Recorder:
    """A group function that remembers the items of each call; an item "bad…" fails it."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, session: Session, items: list[str]) -> list[str]:
        self.calls.append(list(items))
        if any(i.startswith("bad") for i in items):
            raise ValueError(items)
        return [i.upper() for i in items]


def test_grouped_steps_are_done_in_one_call_and_a_failing_one_fails_alone(store: Store) -> None:
    queue = StoreQueue(store)
    group = Recorder()

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(queue.run_grouped(group, i) for i in ["a", "b", "bad", "c"]),
            queue.run(_add("plain")),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    queue.close()
    assert results[:2] == ["A", "B"] and results[3:] == ["C", "plain"]
    assert isinstance(results[2], ValueError)
    # Together first; that failed, so each again alone.
    assert group.calls == [["a", "b", "bad", "c"], ["a"], ["b"], ["bad"], ["c"]]
    assert _names(store) == {"plain"}


def test_a_batch_waits_for_the_steps_announced_and_only_for_them(store: Store) -> None:
    queue = StoreQueue(store)
    group = Recorder()

    async def late(item: str, delay: float) -> str:
        with queue.coming():
            await asyncio.sleep(delay)
        return await queue.run_grouped(group, item)

    async def main(delay: float) -> list[str]:
        # The first step is asked for at once, the others a little later: they are coming.
        return list(
            await asyncio.gather(
                queue.run_grouped(group, "now"), late("x", delay), late("y", delay)
            )
        )

    assert asyncio.run(main(0.005)) == ["NOW", "X", "Y"]
    assert group.calls == [["now", "x", "y"]]
    group.calls.clear()
    # Announced steps that take longer than LINGER are not waited for past it.
    assert asyncio.run(main(LINGER * 4)) == ["NOW", "X", "Y"]
    assert group.calls == [["now"], ["x", "y"]]
    group.calls.clear()
    # Nothing announced: no waiting at all.
    started = time.monotonic()
    assert asyncio.run(_alone(queue, group)) == "SOLO"
    assert time.monotonic() - started < LINGER
    queue.close()


async def _alone(queue: StoreQueue, group: Recorder) -> str:
    return await queue.run_grouped(group, "solo")
