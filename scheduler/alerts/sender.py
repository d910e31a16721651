"""The sender: a task of the daemon's event loop that turns the outbox into messages and
delivers them, retrying with capped backoff, without ever holding up a crawl.

Each round (every `Delivery.every` seconds, or at once when a poll committed events or
a channel's sends ended): events ready to go out become messages, each with one pending
delivery per channel of its watch (one transaction, committed before any send); then
every channel with nothing in flight gets its oldest due delivery, claimed and sent as a
task of its own, which goes on with the channel's next due delivery while the channel
acknowledges (claimed in the transaction that records the previous one: a backlog goes
out one message after the other, not one per round). A channel that hangs holds only
its own task (each send is bounded by `timeout`); the others go on. An acknowledged
delivery is marked sent at once; a failed one is retried after retry_min, doubling up to
retry_max (or the channel's Retry-After), and given up `give_up_after` the message was
made. Database work runs in threads, the writes on the daemon's store thread ahead of
the polls' batches (scheduler/batches.py); when there is nothing to do, a round costs two
reads.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler.alerts.channels import DeliveryError, send
from scheduler.alerts.messages import message_key, render
from scheduler.alerts.setup import AlertSetup, Channel
from storage import alert_deliveries as outbox
from storage.db import Store
from storage.leases import alive_here

log = logging.getLogger("vigie.alerts")

SEND_THREADS = 4  # apprise's services block: they run in threads of their own
STOP_GRACE = 2.0  # seconds in-flight sends may take at a stop
CLAIM_MARGIN = 30.0  # seconds a claim outlives a send's timeout
MIN_ROUND = 0.1  # seconds between two rounds at least


Writer = Callable[..., Awaitable[Any]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Sender:
    def __init__(
        self,
        store: Store,
        setup: AlertSetup,
        owner: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        write: Writer = asyncio.to_thread,
    ) -> None:
        """`write(fn, *args)`: where the sender's write transactions run; the daemon gives
        its store queue's (`StoreQueue.call`), so that on SQLite they take turns with the
        polls' batches on one thread instead of fighting them for the write lock."""
        self.store = store
        self.write = write
        self.setup = setup
        self.owner = owner
        self.clock = clock
        self.inflight: dict[str, asyncio.Task[None]] = {}  # channel id -> its sends
        self.stopping = False
        self._wake = asyncio.Event()
        self._rng = random.Random()

    def wake(self) -> None:
        """Events were committed: look now rather than at the next round (on the loop)."""
        self._wake.set()

    def configure(self, setup: AlertSetup) -> None:
        """A reloaded config: its watches and channels from the next round on."""
        self.setup = setup
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        pool = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="vigie-alerts")
        client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        self.stopping = False
        try:
            await self.write(self._start)
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                started = loop.time()
                self._wake.clear()  # a wake from now on (a commit during the round) counts
                try:
                    if not self.setup.empty:
                        await self.round(client, pool)
                except (SQLAlchemyError, OSError) as exc:  # the store is down: next round
                    log.warning("alerts: store: %s", " ".join(str(exc).split())[:300])
                await self._pause(stop)
                spare = MIN_ROUND - (loop.time() - started)  # a stream of wakes: rounds spaced
                if spare > 0 and not stop.is_set():
                    await asyncio.sleep(spare)
        finally:
            self.stopping = True  # the sends in flight end, their channels' next stay
            if self.inflight:
                await asyncio.wait(list(self.inflight.values()), timeout=STOP_GRACE)
            for task in self.inflight.values():
                task.cancel()
            await self.write(self._release)
            await client.aclose()
            pool.shutdown(wait=False, cancel_futures=True)

    def _release(self) -> None:
        """What this sender did not finish is the next one's, at once."""
        try:
            with self.store.session() as session:
                outbox.release_claims(session, self.owner)
        except SQLAlchemyError:
            log.warning("alerts: claims not released: they expire")

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until the next round: `every` seconds, a stop or a new config."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        await asyncio.wait(waits, timeout=self.setup.delivery.every, return_when="FIRST_COMPLETED")
        for w in waits:
            w.cancel()

    def _start(self) -> None:
        if any(c.kind == "apprise" for c in self.setup.all_channels().values()):
            import apprise  # noqa: F401  (its first import takes a second: not in a send)

        with self.store.session() as session:
            freed = outbox.release_dead_claims(session, alive_here)
            dropped = outbox.drop_channels(
                session, self.setup.all_channels(), "the channel is no longer in the config"
            )
        if freed or dropped:
            log.info("alerts: %d deliveries resumed, %d dropped", freed, dropped)

    async def round(self, client: httpx.AsyncClient, pool: ThreadPoolExecutor) -> int:
        """Pack what is ready, start the sends that are due; how many sends started."""
        groups = await asyncio.to_thread(self._ready)  # reads: off the store's writer
        if groups:
            await self.write(self._pack, groups)
        due = await asyncio.to_thread(self._due)
        jobs = await self.write(self._take, due) if due else []
        for job in jobs:
            task = asyncio.ensure_future(self._deliver_in_turn(job, client, pool))
            self.inflight[job.channel] = task
            task.add_done_callback(lambda _t, c=job.channel: self._sent(c))
        return len(jobs)

    async def _deliver_in_turn(
        self, job: outbox.DeliveryJob, client: httpx.AsyncClient, pool: ThreadPoolExecutor
    ) -> None:
        """`job`, then while its channel acknowledges, the channel's next due delivery,
        claimed as the previous one is recorded: a backlog goes out one message after
        the other, with one write between two, not one round each."""
        following: outbox.DeliveryJob | None = job
        while following is not None and not self.stopping:  # at a stop: released
            channel = self.setup.all_channels().get(following.channel)
            following = await self._deliver(following, channel, client, pool)

    def _sent(self, channel: str) -> None:
        """A channel's sends are over: the next round may give it its next delivery
        (due later, or come meanwhile) without waiting for `every`."""
        self.inflight.pop(channel, None)
        self._wake.set()

    def pack(self) -> int:
        """Events ready to go out, made into messages with their deliveries; how many."""
        return self._pack(self._ready())

    def _ready(self) -> list[list[outbox.EventView]]:
        with self.store.read_session() as session:
            return outbox.ready_groups(session, self.setup.windows(), self.clock())

    def _pack(self, groups: list[list[outbox.EventView]]) -> int:
        if not groups:
            return 0
        now = self.clock()
        setup = self.setup
        windows = setup.windows()
        try:
            with self.store.session() as session:
                for events in groups:
                    watch = events[0].watch
                    text = render(
                        events, setup.zones, link_base=setup.link_base, window=windows.get(watch)
                    )
                    outbox.add_message(
                        session,
                        events,
                        key=message_key(events),
                        title=text.title,
                        body=text.body,
                        payload=text.payload_json(),
                        channels=[(c.id, c.label) for c in setup.channels.get(watch, ())],
                        now=now,
                    )
        except (outbox.PackConflict, SQLAlchemyError) as exc:
            # Another sender packed some of them first: read again next round.
            log.info("alerts: packing again next round (%s)", type(exc).__name__)
            return 0
        return len(groups)

    def _due(self) -> list[outbox.DeliveryJob]:
        with self.store.read_session() as session:
            return outbox.due_deliveries(session, self.clock(), busy=list(self.inflight))

    def _take(self, due: list[outbox.DeliveryJob]) -> list[outbox.DeliveryJob]:
        with self.store.session() as session:
            return self._claim(session, due, self.clock())

    def _claim(
        self, session: Session, due: list[outbox.DeliveryJob], now: datetime
    ) -> list[outbox.DeliveryJob]:
        until = now + timedelta(seconds=self.setup.delivery.timeout + CLAIM_MARGIN)
        return outbox.claim(session, due, self.owner, until, now)

    async def _deliver(
        self,
        job: outbox.DeliveryJob,
        channel: Channel | None,
        client: httpx.AsyncClient,
        pool: ThreadPoolExecutor,
    ) -> outbox.DeliveryJob | None:
        """One send, recorded; the channel's next delivery, claimed, when it went out."""
        delivery = self.setup.delivery
        error: DeliveryError | None = None
        if channel is None:
            error = DeliveryError("the channel is no longer in the config")
        else:
            try:
                await send(
                    channel,
                    key=job.key,
                    title=job.title,
                    body=job.body,
                    payload=job.payload,
                    timeout=delivery.timeout,
                    client=client,
                    pool=pool,
                )
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # a bug in a channel: that delivery fails, not the sender
                log.exception("alerts: sending %s failed", job.key)
                error = DeliveryError(f"internal: {type(exc).__name__}: {exc}"[:300])
        now = self.clock()
        if error is None:
            following = await self.write(self._record, job, None, None, not self.stopping)
            log.info("alert sent: %s to %s", job.key, channel.label if channel else job.channel)
            return following
        retry_at = self._retry_at(job, error, now) if channel is not None else None
        await self.write(self._record, job, error.reason, retry_at)
        label = channel.label if channel is not None else job.channel
        if retry_at is None:
            log.warning("alert given up: %s to %s: %s", job.key, label, error.reason)
        else:
            log.warning(
                "alert not delivered: %s to %s: %s; again at %s",
                job.key,
                label,
                error.reason,
                retry_at.isoformat(timespec="seconds"),
            )
        return None

    def _retry_at(
        self, job: outbox.DeliveryJob, error: DeliveryError, now: datetime
    ) -> datetime | None:
        d = self.setup.delivery
        delay = min(d.retry_max, d.retry_min * 2 ** min(job.attempts, 30))
        delay *= self._rng.uniform(0.9, 1.1)  # senders restarted together spread out
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, d.retry_max))
        retry_at = now + timedelta(seconds=delay)
        if retry_at - job.first_at > timedelta(seconds=d.give_up_after):
            return None
        return retry_at

    def _record(
        self,
        job: outbox.DeliveryJob,
        error: str | None,
        retry_at: datetime | None,
        claim_next: bool = False,
    ) -> outbox.DeliveryJob | None:
        """The attempt's outcome; with `claim_next`, its channel's next due delivery
        claimed in the same transaction (after the record: a delivery the channel
        acknowledged is marked sent before the next is claimed)."""
        now = self.clock()
        try:
            with self.store.session() as session:
                if error is not None:
                    outbox.record_failure(session, job.id, error, retry_at)
                    return None
                outbox.record_sent(session, job.id, now)
                if not claim_next:
                    return None
                due = outbox.due_deliveries(session, now, only=[job.channel])
                held = self._claim(session, due, now)
                return held[0] if held else None
        except SQLAlchemyError:
            # Not recorded: the claim expires and the delivery is sent again, with its key.
            log.exception("alerts: cannot record the delivery of %s", job.key)
            return None
