"""The long-lived spider: fetches the pages of each crawl job handed to it, follows
pagination, and resolves the job's future with a `CrawlResult` (cleaned: crawler.sanitize).
Only http(s) URLs become requests: a next-page link to anything else is dropped with a
warning (the documents' edge drops it already; this is the last gate before the downloader).

It never closes on idle: the runner keeps feeding it requests for as long as vigie runs,
which keeps connections, robots.txt and throttling state warm between polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.documents import NoPostsError, extract_document
from crawler.errors import failure_message
from crawler.extract import ExtractError
from crawler.feeds import FeedError
from crawler.models import CrawlResult, KnownPosts, SourceSpec, Validators
from crawler.sanitize import clean_result
from crawler.urls import refusal

log = logging.getLogger("vigie.crawler")


@dataclass(slots=True, eq=False)  # identity, not value: jobs live in sets
class CrawlJob:
    """One crawl of one source in flight."""

    spec: SourceSpec
    future: asyncio.Future[CrawlResult]
    validators: Validators | None = None
    full: bool = True
    known: KnownPosts | None = None  # None: every post counts as new
    had_posts: bool = False
    result: CrawlResult = field(init=False)
    visited: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)
    pending: int = 0

    def __post_init__(self) -> None:
        self.result = CrawlResult(
            source=self.spec.name, url=self.spec.url, started_at=datetime.now(UTC)
        )

    def finish(self, status: str | None = None, error: str | None = None) -> None:
        if self.future.done():
            return
        if status:
            self.result.status = status
        if error:
            self.result.error = error
            self.result.status = status or "error"
        self.result.duration = time.monotonic() - self.started
        self.future.set_result(clean_result(self.result))


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


_CLOCK_SKEW = timedelta(days=1)


def rendered_at(date_header: str | None, fetched: datetime) -> datetime:
    """When the server rendered the page, which relative times ("5 min ago") count from: its
    `Date` header, unless missing, unreadable or more than a day off the fetch time."""
    if date_header:
        try:
            found = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError, OverflowError):
            found = None
        if found is not None:
            found = found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
            if abs(found - fetched) <= _CLOCK_SKEW:
                return found
    return fetched


class SourceSpider(Spider):
    name = "vigie"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._keep_open, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator with nothing to start with: jobs come later

    def _keep_open(self) -> None:
        raise DontCloseSpider

    def request(self, job: CrawlJob, url: str, page: int) -> Request | None:
        """The request for one page of a job; None (the job finished) for a non-web URL."""
        why = refusal(url)
        if why is not None:
            message = f"url: refused to fetch {url[:60]!r}: {why}"
            if page == 1:
                job.finish("error", f"fetch: {message}")
            else:
                job.result.warnings.append(message)
                job.finish()
            return None
        headers = {}
        if page == 1 and job.validators:
            if job.validators.etag:
                headers["If-None-Match"] = job.validators.etag
            if job.validators.last_modified:
                headers["If-Modified-Since"] = job.validators.last_modified
        job.visited.add(url)
        job.pending += 1
        return Request(
            url,
            headers=headers,
            callback=self.parse_page,
            errback=self.on_error,
            dont_filter=True,
            meta={"job": job, "page": page, "handle_httpstatus_list": [304]},
        )

    def parse_page(self, response: Response) -> list[Request]:
        # A list, not a generator: Scrapy parses the source of a generator callback (to warn
        # about `return value`) at every response when the callback is a bound method.
        job: CrawlJob = response.meta["job"]
        page: int = response.meta["page"]
        job.pending -= 1
        result = job.result
        if page == 1:
            result.http_status = response.status
        if response.status == 304:
            job.finish("not_modified")
            return []
        result.pages += 1
        if page == 1:
            etag, modified = _header(response, "ETag"), _header(response, "Last-Modified")
            if etag or modified:
                result.validators[job.spec.url] = Validators(etag, modified)
        try:
            extraction = extract_document(
                response.body,
                response.url,
                job.spec,
                content_type=_header(response, "Content-Type"),
                now=rendered_at(_header(response, "Date"), datetime.now(UTC)),
                had_posts=job.had_posts,
            )
        except (FeedError, ExtractError, NoPostsError) as exc:
            if page == 1:
                job.finish("error", str(exc))
            else:
                job.finish()  # a later page that fails keeps what the first pages gave
            return []
        except Exception as exc:  # an extractor bug must cost one source, not the daemon
            log.exception("extract failed for %s", response.url)
            job.finish("error", f"extract: {type(exc).__name__}: {exc}")
            return []
        if page == 1:
            result.path, result.ended = extraction.path, extraction.ended
            result.timezone, result.timezone_from = extraction.timezone, extraction.timezone_from
        elif extraction.ended:
            result.ended = True
        result.posts.extend(extraction.posts)
        result.warnings.extend(w for w in extraction.warnings if w not in result.warnings)
        next_url = extraction.next_url
        if next_url and next_url not in job.visited and page < job.spec.max_pages:
            result.paginated = True
            known = job.known
            if job.full or known is None or not all(p in known for p in extraction.posts):
                follow = self.request(job, next_url, page + 1)
                return [follow] if follow is not None else []
        job.finish()
        return []

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        job: CrawlJob = request.meta["job"]
        page: int = request.meta["page"]
        job.pending -= 1
        message, status = failure_message(
            failure,
            timeout=float(self.settings.getfloat("DOWNLOAD_TIMEOUT")),
            max_size=self.settings.getint("DOWNLOAD_MAXSIZE"),
        )
        if page > 1 and job.result.posts:
            log.warning(
                "%s: page %d failed (%s); keeping %d posts",
                job.spec.name,
                page,
                message,
                len(job.result.posts),
            )
            job.result.warnings.append(f"page {page}: {message}")
            job.finish()
            return
        job.result.http_status = status
        retry_after = request.meta.get("retry_after")
        if retry_after is not None:
            job.result.retry_after = retry_after
            message += f" (retry after {retry_after:g}s)"
        job.finish("gone" if status == 410 else "error", message)
