"""`vigie run`: the daemon of one machine or one process of a cluster, each with its
heartbeat row and, when `[metrics] listen` is set, a small HTTP listener for GET /health
and GET /metrics in the same event loop (off by default: no socket opened).

The listener reads at most one request head (8 KB, 5 s) per connection and answers two
paths; everything else is 404 or 405. It serves no data of the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import typer

from vigie.config import Config
from vigie.shell import fail

log = logging.getLogger("vigie.run")

HEAD_LIMIT = 8192
HEAD_TIMEOUT = 5.0
DAEMON_HEARTBEAT = 10.0  # seconds, one machine (cluster: [cluster] heartbeat)


def check_role(cfg: Config, role: str | None, *, once: bool) -> None:
    if role is None:
        return
    from scheduler.cluster.node import ROLES

    if role not in ROLES:
        raise fail(f"--role: choose one of {', '.join(ROLES)}", 2)
    if cfg.cluster is None:
        raise fail("--role: needs a [cluster] section in the config (cluster mode)", 2)
    if once:
        raise fail("--role: not with --once (which crawls here, now)", 2)


def run_daemon(cfg: Config, store: Any, role: str | None) -> None:
    from crawler.reactor import run as run_reactor

    run_reactor(lambda: _main(cfg, store, role))


async def _main(cfg: Config, store: Any, role: str | None) -> None:
    listener = await _listen(cfg, store) if cfg.metrics.listen else None
    try:
        if cfg.cluster is not None:
            from scheduler.cluster.node import ClusterNode

            await ClusterNode(cfg, cfg.cluster, store, role or "all").run()
        else:
            await _single(cfg, store)
    finally:
        if listener is not None:
            listener.close()


async def _single(cfg: Config, store: Any) -> None:
    from scheduler.cluster.registry import Load, Registry
    from scheduler.daemon import Daemon

    daemon = Daemon(cfg, store)
    poller = daemon.poller
    registry = Registry(
        store,
        daemon.owner,
        "daemon",
        DAEMON_HEARTBEAT,
        lambda: Load(running=poller.running, polls=poller.polls, errors=poller.errors),
    )
    stop = asyncio.Event()
    beating = asyncio.create_task(registry.run(stop))
    try:
        await daemon.run()
    finally:
        stop.set()
        await beating
        await asyncio.to_thread(registry.leave)


async def _listen(cfg: Config, store: Any) -> asyncio.Server:
    # vigie.health (prometheus_client, the cluster's queue) only when [metrics] listen is set;
    # loaded before the first request.
    import vigie.health  # noqa: F401

    host, port = cfg.metrics.host_port
    try:
        server = await asyncio.start_server(
            lambda r, w: _answer(cfg, store, r, w), host, port, limit=HEAD_LIMIT
        )
    except OSError as exc:
        message = f"[metrics] listen: cannot listen on {host}:{port}: {exc}"
        raise typer.Exit(_refused(message)) from None
    log.info("health and metrics on http://%s:%d/health and /metrics", host, port)
    return server


def _refused(message: str) -> int:
    typer.echo(f"vigie: {message}", err=True)
    return 1


async def _answer(
    cfg: Config, store: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    from vigie.health import METRICS_TYPE, health, metrics

    try:
        async with asyncio.timeout(HEAD_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        path = rest.split(" ", 1)[0].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            status, ctype, body = 405, "text/plain", b"method not allowed\n"
        elif path == "/health":
            code, doc = await asyncio.to_thread(health, cfg, store)
            status, ctype = code, "application/json"
            body = json.dumps(doc, default=str).encode() + b"\n"
        elif path == "/metrics":
            status, ctype = 200, METRICS_TYPE
            body = await asyncio.to_thread(metrics, cfg, store)
        else:
            status, ctype, body = 404, "text/plain", b"not found: /health or /metrics\n"
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}.get(
            status, "Service Unavailable"
        )
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        if method != "HEAD":
            writer.write(body)
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        pass  # a client that sends no head, too much of one, or garbage: just hang up
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
