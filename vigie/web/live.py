"""Live updates: one watcher per `vigie serve` process reads the store's change feed
(storage/changes.py) every POLL_SECONDS while pages are open, renders each change once
per kind of page (its sources, its language) and hands the events to every open page as
server-sent events. Nothing polls per reader: a hundred open pages cost one small query
per tick, and a render per change and kind of page.

The daemon (`vigie run`) is another process writing to the same database: its commits
are what the watcher sees, on SQLite and on PostgreSQL alike. Each event's id is the
revision id it comes from; a page that reconnects sends the last one it had
(Last-Event-ID, or `after` for its first connection: the newest revision when the page
was rendered) and gets what it missed, read from the store, before the live events. A
page that missed too much is told to reload (`stale`); a page that cannot keep up (its
queue full) is disconnected, and catches up the same way when it reconnects.

The watcher stops when the last page has been gone for IDLE_SECONDS and starts again
with the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage.changes import Change, changes_after, latest_revision_id
from storage.db import Store

log = logging.getLogger("vigie.web.live")

POLL_SECONDS = 0.5
IDLE_SECONDS = 10.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 30 * 60.0  # a stream ends after this; the browser reconnects at once
RETRY_MS = 2000  # how long a browser waits before reconnecting after an error
QUEUE_EVENTS = 200  # events a page may have waiting before it is disconnected
BATCH = 200  # changes read per tick, at most
REPLAY = 200  # changes sent to a reconnecting page, at most; beyond: `stale`
MAX_PAGES = 1000  # open pages per process
GAP_SECONDS = 30.0  # how long a skipped revision id is looked for again (PostgreSQL)
SHUTDOWN_GRACE = 3.0  # seconds `vigie serve` gives open streams when it stops


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event, ready to send."""

    id: int  # the revision id
    name: str
    data: str  # JSON on one line

    def encode(self) -> bytes:
        return f"id: {self.id}\nevent: {self.name}\ndata: {self.data}\n\n".encode()


# Renders changes for one kind of page: (session, changes, key) -> events. Runs in a
# worker thread with a read session.
Renderer = Callable[[Session, Sequence[Change], Hashable], list[Event]]


class Busy(Exception):
    """Too many open pages."""


@dataclass(eq=False)
class _Page:
    key: Hashable
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_EVENTS))


class ChangeFeed:
    """The watcher of one process and the pages it feeds."""

    def __init__(self, store: Store, render: Renderer, *, poll: float = POLL_SECONDS) -> None:
        self.store, self.render, self.poll = store, render, poll
        self.pages: set[_Page] = set()
        self.ticks = 0  # store reads made, for tests and benchmarks
        self._task: asyncio.Task[None] | None = None
        self._gaps: dict[int, float] = {}  # skipped revision id -> when first skipped

    # --- the watcher -----------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="vigie-live")

    async def close(self) -> None:
        """Stop the watcher and end every stream."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for page in list(self.pages):
            self._drop(page)

    async def _watch(self) -> None:
        last = await asyncio.to_thread(self._latest)
        idle_since: float | None = None
        while True:
            await asyncio.sleep(self.poll)
            if not self.pages:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > IDLE_SECONDS:
                    return
                continue
            idle_since = None
            keys = {p.key for p in self.pages}
            try:
                last, events = await asyncio.to_thread(self._tick, last, keys)
            except SQLAlchemyError as exc:
                log.warning("live: cannot read the store now: %s", exc)
                continue
            for page in list(self.pages):
                for event in events.get(page.key, ()):
                    try:
                        page.queue.put_nowait(event)
                    except asyncio.QueueFull:
                        log.info("live: a page fell behind; it will catch up on reconnect")
                        self._drop(page)
                        break

    def _latest(self) -> int:
        with self.store.read_session() as session:
            return latest_revision_id(session)

    def _tick(self, last: int, keys: set[Hashable]) -> tuple[int, dict[Hashable, list[Event]]]:
        """Read the changes after `last` (and the skipped ids still awaited), render them
        for each kind of page; the new `last` and the events of each kind."""
        self.ticks += 1
        now = time.monotonic()
        self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_SECONDS}
        with self.store.read_session() as session:
            changes = changes_after(session, last, also=list(self._gaps), limit=BATCH)
            if not changes:
                return last, {}
            for c in changes:
                self._gaps.pop(c.revision_id, None)
            newest = max(last, *(c.revision_id for c in changes))
            seen = {c.revision_id for c in changes}
            for missing in range(last + 1, newest):
                if missing not in seen and len(self._gaps) < BATCH * 5:
                    self._gaps.setdefault(missing, now)
            return newest, {key: self._rendered(session, changes, key) for key in keys}

    def _rendered(self, session: Session, changes: Sequence[Change], key: Hashable) -> list[Event]:
        """The events of one kind of page; none when rendering fails (a bug, logged): the
        watcher goes on, and the pages get those rows when they next load."""
        try:
            return self.render(session, changes, key)
        except SQLAlchemyError:
            raise
        except Exception:
            log.exception("live: cannot render %d changes for %r", len(changes), key)
            return []

    # --- one page ----------------------------------------------------------------------------

    def _drop(self, page: _Page) -> None:
        """End a page's stream: what it had waiting is left out (it reconnects, and reads
        it from the store)."""
        self.pages.discard(page)
        while not page.queue.empty():
            page.queue.get_nowait()
        page.queue.put_nowait(None)

    def _replay(self, after: int, key: Hashable) -> tuple[list[Event], bool]:
        with self.store.read_session() as session:
            changes = changes_after(session, after, limit=REPLAY + 1)
            if len(changes) > REPLAY:
                return [], True
            return (self._rendered(session, changes, key) if changes else []), False

    async def stream(self, key: Hashable, after: int | None) -> AsyncIterator[bytes]:
        """The server-sent events of one page: what it missed after `after`, then every
        change as it comes, heartbeats in between. Busy when too many pages are open."""
        if len(self.pages) >= MAX_PAGES:
            raise Busy(f"live: {MAX_PAGES} pages are open already")
        page = _Page(key)
        self.pages.add(page)
        self._start()
        return self._events(page, after)

    async def _events(self, page: _Page, after: int | None) -> AsyncIterator[bytes]:
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            replayed: set[int] = set()
            if after is not None:
                events, stale = await asyncio.to_thread(self._replay, after, page.key)
                if stale:
                    yield Event(after, "stale", "{}").encode()
                    return
                for event in events:
                    replayed.add(event.id)
                    yield event.encode()
            ends = time.monotonic() + STREAM_SECONDS
            while (left := ends - time.monotonic()) > 0:
                try:
                    event = await asyncio.wait_for(
                        page.queue.get(), timeout=min(HEARTBEAT_SECONDS, left)
                    )
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if event is None:
                    return
                if event.id not in replayed:
                    yield event.encode()
        finally:
            self.pages.discard(page)
