"""Store work of concurrent polls, done by one thread in shared transactions.

A poll touches the store twice: before its crawl (claim the lease, read the crawl state)
and after it (save the crawl). Done one transaction and one thread hop per step, that
work cost more than the crawl of an unchanged page; the poller also fought the store
thread for the GIL at every hop. `StoreQueue` gathers the steps that polls ask for while
the store thread is busy and runs them together: one hop and one transaction for the
lot, each step a function of the session.

A step that raises is not allowed to take the others down with it: the transaction is
rolled back and every step of the batch is run again in a transaction of its own, so each
gets its own outcome, as when they were not batched. A crawl's writes stay atomic: they
commit with their batch or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from storage.db import Store

log = logging.getLogger("vigie.store")
T = TypeVar("T")
MAX_BATCH = 100  # steps per transaction


@dataclass(slots=True)
class _Step:
    fn: Callable[[Session], Any]
    future: asyncio.Future[Any]
    alone: bool = False


class StoreQueue:
    """Runs `fn(session)` steps on the store's thread, batched while it is busy.

    One thread: SQLite has one writer at a time anyway, and threads fighting for its write
    lock wait in its busy handler, which sleeps. On PostgreSQL several batches may run at
    once (`threads`).
    """

    def __init__(self, store: Store, threads: int = 1) -> None:
        self.store = store
        self.threads = threads
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="vigie-store")
        self._pending: list[_Step] = []
        self._running = 0
        self._drains: set[asyncio.Task[None]] = set()

    async def run(self, fn: Callable[[Session], T], *, alone: bool = False) -> T:
        """`fn(session)` in a store transaction shared with other steps (in one of its own
        when `alone`: a crawl with many posts, whose objects should not pile up in a
        session shared with others); its result."""
        loop = asyncio.get_running_loop()
        step = _Step(fn, loop.create_future(), alone)
        self._pending.append(step)
        if self._running < self.threads:
            self._running += 1
            task = loop.create_task(self._drain())
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        return await step.future  # type: ignore[no-any-return]

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the store's thread, outside any batch (it opens its own session)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args))

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch = self._next_batch()
                try:
                    outcomes = await loop.run_in_executor(self.executor, self._run_batch, batch)
                except BaseException as exc:  # the executor itself failed (shut down)
                    outcomes = [(False, exc)] * len(batch)
                for step, (ok, value) in zip(batch, outcomes, strict=True):
                    if step.future.done():
                        continue
                    if ok:
                        step.future.set_result(value)
                    else:
                        step.future.set_exception(value)
        finally:
            self._running -= 1

    def _next_batch(self) -> list[_Step]:
        """The oldest pending steps: up to MAX_BATCH light ones, or one step run alone."""
        if self._pending[0].alone:
            return [self._pending.pop(0)]
        batch: list[_Step] = []
        rest: list[_Step] = []
        for step in self._pending:
            if step.alone or len(batch) >= MAX_BATCH:
                rest.append(step)
            else:
                batch.append(step)
        self._pending = rest
        return batch

    def _run_batch(self, batch: list[_Step]) -> list[tuple[bool, Any]]:
        if len(batch) > 1:
            try:
                with self.store.session() as session:
                    results = [step.fn(session) for step in batch]
                return [(True, r) for r in results]
            except Exception as exc:
                log.debug("store: a batch of %d failed (%s); one by one now", len(batch), exc)
        outcomes: list[tuple[bool, Any]] = []
        for step in batch:
            try:
                with self.store.session() as session:
                    outcomes.append((True, step.fn(session)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    def close(self) -> None:
        """Let the thread go (it also goes when the queue is collected)."""
        self.executor.shutdown(wait=False)
