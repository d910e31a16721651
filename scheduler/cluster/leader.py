"""Which scheduler process is the active one: a session-level PostgreSQL advisory lock.

Every scheduler holds a connection of its own and tries the lock; the one that has it is
active, the others stand by and try again at every tick. The lock goes with the session:
a killed scheduler's connection closes and another takes over at its next tick (under a
second, measured). A frozen or cut-off one keeps its session open, so the session has an
`idle_session_timeout`: the server ends it after that long without a statement (the active
one pings at every tick), which frees the lock. The active scheduler defers its jobs
through this very connection: a deposed one, whose session is gone, cannot enqueue.
(Advisory locks need a session: not behind a PgBouncer in transaction mode.)
"""

from __future__ import annotations

import contextlib
import logging
import time

import psycopg

from scheduler.cluster.engine import connect_options, conninfo

log = logging.getLogger("vigie.cluster")

LOCK_KEY = 0x76696769  # "vigi": one active scheduler per database
IDLE_SESSION = 10  # seconds: a frozen active scheduler loses the lock after this


class Leadership:
    def __init__(self, storage_url: str) -> None:
        self.conninfo = conninfo(storage_url)
        self.conn: psycopg.AsyncConnection | None = None
        self.active = False
        self.since = 0.0  # monotonic time it became active

    async def check(self) -> bool:
        """Whether this process is the active scheduler now: (re)connect, take the lock or
        confirm it is still held. Never raises: a database error means standby."""
        try:
            if self.conn is None or self.conn.closed:
                self.active = False
                self.conn = await psycopg.AsyncConnection.connect(
                    self.conninfo,
                    autocommit=True,
                    connect_timeout=10,
                    options=connect_options(idle_session_timeout=f"{IDLE_SESSION}s"),
                )
            if self.active:
                await self.conn.execute("SELECT 1")
            else:
                cur = await self.conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                row = await cur.fetchone()
                if row and row[0]:
                    self.active, self.since = True, time.monotonic()
                    log.info("this scheduler is now the active one")
        except (psycopg.Error, OSError) as exc:
            if self.active:
                log.warning("lost the scheduler lock (%s): standing by", exc)
            await self.drop()
        return self.active

    async def drop(self) -> None:
        """Give up the connection and with it the lock (a failed statement, a stop)."""
        self.active = False
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await self.conn.close()
            self.conn = None
