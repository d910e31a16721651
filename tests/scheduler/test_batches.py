"""The store queue: steps of concurrent polls share a transaction, and a failing step fails
alone."""

from __future__ import annotations

import asyncio
import threading
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


class Held:
    """Steps that note the order they ran in; the first one holds the batch (on the store's
    thread) until the test lets it go, so that a call comes while the batch runs."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.runs: dict[str, int] = {}
        self.started = threading.Event()
        self.go = threading.Event()

    def step(self, name: str, *, hold: bool = False) -> Any:
        add = _add(name)

        def run(session: Session) -> str:
            self.runs[name] = self.runs.get(name, 0) + 1
            if hold:
                self.started.set()
                assert self.go.wait(10)
            self.order.append(name)
            return add(session)  # type: ignore[no-any-return]

        return run

    async def batch_with_a_call(
        self, queue: StoreQueue, steps: list[Any], call: Any
    ) -> tuple[list[Any], Any]:
        batch = asyncio.gather(*(queue.run(s) for s in steps), return_exceptions=True)
        while not self.started.is_set():
            await asyncio.sleep(0.01)
        asked = asyncio.ensure_future(queue.call(call))
        await asyncio.sleep(0.05)  # the call is waiting
        self.go.set()
        return await batch, await asked


def test_a_call_goes_ahead_of_the_rest_of_a_running_batch(store: Store) -> None:
    """The alert sender's writes (`call`) wait for the step in progress, not for the
    hundred steps of the batch: the batch commits what it did, and goes on after."""
    queue = StoreQueue(store)
    held = Held()
    names = [f"s{i}" for i in range(30)]
    steps = [held.step(n, hold=n == "s0") for n in names]

    def call() -> set[str]:
        held.order.append("call")
        return _names(store)  # what it sees is committed

    results, seen = asyncio.run(held.batch_with_a_call(queue, steps, call))
    queue.close()
    assert held.order == ["s0", "call", *names[1:]]
    assert seen == {"s0"}
    assert results == names and _names(store) == set(names)
    assert set(held.runs.values()) == {1}


def test_a_step_failing_after_a_call_reruns_only_the_steps_not_committed(store: Store) -> None:
    queue = StoreQueue(store)
    held = Held()
    group = Recorder()
    steps = [held.step("a", hold=True), held.step("b"), held.step("bad"), held.step("c")]

    async def main() -> tuple[list[Any], Any, list[Any]]:
        grouped = asyncio.gather(*(queue.run_grouped(group, i) for i in ["x", "y"]))
        results, called = await held.batch_with_a_call(queue, steps, lambda: "called")
        return results, called, await grouped

    results, called, grouped = asyncio.run(main())
    queue.close()
    assert called == "called"
    assert results[:2] == ["a", "b"] and results[3] == "c" and isinstance(results[2], ValueError)
    assert grouped == ["X", "Y"]
    # "a" was committed before the call: it is not run again; "b" and "bad" failed
    # together, then each ran alone; the steps after them still went together.
    assert held.runs == {"a": 1, "b": 2, "bad": 2, "c": 1}
    assert group.calls == [["x", "y"]]
    assert _names(store) == {"a", "b", "c"}


def test_a_call_after_close_fails_and_an_idle_queue_runs_calls_at_once(store: Store) -> None:
    queue = StoreQueue(store)
    assert asyncio.run(queue.call(lambda a, b: a + b, 2, 3)) == 5

    async def failing() -> None:
        await queue.call(_raise, "boom")

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(failing())
    queue.close()
    with pytest.raises(RuntimeError):
        asyncio.run(queue.call(lambda: 1))
    assert not queue._calls


def _raise(message: str) -> None:
    raise ValueError(message)
