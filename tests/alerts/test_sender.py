"""The sender against loopback channels, on SQLite and PostgreSQL: a signed webhook and
apprise's json:// and form:// targets; one message per event with its idempotency key;
digests; a channel answering 500 then 200; a channel that hangs while another delivers on
time; a sender that died mid-send replaced by one that resends the same key; hostile text
kept plain and bounded."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from scheduler.alerts.channels import mask_apprise
from scheduler.alerts.sender import Sender
from scheduler.alerts.setup import AlertSetup, Channel, Delivery
from storage import alert_deliveries
from storage.alert_match import Query, Watch, Watches
from storage.db import Store
from storage.models import AlertDelivery, AlertMessage
from tests.alerts.receiver import Receiver
from tests.alerts.test_outbox import Source, post

SECRET = "s3cret-for-the-hook"
FAST = Delivery(timeout=1.5, retry_min=1.0, retry_max=2.0, give_up_after=3600, every=0.1)


def webhook(receiver: Receiver, path: str = "/hook") -> Channel:
    return Channel("webhook", receiver.url(path), f"webhook {path}", SECRET)


def apprise(kind: str, receiver: Receiver, path: str) -> Channel:
    url = f"{kind}://127.0.0.1:{receiver.port}{path}"
    return Channel("apprise", url, mask_apprise(url))


def setup_of(watches: Watches, channels: dict[str, tuple[Channel, ...]], **kw: Any) -> AlertSetup:
    return AlertSetup(watches, channels, kw.pop("delivery", FAST), zones={"afp": "Europe/Paris"})


def run_until(sender: Sender, done: Callable[[], bool], timeout: float = 20.0) -> None:
    """The sender's loop, until `done()` (or fail after `timeout` seconds)."""

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(sender.run(stop))
        deadline = time.monotonic() + timeout
        try:
            while not done():
                assert time.monotonic() < deadline, "the sender did not get there in time"
                assert not task.done(), task.exception()
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(main())


def deliveries(store: Store) -> list[AlertDelivery]:
    with store.session() as s:
        rows = list(s.execute(select(AlertDelivery).order_by(AlertDelivery.id)).scalars())
        s.expunge_all()
        return rows


def first_status(store: Store) -> str | None:
    found = deliveries(store)
    return found[0].status if found else None


def test_webhook_json_and_form_each_get_one_message_per_event(
    store: Store, receiver: Receiver
) -> None:
    watches = Watches((Watch("zel", Query.parse("zelensky"), first_crawl="each"),))
    chans = (webhook(receiver), apprise("json", receiver, "/j"), apprise("form", receiver, "/f"))
    src = Source(store, watches)
    src.crawl([post(1, "Zelensky arrive à Bruxelles."), post(2, "Météo.")])
    src.crawl([post(1, "Zelensky arrive à Bruxelles ce soir."), post(2, "Météo.")])
    sender = Sender(store, setup_of(watches, {"zel": chans}), "test:1")
    run_until(sender, lambda: all(len(receiver.at(p)) == 2 for p in ("/hook", "/j", "/f")))
    hooks = receiver.at("/hook")
    keys = [r.key for r in hooks]
    assert keys[0].startswith("zel:u") and keys[0].endswith(":r1") and keys[1].endswith(":r2")
    for r in hooks:
        expected = "sha256=" + hmac.new(SECRET.encode(), r.body, hashlib.sha256).hexdigest()
        assert r.header("X-Vigie-Signature") == expected
        assert r.json()["key"] == r.key
    new, edited = (r.json() for r in hooks)
    assert new["events"][0]["kind"] == "new" and new["events"][0]["source"] == "afp"
    assert "09:01 Europe/Paris" in new["text"]  # 08:01 UTC, in the source's zone
    assert edited["events"][0]["previous"]["body"] == "Zelensky arrive à Bruxelles."
    assert "[-Bruxelles.-] {+Bruxelles ce soir.+}" in edited["text"]
    # apprise's targets carry the key too, and the same text
    assert [r.key for r in receiver.at("/j")] == keys
    assert receiver.at("/j")[0].json()["title"].startswith("[zel] afp: Titre 1")
    form = parse_qs(receiver.at("/f")[0].body.decode())
    assert "Zelensky arrive" in form["message"][0]
    assert [r.key for r in receiver.at("/f")] == keys
    assert {d.status for d in deliveries(store)} == {"sent"}
    # nothing more goes out: a new round finds nothing to do
    run_until(Sender(store, setup_of(watches, {"zel": chans}), "test:2"), lambda: True)
    time.sleep(0.3)
    assert len(receiver.at("/hook")) == 2


def test_a_digest_gathers_its_window(store: Store, receiver: Receiver) -> None:
    watches = Watches((Watch("dig", None, digest=1.0),))
    src = Source(store, watches)
    src.had_posts = True
    src.crawl([post(1)])
    src.crawl([post(1), post(2), post(3)])
    sender = Sender(store, setup_of(watches, {"dig": (webhook(receiver),)}), "test:1")
    run_until(sender, lambda: len(receiver.at("/hook")) == 1)
    time.sleep(0.5)
    (got,) = receiver.at("/hook")
    body = got.json()
    assert len(body["events"]) == 3 and got.key.startswith("dig:digest:")
    assert body["text"].startswith("3 updates in 1 s · afp")


def test_first_crawl_is_one_digest(store: Store, receiver: Receiver) -> None:
    watches = Watches((Watch("all", None),))
    src = Source(store, watches)
    src.crawl([post(n) for n in range(1, 41)])
    sender = Sender(store, setup_of(watches, {"all": (webhook(receiver),)}), "test:1")
    run_until(sender, lambda: len(receiver.at("/hook")) == 1)
    time.sleep(0.3)
    (got,) = receiver.at("/hook")
    assert len(got.json()["events"]) == 40
    assert "40 updates in one poll" in got.json()["text"]
    assert "… and 20 more" in got.json()["text"]


def test_500_then_200_is_retried_with_the_same_key(store: Store, receiver: Receiver) -> None:
    receiver.plans["/hook"] = [500, 503]
    watches = Watches((Watch("all", None, first_crawl="each"),))
    Source(store, watches).crawl([post(1)])
    sender = Sender(store, setup_of(watches, {"all": (webhook(receiver),)}), "test:1")
    run_until(sender, lambda: first_status(store) == "sent")
    got = receiver.at("/hook")
    assert len(got) == 3 and len({r.key for r in got}) == 1
    (d,) = deliveries(store)
    assert d.attempts == 3 and d.last_error is None


def test_a_hanging_channel_does_not_hold_up_another(store: Store, receiver: Receiver) -> None:
    receiver.hang.add("/slow")
    watches = Watches((Watch("all", None, first_crawl="each"),))
    chans = (webhook(receiver, "/slow"), apprise("json", receiver, "/j"))
    src = Source(store, watches)
    src.crawl([post(1)])
    src.crawl([post(1), post(2)])
    patient = Delivery(timeout=8, retry_min=1, retry_max=2, give_up_after=3600, every=0.1)
    sender = Sender(store, setup_of(watches, {"all": chans}, delivery=patient), "test:1")
    slow_tried: list[int] = []

    def on_time() -> bool:
        if len(receiver.at("/j")) < 2:
            return False
        slow_tried.extend(d.attempts for d in deliveries(store) if d.channel == chans[0].id)
        return True

    run_until(sender, on_time)
    # both went out on time while the slow channel's first attempt still hung
    assert slow_tried == [0, 0]
    assert len(receiver.at("/slow")) == 1
    run_until(sender, lambda: any(d.last_error for d in deliveries(store)), timeout=20)
    slow = [d for d in deliveries(store) if d.channel == chans[0].id]
    assert slow[0].status == "pending" and "timed out" in (slow[0].last_error or "")
    # one at a time per channel, in order: its second message waits behind the first
    assert {r.key for r in receiver.at("/slow")} == {receiver.at("/j")[0].key}


def test_a_dead_senders_claim_is_resent_with_the_same_key(store: Store, receiver: Receiver) -> None:
    watches = Watches((Watch("all", None, first_crawl="each"),))
    Source(store, watches).crawl([post(1)])
    setup = setup_of(watches, {"all": (webhook(receiver),)})
    dead = Sender(store, setup, "localhost-gone:999999999:x")
    dead.pack()
    now = datetime.now(UTC)
    with store.read_session() as s:
        due = alert_deliveries.due_deliveries(s, now)
    with store.session() as s:
        # held for an hour by a sender of this host whose process is gone
        import socket

        owner = f"{socket.gethostname()}:999999999:dead"
        held = alert_deliveries.claim(s, due, owner, now + timedelta(hours=1), now)
    assert len(held) == 1
    started = time.monotonic()
    run_until(Sender(store, setup, "test:2"), lambda: first_status(store) == "sent")
    assert time.monotonic() - started < 5
    assert [r.key for r in receiver.at("/hook")] == [held[0].key]


def test_a_delivery_is_given_up_after_its_time(store: Store, receiver: Receiver) -> None:
    receiver.plans["/hook"] = [500] * 100
    watches = Watches((Watch("all", None, first_crawl="each"),))
    Source(store, watches).crawl([post(1)])
    brief = Delivery(timeout=1, retry_min=1, retry_max=1, give_up_after=1.5, every=0.1)
    sender = Sender(store, setup_of(watches, {"all": (webhook(receiver),)}, delivery=brief), "t")
    run_until(sender, lambda: first_status(store) == "failed")
    assert "HTTP 500" in (deliveries(store)[0].last_error or "")


def test_hostile_text_stays_plain_and_bounded(store: Store, receiver: Receiver) -> None:
    hostile = (
        "<script>alert(1)</script> **gras** [lien](http://evil.example) \u202eevil "
        "\x1b[31mrouge " + "x" * 50_000
    )
    watches = Watches((Watch("all", None, first_crawl="each"),))
    Source(store, watches).crawl([post(1, hostile, headline="<b>Titre</b>\n\n# Titre" * 50)])
    chans = (webhook(receiver), apprise("json", receiver, "/j"))
    run_until(
        Sender(store, setup_of(watches, {"all": chans}), "t"),
        lambda: len(receiver.at("/j")) == 1 and len(receiver.at("/hook")) == 1,
    )
    body = receiver.at("/hook")[0].json()
    assert len(body["text"]) <= 3_500 and len(body["title"]) <= 200
    assert "\u202e" not in body["text"] and "\x1b" not in body["text"]
    assert "\n\n#" not in body["title"]
    sent = receiver.at("/j")[0].json()
    assert len(sent["message"]) <= 3_500
    assert sent["type"] == "info"


def test_markdown_and_html_channels_get_the_text_escaped() -> None:
    """Apprise is told the body is plain text: it escapes it for what each service reads."""
    from apprise import NotifyFormat
    from apprise.conversion import convert_between

    text = "**gras** [lien](http://evil.example) <b>x</b>"
    as_markdown = convert_between(NotifyFormat.TEXT, NotifyFormat.MARKDOWN, text)
    as_html = convert_between(NotifyFormat.TEXT, NotifyFormat.HTML, text)
    assert "\\*\\*gras\\*\\*" in as_markdown and "\\[lien\\]" in as_markdown
    assert "<b>" not in as_html and "&lt;b&gt;" in as_html


def test_a_redirect_is_a_failure_not_followed(store: Store, receiver: Receiver) -> None:
    receiver.plans["/hook"] = [302]
    watches = Watches((Watch("all", None, first_crawl="each"),))
    Source(store, watches).crawl([post(1)])
    sender = Sender(store, setup_of(watches, {"all": (webhook(receiver),)}), "t")
    run_until(sender, lambda: first_status(store) == "sent")
    (d,) = deliveries(store)
    assert d.attempts == 2 and len(receiver.at("/hook")) == 2


def test_retry_after_values() -> None:
    from email.utils import format_datetime

    from scheduler.alerts.channels import _retry_after

    assert _retry_after("120") == 120
    assert _retry_after("99999999999") == 86400
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 < (_retry_after(later) or 0) <= 60
    for junk in (None, "", "soon", "-5", "1e9", "Mon, 99 Foo"):
        assert _retry_after(junk) is None, junk


def test_digests_gathering_thousands_hold_up_nothing(store: Store) -> None:
    digests = tuple(Watch(f"d{i}", None, digest=3600.0) for i in range(5))
    watches = Watches((*digests, Watch("now", None, sources=frozenset({"other"}))))
    afp = Source(store, watches)
    afp.had_posts = True
    afp.crawl([post(n) for n in range(1, 451)])  # 5 x 450 events gathering for an hour
    other = Source(store, watches, "other")
    other.had_posts = True
    other.crawl([post(1)])
    with store.read_session() as s:
        groups = alert_deliveries.ready_groups(s, {w.name: 3600.0 for w in digests}, afp.now)
    assert [(g[0].watch, len(g)) for g in groups] == [("now", 1)]


def test_a_channel_with_a_backlog_holds_up_no_other(store: Store) -> None:
    now = datetime.now(UTC)
    with store.session() as s:
        for i in range(301):
            m = AlertMessage(
                watch="w", key=f"k{i}", title="t", body="b", payload="{}", events=1, created_at=now
            )
            s.add(m)
            s.flush()
            channel = "backlog" if i < 300 else "other"
            s.add(
                AlertDelivery(
                    message_id=m.id,
                    channel=channel,
                    label=channel,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    with store.read_session() as s:
        due = alert_deliveries.due_deliveries(s, now)
        assert [(j.channel, j.key) for j in due] == [("backlog", "k0"), ("other", "k300")]
        assert alert_deliveries.due_deliveries(s, now, busy=["backlog"])[0].key == "k300"
