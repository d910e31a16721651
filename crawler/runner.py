"""The crawl service: one long-lived Scrapy crawler on the shared reactor, fed crawl jobs.

`CrawlService.crawl(spec)` returns the `CrawlResult` of one source (errors included, as
values); `crawl_many` runs several at once. Scrapy's scheduler, throttling and per-host
concurrency apply across all of them because they go through the same engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler

from crawler.models import CrawlResult, KnownPosts, SourceSpec, Validators
from crawler.reactor import ensure_reactor
from crawler.settings import CrawlSettings, scrapy_settings
from crawler.spiders.source import CrawlJob, SourceSpider

log = logging.getLogger("vigie.crawler")


class CrawlService:
    """Start once, crawl many times, stop once. Must run on the reactor's event loop."""

    def __init__(self, config: CrawlSettings) -> None:
        self.config = config
        self._runner: AsyncCrawlerRunner | None = None
        self._crawler: Crawler | None = None
        self._task: asyncio.Task[None] | None = None
        self._jobs: set[CrawlJob] = set()

    async def start(self) -> None:
        ensure_reactor()
        self._runner = AsyncCrawlerRunner(scrapy_settings(self.config))
        self._crawler = self._runner.create_crawler(SourceSpider)
        opened = asyncio.get_running_loop().create_future()

        def _opened(spider: SourceSpider) -> None:
            if not opened.done():
                opened.set_result(None)

        self._crawler.signals.connect(_opened, signal=signals.spider_opened, weak=False)
        self._task = self._runner.crawl(self._crawler)
        done, _ = await asyncio.wait({opened, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()  # raises what made the crawler fail to start
            raise RuntimeError("crawler: the spider closed before it opened")

    async def crawl(
        self,
        spec: SourceSpec,
        *,
        validators: Validators | None = None,
        full: bool = True,
        known: KnownPosts | None = None,
        had_posts: bool = False,
    ) -> CrawlResult:
        """Crawl one source; never raises for what the source did, returns an error value.

        `full`: follow every next page (up to the source's max_pages); else only while a
        page holds a post that is not in `known` (None: follow them all, as full)."""
        if self._crawler is None or self._crawler.engine is None:
            raise RuntimeError("crawler: not started")
        spider = self._crawler.spider
        assert isinstance(spider, SourceSpider)
        future: asyncio.Future[CrawlResult] = asyncio.get_running_loop().create_future()
        job = CrawlJob(
            spec=spec,
            future=future,
            validators=validators,
            full=full,
            known=known,
            had_posts=had_posts,
        )
        self._jobs.add(job)
        try:
            request = spider.request(job, spec.url, 1)  # None: refused, the job has its error
            if request is not None:
                self._crawler.engine.crawl(request)
            return await future
        finally:
            self._jobs.discard(job)

    async def crawl_many(self, specs: Sequence[SourceSpec], **kwargs: object) -> list[CrawlResult]:
        return list(await asyncio.gather(*(self.crawl(s, **kwargs) for s in specs)))  # type: ignore[arg-type]

    def abandon(self, reason: str = "crawler: abandoned at shutdown") -> None:
        """Resolve every job in flight with an error (used when stopping)."""
        for job in list(self._jobs):
            job.finish("error", reason)

    async def stop(self) -> None:
        self.abandon()
        if self._crawler is not None and self._crawler.crawling:
            await self._crawler.stop_async()
        if self._task is not None:
            try:
                await self._task
            except Exception:
                log.exception("crawler: error while stopping")
        self._crawler = self._runner = self._task = None
