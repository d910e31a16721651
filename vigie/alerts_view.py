"""What `vigie alerts` and the API's /alerts show: the watches of the config with their
delivery state (channels masked, never a secret), the history of their messages, and the
test message of `vigie alerts test`, sent through every channel of a watch at once."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from storage.alert_history import HistoryRow, WatchStats
from vigie.alerts_config import HEALTH
from vigie.config import Config

WATCH_COLUMNS = (
    "name",
    "query",
    "sources",
    "highlighted",
    "on",
    "digest",
    "channels",
    "messages",
    "last_sent_at",
    "pending",
    "failed",
    "last_error",
)
WATCH_TABLE = ("name", "query", "sources", "channels", "last_sent_at", "pending", "failed")
HISTORY_COLUMNS = (
    "message",
    "watch",
    "created_at",
    "key",
    "title",
    "events",
    "channel",
    "status",
    "attempts",
    "sent_at",
    "last_error",
)
HISTORY_TABLE = ("created_at", "watch", "title", "channel", "status", "attempts", "last_error")


def watch_names(cfg: Config) -> list[str]:
    return [a.name for a in cfg.alerts] + ([HEALTH] if cfg.health_alerts else [])


def watch_rows(cfg: Config, stats: dict[str, WatchStats]) -> list[dict[str, Any]]:
    """One row per watch of the config ([health_alerts] as "health")."""
    setup = cfg.alert_setup()
    rows = []
    for a in cfg.alerts:
        rows.append(
            {
                "name": a.name,
                "query": a.query,
                "sources": a.sources,
                "highlighted": a.highlighted,
                "on": a.on,
                "digest": a.digest,
            }
        )
    if cfg.health_alerts is not None:
        h = cfg.health_alerts
        rows.append(
            {
                "name": HEALTH,
                "query": f"{h.after_failures} failed polls in a row",
                "sources": h.sources,
                "highlighted": False,
                "on": ["failing", "empty", "gone", "recovered"],
                "digest": None,
            }
        )
    for row in rows:
        chans = setup.channels.get(row["name"], ()) if setup else ()
        st = stats.get(row["name"], WatchStats())
        row |= {
            "channels": [c.label for c in chans],
            "messages": st.messages,
            "last_sent_at": st.last_sent_at,
            "pending": st.pending,
            "failed": st.failed,
            "last_error": st.last_error,
        }
    return rows


def history_rows(rows: list[HistoryRow]) -> list[dict[str, Any]]:
    """One row per delivery of a message (newest message first)."""
    return [
        {
            "message": r.message_id,
            "watch": r.watch,
            "created_at": r.created_at,
            "key": r.key,
            "title": r.title,
            "events": r.events,
            "channel": r.channel,
            "status": r.status,
            "attempts": r.attempts,
            "sent_at": r.sent_at,
            "last_error": r.last_error,
        }
        for r in rows
    ]


def history_messages(rows: list[HistoryRow]) -> list[dict[str, Any]]:
    """The API's form: one entry per message, its deliveries inside."""
    messages: dict[int, dict[str, Any]] = {}
    for r in rows:
        m = messages.setdefault(
            r.message_id,
            {
                "id": r.message_id,
                "watch": r.watch,
                "key": r.key,
                "created_at": r.created_at,
                "title": r.title,
                "events": r.events,
                "deliveries": [],
            },
        )
        if r.channel is not None:
            m["deliveries"].append(
                {
                    "channel": r.channel,
                    "status": r.status,
                    "attempts": r.attempts,
                    "sent_at": r.sent_at,
                    "last_error": r.last_error,
                }
            )
    return list(messages.values())


def send_test(cfg: Config, name: str) -> list[tuple[str, str | None]]:
    """A test message through every channel of the watch `name`, at once: (channel label,
    None or why it failed) each. KeyError: no such watch."""
    import httpx

    from scheduler.alerts.channels import DeliveryError, send
    from scheduler.alerts.messages import trial_message

    setup = cfg.alert_setup()
    if setup is None or name not in setup.channels:
        raise KeyError(name)
    channels = setup.channels[name]
    now = datetime.now(UTC)
    key = f"{name}:test:{now:%Y%m%dT%H%M%S.%f}"

    async def one(channel: Any, client: httpx.AsyncClient, pool: ThreadPoolExecutor) -> str | None:
        text = trial_message(name, channel.label, now, key)
        try:
            await send(
                channel,
                key=key,
                title=text.title,
                body=text.body,
                payload=text.payload_json(),
                timeout=setup.delivery.timeout,
                client=client,
                pool=pool,
            )
        except DeliveryError as exc:
            return exc.reason
        return None

    async def all_of() -> list[str | None]:
        with ThreadPoolExecutor(4, thread_name_prefix="vigie-alerts") as pool:
            async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
                return await asyncio.gather(*(one(c, client, pool) for c in channels))

    return list(zip([c.label for c in channels], asyncio.run(all_of()), strict=True))
