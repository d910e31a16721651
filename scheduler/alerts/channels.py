"""Sending one message to one channel, within a time bound: a webhook (a JSON POST signed
with HMAC-SHA256) or an apprise URL (Slack, Telegram, Matrix, ntfy, e-mail, ...).

Every send carries the message's idempotency key (`X-Vigie-Delivery` on webhooks, and on
apprise's json://, form:// and xml:// targets), so a receiver that was sent a message
twice (a sender killed between the send and its record) can drop the copy. A webhook is
acknowledged by a 2xx status, nothing else: redirects are not followed (the message is
not re-posted somewhere else), and the response's body is not read past a few hundred
bytes. Apprise runs in threads of its own (its services are blocking), told the body is
plain text, so that it escapes it for services that read HTML or Markdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from concurrent.futures import Executor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from scheduler.alerts.setup import Channel

log = logging.getLogger("vigie.alerts")

USER_AGENT = "vigie-alerts/0.1 (+https://github.com/vigie-news/vigie)"
ERROR_BODY_BYTES = 300
DELIVERY_HEADER = "X-Vigie-Delivery"
SIGNATURE_HEADER = "X-Vigie-Signature"
HEADER_TARGETS = ("json", "form", "xml")  # apprise services that send our headers


class DeliveryError(Exception):
    """A send that did not reach its channel, and when the channel asked to be retried."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def signature(secret: str, body: bytes) -> str:
    """`X-Vigie-Signature`: sha256=<hex HMAC-SHA256 of the raw body with the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def mask_url(url: str) -> str:
    """A webhook URL as it may be shown: scheme, host and port; the path (often a token)
    and any credentials hidden."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    rest = "/…" if parts.path not in ("", "/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{rest}"


def mask_apprise(url: str) -> str:
    """An apprise URL as apprise prints it with privacy on (tokens starred), without its
    query and with any user part starred too (some services take a token there)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None or _generic(url):  # json://host/path: the path may be a token
        return mask_url(url)
    shown: str = plugin.url(privacy=True).split("?", 1)[0]
    scheme, sep, rest = shown.partition("://")
    user, at, host = rest.partition("@")
    if at and "/" not in user:
        rest = "****@" + host
    return scheme + sep + rest


def _generic(url: str) -> bool:
    """json://, form://, xml:// (and their s forms): plain HTTP posts to any URL."""
    return url.split(":", 1)[0].lower().removesuffix("s") in HEADER_TARGETS


async def send(
    channel: Channel,
    *,
    key: str,
    title: str,
    body: str,
    payload: str,
    timeout: float,
    client: httpx.AsyncClient,
    pool: Executor,
) -> None:
    """Deliver or raise DeliveryError; never takes much longer than `timeout`."""
    try:
        if channel.kind == "webhook":
            await asyncio.wait_for(
                _post(channel, key=key, payload=payload, client=client, timeout=timeout),
                timeout,
            )
        else:
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(pool, _apprise, channel, key, title, body, timeout)
            await asyncio.wait_for(work, timeout + 1.0)
    except TimeoutError:
        raise DeliveryError(f"timed out after {timeout:g}s") from None


async def _post(
    channel: Channel, *, key: str, payload: str, client: httpx.AsyncClient, timeout: float
) -> None:
    data = payload.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: key,
    }
    if channel.secret:
        headers[SIGNATURE_HEADER] = signature(channel.secret, data)
    try:
        async with client.stream(
            "POST", channel.url, content=data, headers=headers, timeout=timeout
        ) as response:
            if 200 <= response.status_code < 300:
                return
            text = b""
            async for chunk in response.aiter_bytes():
                text += chunk
                if len(text) >= ERROR_BODY_BYTES:
                    break
            retry_after = _retry_after(response.headers.get("Retry-After"))
            where = response.headers.get("Location")
            reason = f"HTTP {response.status_code}"
            if where and 300 <= response.status_code < 400:
                reason += " (a redirect: put the final URL in the config)"
            snippet = " ".join(text[:ERROR_BODY_BYTES].decode("utf-8", "replace").split())
            if snippet:
                reason += f": {snippet[:200]}"
            raise DeliveryError(reason, retry_after)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__) from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 86400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), 86400.0))


def _apprise(channel: Channel, key: str, title: str, body: str, timeout: float) -> None:
    """One apprise send, in a thread; raises DeliveryError with apprise's own reason."""
    import apprise

    asset = apprise.AppriseAsset(app_id="vigie", app_desc="vigie alerts")
    plugin = apprise.Apprise.instantiate(channel.url, asset=asset)
    if plugin is None:
        raise DeliveryError("apprise cannot use this URL")
    plugin.socket_connect_timeout = min(timeout, plugin.socket_connect_timeout or timeout)
    plugin.socket_read_timeout = timeout
    if _generic(channel.url):
        headers = getattr(plugin, "headers", None)
        if isinstance(headers, dict):
            headers[DELIVERY_HEADER] = key
    notifier = apprise.Apprise(asset=asset)
    notifier.add(plugin)
    result = notifier.notify(
        body=body,
        title=title,
        body_format=apprise.NotifyFormat.TEXT,
        interpret_escapes=False,
        timeout=timeout,
    )
    if result:
        return
    said = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
    reason = "; ".join(dict.fromkeys(said)) or "the service did not take the message"
    raise DeliveryError(reason.replace(channel.url, channel.label)[:500])
