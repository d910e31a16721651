"""One long-lived Twisted reactor on asyncio: Scrapy and APScheduler share its event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scrapy.utils.reactor import install_reactor, is_reactor_installed

from crawler.settings import REACTOR

T = TypeVar("T")


def ensure_reactor() -> None:
    """Install the asyncio reactor unless it already is (before anything imports the default)."""
    if not is_reactor_installed():
        install_reactor(REACTOR)


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run `main()` on the reactor's event loop until it returns; re-raise what it raised."""
    ensure_reactor()
    from twisted.internet import reactor

    outcome: dict[str, object] = {}

    async def wrapper() -> None:
        try:
            outcome["value"] = await main()
        except BaseException as exc:  # re-raised below, outside the reactor
            outcome["error"] = exc
        finally:
            reactor.callLater(0, reactor.stop)  # type: ignore[attr-defined]

    reactor.callWhenRunning(lambda: asyncio.ensure_future(wrapper()))  # type: ignore[attr-defined]
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
