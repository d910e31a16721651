"""The store queue: steps of concurrent polls share a transaction, and a failing step fails
alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.batches import StoreQueue
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
