"""vigie's Scrapy downloader: the per-host limit holds from the first request, one slot per
host name, and a host can be told to rest (a short Retry-After).

Why a subclass: Scrapy 2.19's `Downloader._process_queue` hands queued requests on with

    while slot.queue and slot.free_transfer_slots() > 0:
        ...
        request, queue_dfd = slot.queue.popleft()
        _schedule_coro(self._wait_for_download(slot, request, queue_dfd))

and `free_transfer_slots()` is `self.concurrency - len(self.transferring)`, but a request joins
`transferring` only in the first line of `_download`, which runs once the event loop gets to
the task `_schedule_coro` created (`loop.create_task(coro)`). So within one pass of the loop
nothing is counted as transferring yet and the whole queue is sent at once. With
`per_host = 1`, 12 sources on each of two hosts and `concurrency = 16`, a server saw 8
requests at once from one host's slot when its robots.txt came back (every request let into
the slot had been waiting for it), 4 without robots.txt, and bursts again whenever a transfer
ended while requests were queued. Reserving the transfer slot when the request is
handed on, before the task starts, makes the limit count every request from then on.
"""

from __future__ import annotations

from collections.abc import Coroutine
from time import monotonic
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class PoliteDownloader(Downloader):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._rest_until: dict[str, float] = {}  # slot key -> monotonic time

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        # Deliberately not async: `_process_queue` calls this synchronously to build the
        # coroutine it schedules, so the request is counted before the loop checks again.
        # `_download` adds it to the set again (no-op) and removes it when the transfer ends.
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)

    def get_slot_key(self, request: Request) -> str:
        # The host of the URL itself. Scrapy prefers `meta["download_slot"]`, which a redirect
        # copies from the original request: a redirect to another host would be counted
        # against the first host and not against the one it reaches.
        return urlparse_cached(request).hostname or ""

    def rest(self, request: Request, seconds: float) -> None:
        """Send nothing more to the request's host for `seconds` (its Retry-After).

        A slot with a `latercall` hands on no queued request until it fires (Scrapy's own
        mechanism for DOWNLOAD_DELAY, which `_latercall` re-applies); transfers already under
        way go on. A shorter rest asked meanwhile does not cut a longer one short.
        """
        key, slot = self._get_slot(request)
        now = monotonic()
        self._rest_until = {k: t for k, t in self._rest_until.items() if t > now}
        until = max(now + seconds, self._rest_until.get(key, 0.0))
        self._rest_until[key] = until
        if slot.latercall:
            slot.latercall.cancel()
        slot.latercall = call_later(until - now, self._latercall, slot)
