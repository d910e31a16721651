"""Alerts through the real daemon (`vigie run` in a subprocess) on SQLite and PostgreSQL,
against the newsroom fixture and a loopback receiver: one message per new or edited post
(the first crawl one digest), the highlighted-only and sources filters, health alerts
once each; and across kill -9 (between commit and send, and during a send) every event
delivered exactly once as a consumer that drops copies by `X-Vigie-Delivery` sees it."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.db import Store
from storage.models import AlertDelivery, AlertEvent, AlertMessage, Revision, Source, Update
from tests.alerts.receiver import Receiver
from tests.helpers import newsroom_sources, toml_value, write_config
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import timeline
from tests.scheduler.test_daemon import DaemonProcess

pytestmark = pytest.mark.slow

SECRET = "hook-secret-for-tests"
HOOKS = (("/hook", "all"), ("/edits", "edits"), ("/key", "key"), ("/rss", "rss"), ("/q", "storm"))
STATES = timeline()


def alerts_toml(entries: list[dict[str, Any]], tables: dict[str, dict[str, Any]]) -> str:
    lines: list[str] = []
    for name, values in tables.items():
        lines += ["", f"[{name}]"] + [f"{k} = {_value(v)}" for k, v in values.items()]
    for entry in entries:
        lines += ["", "[[alerts]]"] + [f"{k} = {_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _value(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return toml_value(v)


def configure(tmp_path: Path, db_url: str, sources: list[dict[str, Any]], alerts: str) -> Path:
    config = write_config(
        tmp_path / "config.toml",
        sources,
        storage_url=db_url,
        scheduler={"default_interval": "1s", "jitter": "0%", "max_backoff": "2s"},
    )
    config.write_text(config.read_text() + alerts, encoding="utf-8")
    return config


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def scalar(store: Store, stmt: Any) -> int:
    try:
        with store.read_session() as s:
            return int(s.execute(stmt).scalar_one() or 0)
    except Exception:  # the daemon has not made the schema yet
        return 0


def stored(store: Store, source: str = "live-jsonld") -> tuple[int, int]:
    """(updates, revisions) stored of one source."""
    ids = select(Update.id).join(Source, Source.id == Update.source_id)
    ids = ids.where(Source.name == source)
    updates = select(func.count()).select_from(ids.subquery())
    revisions = select(func.count()).select_from(Revision).where(Revision.update_id.in_(ids))
    return scalar(store, updates), scalar(store, revisions)


def expected(step: int) -> tuple[int, int]:
    """(updates, revisions) a perfect crawl of every step up to `step` stores."""
    versions: dict[int, set[tuple[str, str]]] = {}
    for state in STATES[: step + 1]:
        for p in state.posts:
            versions.setdefault(p.n, set()).add((p.headline, p.body))
    return len(versions), sum(len(v) for v in versions.values())


def pending(store: Store) -> int:
    unsent = select(func.count()).select_from(AlertDelivery).where(AlertDelivery.status != "sent")
    unpacked = select(func.count()).select_from(AlertEvent).where(AlertEvent.message_id.is_(None))
    return scalar(store, unsent) + scalar(store, unpacked)


def test_one_message_per_post_exactly_once_across_kill_9(
    tmp_path: Path, db_url: str, receiver: Receiver
) -> None:
    site = Newsroom()
    site.start()
    try:
        sources = newsroom_sources(site)
        live = next(s for s in sources if s["name"] == "live-jsonld")
        rss = next(s for s in sources if s["name"] == "feed-rss")
        alerts = alerts_toml(
            [
                {
                    "name": "all",
                    "webhook": receiver.url("/hook"),
                    "secret": "${HOOK_SECRET}",
                    "notify": [f"json://127.0.0.1:{receiver.port}/j"],
                },
                {"name": "edits", "on": ["edited"], "webhook": receiver.url("/edits")},
                {"name": "key", "highlighted": True, "webhook": receiver.url("/key")},
                {"name": "rss", "sources": ["feed-rss"], "webhook": receiver.url("/rss")},
                {"name": "storm", "query": "tempête -Finistère", "webhook": receiver.url("/q")},
            ],
            {"alert_delivery": {"timeout": "3s", "retry_min": "1s", "retry_max": "2s"}},
        )
        config = configure(tmp_path, db_url, [live, rss], alerts)
        env = {"HOOK_SECRET": SECRET}
        store = Store(db_url, create=True)
        receiver.hang.add("/hook")  # the first send to /hook hangs: killed during a send
        daemon = _daemon(config, env)
        try:
            wait_for(lambda: len(receiver.at("/hook")) == 1, 60, "the first send to /hook")
            site.step = 1  # more events, committed while /hook's first send still hangs
            wait_for(lambda: stored(store) == expected(1), 60, "step 1 stored")
            wait_for(lambda: len(receiver.at("/j")) >= 3, 30, "the json:// channel's messages")
            daemon.proc.send_signal(signal.SIGKILL)
            daemon.proc.wait(10)
        finally:
            daemon.kill()
        unsent = scalar(
            store,
            select(func.count()).select_from(AlertDelivery).where(AlertDelivery.status != "sent"),
        )
        assert unsent >= 2, "the kill left committed events unsent"
        receiver.hang.discard("/hook")
        receiver.released.set()
        daemon = _daemon(config, env)
        try:
            for step in range(2, len(STATES)):
                site.step = step
                wait_for(lambda s=step: stored(store) == expected(s), 60, f"step {step} stored")
            wait_for(lambda: pending(store) == 0, 60, "every message delivered")
            daemon.stop()
        finally:
            daemon.kill()
        # a restart sends nothing again
        daemon = _daemon(config, env)
        try:
            time.sleep(3)
            daemon.stop()
        finally:
            daemon.kill()
        check_deliveries(store, receiver)
    finally:
        site.stop()


def _daemon(config: Path, env: dict[str, str]) -> DaemonProcess:
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return DaemonProcess(config)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_deliveries(store: Store, receiver: Receiver) -> None:
    with store.read_session() as s:
        messages = {m.key: m for m in s.execute(select(AlertMessage)).scalars()}
        events = list(s.execute(select(AlertEvent)).scalars())
        updates = list(s.execute(select(Update)).scalars())
        by_id = {m.id: m for m in messages.values()}
        keys_of = {w: {m.key for m in messages.values() if m.watch == w} for _, w in HOOKS}
        event_message = {e.key: by_id[e.message_id].key for e in events}
    # exactly once, as a consumer dropping copies by key sees it; every event in one message
    assert set(receiver.unique("/j")) == keys_of["all"]  # apprise's json:// carries the key too
    for path, watch in HOOKS:
        got = receiver.unique(path)
        assert set(got) == keys_of[watch], path
        delivered = [ev["key"] for r in got.values() for ev in r.json()["events"]]
        assert len(delivered) == len(set(delivered)), path
        assert set(delivered) == {e.key for e in events if e.watch == watch}, path
    copies = [r.key for r in receiver.at("/hook")]
    assert len(copies) > len(set(copies)), "the send killed mid-flight was sent again"
    assert all(copies.count(k) <= 2 for k in copies)
    for r in receiver.at("/hook"):
        assert r.header("X-Vigie-Signature") == _signature(r.body)
    # every update: one new event per watch of all sources; every edit: one edited event
    all_events = [e for e in events if e.watch == "all"]
    assert sorted(e.update_id for e in all_events if e.kind == "new") == sorted(
        u.id for u in updates
    )
    edits = sum(u.revisions - 1 for u in updates)
    assert edits >= 3
    assert len([e for e in all_events if e.kind == "edited"]) == edits
    assert len([e for e in events if e.watch == "edits"]) == edits
    # the first crawl of each source: one digest; later posts alone
    first = [k for k in keys_of["all"] if ":digest:" in k]
    assert len(first) == 2
    # highlighted only: the key moment, once (it became one after it was stored)
    key_events = [e for e in events if e.watch == "key"]
    assert sorted(e.update_id for e in key_events) == sorted(u.id for u in updates if u.highlighted)
    assert key_events and all(e.kind in ("new", "highlighted") for e in key_events)
    # sources filter
    rss_sources = {ev["source"] for r in receiver.unique("/rss").values() for ev in _events(r)}
    assert rss_sources == {"feed-rss"}

    # the query: what it matched has "tempête" and no "Finistère" (an edit: before or after)
    def matches(headline: str, body: str) -> bool:
        text = f"{headline} {body}".lower()
        return "tempête" in text and "finistère" not in text

    queried = [ev for r in receiver.unique("/q").values() for ev in _events(r)]
    assert queried
    for ev in queried:
        old = ev.get("previous", {"headline": "", "body": ""})
        assert matches(ev["headline"], ev["body"]) or matches(old["headline"], old["body"])
    assert event_message  # every event was packed


def _events(r: Any) -> list[dict[str, Any]]:
    return list(r.json()["events"])


def _signature(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_health_alerts_once_each_and_the_alerts_commands(
    tmp_path: Path, db_url: str, receiver: Receiver
) -> None:
    site = Newsroom()
    site.start()
    try:
        live = next(s for s in newsroom_sources(site) if s["name"] == "live-jsonld")
        alerts = alerts_toml(
            [{"name": "all", "webhook": receiver.url("/hook"), "first_crawl": "none"}],
            {
                "health_alerts": {"after_failures": 2, "webhook": receiver.url("/health")},
                "alert_delivery": {"retry_min": "1s"},
            },
        )
        config = configure(tmp_path, db_url, [live], alerts)
        store = Store(db_url, create=True)
        daemon = _daemon(config, {})

        def kinds() -> list[str]:
            return [r.json()["events"][0]["kind"] for r in receiver.unique("/health").values()]

        try:
            wait_for(lambda: stored(store) == expected(0), 60, "the first crawl")
            site.set_route("/live/jsonld", 500, body="down")
            wait_for(lambda: kinds() == ["failing"], 60, "the failing alert")
            site.extra_routes.clear()
            wait_for(lambda: kinds() == ["failing", "recovered"], 60, "the recovery")
            empty = "<!DOCTYPE html><html><body><p>Rien.</p></body></html>"
            site.set_route("/live/jsonld", headers={"ETag": '"empty"'}, body=empty)
            wait_for(lambda: len(kinds()) == 3, 60, "the posts-disappeared alert")
            polls_then = scalar(store, select(func.sum(Source.polls)))
            wait_for(
                lambda: scalar(store, select(func.sum(Source.polls))) >= polls_then + 3,
                60,
                "more failed polls",
            )
            site.extra_routes.clear()
            wait_for(lambda: len(kinds()) == 4, 60, "the second recovery")
            site.step = 1
            wait_for(lambda: len(receiver.unique("/hook")) == 2, 60, "step 1's two posts")
            daemon.stop()
        finally:
            daemon.kill()
        assert kinds() == ["failing", "recovered", "empty", "recovered"]
        assert len(receiver.at("/health")) == 4  # once each, not at every poll
        texts = [r.json()["text"] for r in receiver.unique("/health").values()]
        assert "live-jsonld stopped answering" in texts[0] and "HTTP 500" in texts[0]
        assert "page structure changed?" in texts[2]
        check_commands(config, receiver)
    finally:
        site.stop()


def check_commands(config: Path, receiver: Receiver) -> None:
    from tests.helpers import run_vigie

    listed = json.loads(run_vigie(config, "alerts", "list", "--format", "json").stdout)
    by_name = {w["name"]: w for w in listed}
    assert set(by_name) == {"all", "health"}
    assert by_name["all"]["messages"] == 2 and by_name["all"]["pending"] == 0
    assert by_name["health"]["last_sent_at"] is not None
    assert by_name["all"]["channels"] == [f"http://127.0.0.1:{receiver.port}/…"]
    table = run_vigie(config, "alerts", "list").stdout
    assert "all" in table and "/hook" not in table
    hist = json.loads(run_vigie(config, "alerts", "history", "-w", "health", "-f", "json").stdout)
    assert [h["status"] for h in hist] == ["sent"] * 4
    assert hist[0]["created_at"] > hist[-1]["created_at"]  # newest first
    rows = run_vigie(config, "alerts", "history", "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("message,watch,created_at,key") and len(rows) == 7
    before = len(receiver.at("/hook"))
    sent = run_vigie(config, "alerts", "test", "all")
    assert sent.stdout.startswith("sent: http://127.0.0.1")
    (got,) = receiver.at("/hook")[before:]
    assert got.json()["test"] is True and ":test:" in (got.key or "")
    unknown = run_vigie(config, "alerts", "test", "nope", check=False)
    assert unknown.returncode == 2 and "no watch named 'nope'" in unknown.stderr
    receiver.plans["/hook"] = [500]
    failing = run_vigie(config, "alerts", "test", "all", check=False)
    assert failing.returncode == 1 and "failed: " in failing.stdout and "HTTP 500" in failing.stdout
