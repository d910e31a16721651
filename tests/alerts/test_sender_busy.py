"""The sender while the daemon is busy: its writes do not wait for a long batch of poll
steps on the store's thread, and a channel with a backlog gets its messages one after the
other, not one per `every`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from scheduler.alerts.sender import Sender
from scheduler.alerts.setup import Delivery
from scheduler.batches import StoreQueue
from storage.alert_match import Watch, Watches
from storage.db import Store
from tests.alerts.receiver import Receiver
from tests.alerts.test_outbox import Source, post
from tests.alerts.test_sender import deliveries, first_status, run_until, setup_of, webhook

STEPS = 40  # poll steps in the batch the sender's writes arrive behind
STEP_HOLD = 0.5  # seconds each of them takes, unless the message has arrived


async def _until(done: Callable[[], bool], task: asyncio.Future[object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not in time"
        assert not task.done(), task
        await asyncio.sleep(0.02)


def test_a_message_goes_out_while_a_long_batch_of_poll_steps_runs(
    store: Store, receiver: Receiver
) -> None:
    watches = Watches((Watch("all", None, first_crawl="each"),))
    Source(store, watches).crawl([post(1)])
    queue = StoreQueue(store)
    sender = Sender(
        store, setup_of(watches, {"all": (webhook(receiver),)}), "test:1", write=queue.call
    )
    sent = threading.Event()  # the delivery is recorded as sent
    steps_done: list[int] = []

    def poll_step(session: Session) -> None:
        # a poll's save, slow as under load; a quick one once the message is out, so that
        # the batch lasts STEPS * STEP_HOLD seconds only if the sender waits for it
        sent.wait(STEP_HOLD)
        steps_done.append(1)

    async def main() -> int:
        batch = asyncio.gather(*(queue.run(poll_step) for _ in range(STEPS)))
        await _until(lambda: len(steps_done) > 0, batch, 10)
        stop = asyncio.Event()
        sending = asyncio.ensure_future(sender.run(stop))
        try:
            await _until(lambda: first_status(store) == "sent", sending, STEPS * STEP_HOLD * 2)
            during = len(steps_done)
            sent.set()
            await batch
        finally:
            stop.set()
            await asyncio.wait_for(sending, 10)
        return during

    during = asyncio.run(main())
    queue.close()
    # packed, claimed, sent and recorded while the batch was still at its first steps
    assert during < STEPS // 2
    assert len(steps_done) == STEPS
    assert [d.status for d in deliveries(store)] == ["sent"]
    assert len(receiver.at("/hook")) == 1


def test_a_channel_with_a_backlog_is_not_paced_by_the_rounds(
    store: Store, receiver: Receiver
) -> None:
    watches = Watches((Watch("all", None, first_crawl="each"),))
    src = Source(store, watches)
    for n in range(1, 6):
        src.crawl([post(i) for i in range(1, n + 1)])  # one new post each: five messages
    # a round every minute: the five go out in a few seconds all the same, one after
    # the other as each send ends
    slow_rounds = Delivery(timeout=2, retry_min=1, retry_max=2, give_up_after=3600, every=60)
    sender = Sender(
        store, setup_of(watches, {"all": (webhook(receiver),)}, delivery=slow_rounds), "test:1"
    )
    run_until(sender, lambda: len(receiver.at("/hook")) == 5, timeout=30)
    keys = [r.key for r in receiver.at("/hook")]
    assert keys == sorted(keys, key=lambda k: int(k.split(":u")[1].split(":")[0]))
    assert len(set(keys)) == 5
    assert {d.status for d in deliveries(store)} == {"sent"}
