"""Downloader middlewares of vigie's own: Retry-After and robots.txt that expires.

- `RetryAfterMiddleware`: a 429 or 503 carrying a short `Retry-After` (at most
  `SHORT_RETRY_AFTER` seconds and the download timeout) is retried within the crawl once the
  host has rested that long (`retries` times at most); a longer one is not retried (that would
  hold the crawl for minutes): the delay is recorded on the request so the scheduler backs
  the source off at least that long. Without `Retry-After`, Scrapy's RetryMiddleware retries.
- `ExpiringRobotsTxtMiddleware`: Scrapy's robots.txt middleware caches a host's rules for
  the crawler's whole life; a daemon runs for weeks, so the rules are fetched again after
  `ROBOTSTXT_TTL` seconds.
- `PollingAutoThrottle` (an extension): Scrapy's AutoThrottle lets only a 200 lower a
  host's delay; for a poller a 304 is the usual answer, so it counts as one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred

from crawler.downloader import PoliteDownloader

RETRY_AFTER_CAP = 24 * 3600.0
# A server asking for this much rest or less is waited for within the crawl: long enough for a
# cache or a rate limiter to let go, short enough not to hold the other sources' poll.
SHORT_RETRY_AFTER = 5.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also takes "²" and "١٢٠"
        return min(float(value), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delay = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delay, 0.0), RETRY_AFTER_CAP)


class RetryAfterMiddleware:
    """Runs before Scrapy's RetryMiddleware on responses (higher order number)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.short = min(SHORT_RETRY_AFTER, crawler.settings.getfloat("DOWNLOAD_TIMEOUT"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if response.status not in (429, 503):
            return response
        raw = response.headers.get("Retry-After")
        delay = parse_retry_after(raw.decode("latin-1") if raw else None)
        if delay is None:
            return response
        if delay <= self.short:
            retry = get_retry_request(
                request,
                spider=self.crawler.spider,  # type: ignore[arg-type]
                reason=response_status_message(response.status),
            )
            if retry is not None:
                self._downloader().rest(request, delay)
                return retry
        request.meta["retry_after"] = delay
        request.meta["dont_retry"] = True
        return response

    def _downloader(self) -> PoliteDownloader:
        # Looked up late: the engine has no downloader yet while its middlewares are built.
        downloader = self.crawler.engine.downloader  # type: ignore[union-attr]
        if not isinstance(downloader, PoliteDownloader):
            raise TypeError("RetryAfterMiddleware needs DOWNLOADER = PoliteDownloader")
        return downloader


_NOT_FETCHED = object()


class ExpiringRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._ttl = crawler.settings.getfloat("ROBOTSTXT_TTL", 86400.0)
        self._fetched: dict[str, float] = {}

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        cached = self._parsers.get(netloc, _NOT_FETCHED)  # None: robots.txt failed
        fetched = cached is not _NOT_FETCHED and not isinstance(cached, Deferred)
        if fetched and time.monotonic() - self._fetched.get(netloc, 0.0) > self._ttl:
            del self._parsers[netloc]
        if netloc not in self._parsers:
            self._fetched[netloc] = time.monotonic()
        return await super().robot_parser(request)


class PollingAutoThrottle(AutoThrottle):
    """AutoThrottle that lets a 304 lower the delay as a 200 does.

    Scrapy ignores what any other status says in favour of a shorter delay (error pages are
    small and fast, and would talk it down). A poller's usual answer is 304 (not modified):
    without this, a delay raised in a slow spell (or during a burst of changed pages) is
    never brought down by the unchanged pages that follow, and polls stay slowed for good.
    """

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
