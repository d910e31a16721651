"""Store work of concurrent polls, done by one thread in shared transactions.

A poll touches the store twice: before its crawl (claim the lease, read the crawl state)
and after it (save the crawl). Done one transaction and one thread hop per step, that
work cost more than the crawl of an unchanged page; the poller also fought the store
thread for the GIL at every hop. `StoreQueue` gathers the steps that polls ask for while
the store thread is busy and runs them together: one hop and one transaction for the
lot, each step a function of the session.

Steps of the same kind can be grouped (`run_grouped`): a batch hands all the items of one
group function to a single call of it, which does their work in a few set-wise statements
(one UPDATE ... WHERE id IN (...) for a hundred lease claims, one executemany for a hundred
crawl records) instead of a few statements per item; each statement costs more in
SQLAlchemy than in the database.

A poll announces its save while it crawls (`coming`); a batch then waits for such steps a
little (LINGER), so that the saves of polls answered a millisecond apart share one commit
instead of one each. Nothing announced, nothing waited for.

A step that raises is not allowed to take the others down with it: the transaction is
rolled back and every step of the batch is run again in a transaction of its own (a
grouped one as a group of one), so each gets its own outcome, as when they were not
batched. A crawl's writes stay atomic: they commit with their batch or not at all.

`call`s (the alert sender's short transactions) do not wait for a batch: under load a
batch of a hundred saves takes seconds, and a message that waited for one per step
(pack, claim, record) came many seconds late. A batch running when a call comes commits
the steps it has done, runs the call, and goes on with the rest in a new transaction:
a call waits for one step at most, the polls lose one commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from storage.db import Store

log = logging.getLogger("vigie.store")
T = TypeVar("T")
ItemT = TypeVar("ItemT")
MAX_BATCH = 100  # steps per transaction
LINGER = 0.05  # seconds a step may wait for the steps announced as coming

# Does the work of several items at once: one result per item, in their order.
Group = Callable[[Session, list[ItemT]], list[T]]


@dataclass(slots=True)
class _Step:
    fn: Callable[[Session], Any] | None
    future: asyncio.Future[Any]
    alone: bool = False
    group: Group[Any, Any] | None = None
    item: Any = None
    since: float = 0.0  # when it was asked for (loop time)

    def run(self, session: Session) -> Any:
        if self.group is None:
            assert self.fn is not None
            return self.fn(session)
        return self.group(session, [self.item])[0]


@dataclass(slots=True)
class _Call:
    """A `call` waiting for the store's thread: run by a batch between two of its steps,
    or by a job of its own when no batch runs."""

    fn: Callable[[], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


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
        self._coming = 0  # steps announced (`coming`), not asked for yet
        self._lingering: list[asyncio.Future[None]] = []
        self._calls: deque[_Call] = deque()  # shared with the store's threads

    async def run(self, fn: Callable[[Session], T], *, alone: bool = False) -> T:
        """`fn(session)` in a store transaction shared with other steps (in one of its own
        when `alone`: a crawl with many posts, whose objects should not pile up in a
        session shared with others); its result."""
        future = asyncio.get_running_loop().create_future()
        return await self._add(_Step(fn, future, alone))  # type: ignore[no-any-return]

    async def run_grouped(self, group: Group[ItemT, T], item: ItemT) -> T:
        """`item` done by `group(session, items)` together with the other items of the same
        group in the batch (a shared transaction); its result."""
        future = asyncio.get_running_loop().create_future()
        return await self._add(_Step(None, future, group=group, item=item))  # type: ignore[no-any-return]

    @contextmanager
    def coming(self) -> Iterator[None]:
        """Announces a step asked for when the block ends (a poll's save, after its crawl):
        meanwhile, batches wait for it a little (LINGER) rather than commit without it."""
        self._coming += 1
        try:
            yield
        finally:
            self._coming -= 1
            self._wake()

    def _add(self, step: _Step) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        step.since = loop.time()
        self._pending.append(step)
        if self._running < self.threads:
            self._running += 1
            task = loop.create_task(self._drain())
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        self._wake()
        return step.future

    def _wake(self) -> None:
        """Ends the lingering of batches that have nothing more to wait for."""
        if self._lingering and (self._coming == 0 or len(self._pending) >= MAX_BATCH):
            for waiter in self._lingering:
                if not waiter.done():
                    waiter.set_result(None)
            self._lingering.clear()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the store's thread, outside any batch (it opens its own session),
        ahead of the steps waiting: a batch running yields to it after its current step."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        call = _Call(lambda: fn(*args), future, loop)
        self._calls.append(call)
        try:
            self.executor.submit(self._run_calls)
        except RuntimeError:  # closed
            self._calls.remove(call)
            raise
        return await future  # type: ignore[no-any-return]

    def _run_calls(self) -> None:
        """The calls waiting, on this store thread (whichever thread pops one runs it)."""
        while True:
            try:
                call = self._calls.popleft()
            except IndexError:
                return
            if call.future.cancelled():  # its caller is gone (read off the loop: a hint)
                continue
            try:
                outcome: tuple[bool, Any] = (True, call.fn())
            except BaseException as exc:  # the caller's, as run_in_executor would give it
                outcome = (False, exc)
            with suppress(RuntimeError):  # the loop is closed: nobody waits any more
                call.loop.call_soon_threadsafe(_settle, call.future, outcome)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                await self._linger(loop)
                if not self._pending:  # another drain took them
                    break
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

    async def _linger(self, loop: asyncio.AbstractEventLoop) -> None:
        """While steps are announced as coming, give the oldest pending one up to LINGER to
        be joined by them. With many polls in flight their saves come at the pace of the
        responses, one every millisecond or so; a transaction per handful of steps costs more
        (session, BEGIN, a COMMIT writing the same pages again) than the steps themselves.
        Nothing coming (one poll alone, the last of a burst): no wait."""
        head = self._pending[0]
        if head.alone or self._coming == 0 or len(self._pending) >= MAX_BATCH:
            return
        wait = head.since + LINGER - loop.time()
        if wait <= 0:
            return
        waiter: asyncio.Future[None] = loop.create_future()
        self._lingering.append(waiter)
        timer = loop.call_later(wait, _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()

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
        """The batch's outcomes, in transactions of as many of its steps as can run before a
        call comes (all of them, usually)."""
        outcomes: list[tuple[bool, Any]] = [(False, None)] * len(batch)
        units = _units(batch)
        while units:
            self._run_calls()
            done = 0
            if len(units) > 1 or len(units[0]) > 1:
                results: dict[int, Any] = {}
                try:
                    with self.store.session() as session:
                        for unit in units:
                            results.update(_run_unit(session, batch, unit))
                            done += 1
                            if self._calls and done < len(units):
                                break  # commit what is done, let the call go first
                    for i, result in results.items():
                        outcomes[i] = (True, result)
                    units = units[done:]
                    continue
                except Exception as exc:
                    log.debug("store: a batch of %d failed (%s); one by one now", len(batch), exc)
            failed, units = units[: done + 1], units[done + 1 :]
            for unit in failed:
                for i in unit:
                    try:
                        with self.store.session() as session:
                            outcomes[i] = (True, batch[i].run(session))
                    except Exception as exc:
                        outcomes[i] = (False, exc)
        return outcomes

    def close(self) -> None:
        """Let the thread go once the batch it runs, if any, is done; steps asked for after
        this fail (RuntimeError). It also goes when the queue is collected."""
        self.executor.shutdown(wait=True)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _units(batch: list[_Step]) -> list[list[int]]:
    """The batch in the pieces it runs in: each plain step alone, in its order, then each
    group once with all its items (steps in one batch are of different polls, whose order
    between them does not matter); as indexes into the batch."""
    units: list[list[int]] = []
    groups: dict[Group[Any, Any], list[int]] = {}
    for i, step in enumerate(batch):
        if step.group is None:
            units.append([i])
        else:
            groups.setdefault(step.group, []).append(i)
    return units + list(groups.values())


def _run_unit(session: Session, batch: list[_Step], unit: list[int]) -> dict[int, Any]:
    """The results of one unit of a batch (index -> result), in the batch's session."""
    first = batch[unit[0]]
    if first.group is None:
        return {unit[0]: first.run(session)}
    out = first.group(session, [batch[i].item for i in unit])
    return dict(zip(unit, out, strict=True))
