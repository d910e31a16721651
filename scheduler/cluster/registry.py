"""Each process's heartbeat row in the store (`cluster_workers`): who it is, its role,
what it runs, when it last said so. `vigie workers` and /health read them."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.cluster import WorkerBeat, beat, leave
from storage.db import Store

log = logging.getLogger("vigie.cluster")


def _version() -> str | None:
    try:
        return importlib.metadata.version("vigie")
    except importlib.metadata.PackageNotFoundError:
        return None


VERSION = _version()


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Load:
    running: int = 0
    polls: int = 0
    errors: int = 0
    active_scheduler: bool = False
    engine_id: int | None = None


class Registry:
    """Writes `name`'s row every `every` seconds, with `load()` as it is then."""

    def __init__(
        self, store: Store, name: str, role: str, every: float, load: Callable[[], Load]
    ) -> None:
        self.store = store
        self.name = name
        self.role = role
        self.every = every
        self.load = load
        self.started_at = datetime.now(UTC)

    def _row(self) -> WorkerBeat:
        load = self.load()
        return WorkerBeat(
            name=self.name,
            role=self.role,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=self.started_at,
            heartbeat_at=datetime.now(UTC),
            heartbeat_every=self.every,
            running=load.running,
            polls=load.polls,
            errors=load.errors,
            active_scheduler=load.active_scheduler,
            engine_id=load.engine_id,
            version=VERSION,
        )

    def beat(self) -> None:
        with self.store.session() as session:
            beat(session, self._row())

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until `stop` is set; a failed beat is logged once and tried again."""
        failing = False
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.beat)
                if failing:
                    log.info("heartbeat: the store answers again")
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("heartbeat: cannot write to the store: %s", exc)
                failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)

    def leave(self) -> None:
        """Take the row out on a clean stop."""
        try:
            with self.store.session() as session:
                leave(session, self.name)
        except Exception as exc:
            log.warning("cannot unregister %s: %s", self.name, exc)
