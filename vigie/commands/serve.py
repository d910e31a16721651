"""The commands that serve and maintain the store: `serve` (the web pages, the read-only
HTTP API and Atom feeds, vigie/api.py) and `reindex` (the full-text index rebuilt)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from vigie.shell import config, fail, open_store


def serve(
    host: Annotated[str | None, typer.Option(help=r"Address to listen on \[api.host]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help=r"Port to listen on \[api.port]")
    ] = None,
) -> None:
    """Serve the web pages, the read-only HTTP API and Atom feeds (docs at /docs) until
    SIGTERM/SIGINT."""
    import uvicorn

    from vigie.api import create_app
    from vigie.web.live import SHUTDOWN_GRACE

    cfg = config()
    host = host or cfg.api.host
    port = port or cfg.api.port
    if not _is_loopback(host) and cfg.api.token is None:
        typer.echo(
            f"vigie: warning: serving on {host} without [api] token: "
            "anyone who reaches this port can read the store",
            err=True,
        )
    with open_store(cfg) as store, _stop_is_success():
        try:
            # Live pages keep their streams open: on SIGTERM they get a few seconds.
            uvicorn.run(
                create_app(cfg, store),
                host=host,
                port=port,
                log_config=None,
                timeout_graceful_shutdown=SHUTDOWN_GRACE,
            )
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise fail(f"serve: cannot serve on {host}:{port}", 1) from None


@contextmanager
def _stop_is_success() -> Iterator[None]:
    """SIGTERM and SIGINT are how `serve` is meant to end: exit 0, as `vigie run` does.
    uvicorn shuts down gracefully on either, then raises the signal again under the
    handlers it found; these take it (the defaults would end the process by the signal,
    -15, or with a KeyboardInterrupt), and one arriving before uvicorn listens stops the
    start-up the same way."""
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {s: signal.signal(s, _stopped) for s in stops}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stopped(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reindex() -> None:
    """Rebuild the full-text search index from the stored updates."""
    from storage.search import rebuild_index

    with open_store(config(channels=False)) as store:
        started = time.monotonic()
        with store.session() as session:
            count = rebuild_index(session)
    typer.echo(f"reindexed {count} updates in {time.monotonic() - started:.1f}s")
