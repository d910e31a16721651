"""Benchmark 1, poll overhead: 1,000 unchanged sources polled by vigie vs a bare Scrapy spider.

Both sides send the same 1,000 conditional GETs (If-None-Match with the ETag the server
gave) to the same local server, which answers 304, with the same Scrapy settings
(`crawler.settings.scrapy_settings`), both with a crawler started beforehand and kept
open, as the daemon keeps its one. vigie's side is its real poll path: `Poller.poll` as
the daemon runs it (leases on, sticky), reading each source's state and validators from
SQLite, crawling through `CrawlService`, deciding the next run and writing the crawl
record and the source's state in one transaction. The bare side only counts responses.

`per_host = 1` (the default) would send the 1,000 requests to the one local host one at a
time, which measures the server's latency, not the poller; so both sides run with
`per_host = concurrency = 16`. AutoThrottle is off: on a local server its delays (a share
of the latency) set the pace of both sides and hide the cost of what each does per
response; the full run also reports the ratio with it on. Rounds alternate bare and vigie;
the medians are compared.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response

from bench import httpd
from bench.common import Metric, Sizes, median, workdir
from crawler.reactor import ensure_reactor, run
from crawler.runner import CrawlService
from crawler.settings import scrapy_settings
from scheduler.jobs import Poller
from storage import leases
from storage.db import Store
from vigie.config import Config, CrawlerConfig, load_config

PER_HOST = 16


class BareSpider(Spider):
    """Fetches what it is fed and counts the answers; stays open between batches."""

    name = "bare"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = 0
        self.statuses: dict[int, int] = {}
        self.done: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BareSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._keep_open, signal=signals.spider_idle)
        return spider

    async def start(self) -> Any:
        return
        yield

    def _keep_open(self) -> None:
        raise DontCloseSpider

    def parse(self, response: Response) -> None:
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        self._one_done()

    def failed(self, failure: Any) -> None:
        self.statuses[0] = self.statuses.get(0, 0) + 1
        self._one_done()

    def _one_done(self) -> None:
        self.waiting -= 1
        if self.waiting == 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)


class BareClient:
    """A plain Scrapy crawler with vigie's settings, fed batches of conditional requests."""

    def __init__(self, cfg: CrawlerConfig) -> None:
        self.cfg = cfg
        self.crawler: Crawler | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ensure_reactor()
        runner = AsyncCrawlerRunner(scrapy_settings(self.cfg))
        self.crawler = runner.create_crawler(BareSpider)
        opened = asyncio.get_running_loop().create_future()
        self.crawler.signals.connect(
            lambda spider: opened.done() or opened.set_result(None),
            signal=signals.spider_opened,
            weak=False,
        )
        self.task = runner.crawl(self.crawler)
        await opened

    async def fetch(self, requests: list[tuple[str, str]]) -> dict[int, int]:
        """GET every (url, etag) with If-None-Match; returns the count of each status."""
        assert self.crawler is not None and self.crawler.engine is not None
        spider = self.crawler.spider
        assert isinstance(spider, BareSpider)
        spider.statuses = {}
        spider.waiting = len(requests)
        spider.done = asyncio.get_running_loop().create_future()
        for url, etag in requests:
            self.crawler.engine.crawl(
                Request(
                    url,
                    headers={"If-None-Match": etag},
                    callback=spider.parse,
                    errback=spider.failed,
                    dont_filter=True,
                    meta={"handle_httpstatus_list": [304]},
                )
            )
        await spider.done
        return spider.statuses

    async def stop(self) -> None:
        if self.crawler is not None and self.crawler.crawling:
            await self.crawler.stop_async()
        if self.task is not None:
            await self.task


def write_config(folder: Path, base: str, count: int, *, autothrottle: bool) -> Config:
    lines = [
        "[storage]",
        'url = "sqlite:///vigie.db"',
        "[crawler]",
        f"concurrency = {PER_HOST}",
        f"per_host = {PER_HOST}",
        f"autothrottle = {'true' if autothrottle else 'false'}",
        "[scheduler]",
        'default_interval = "2m"',
    ]
    for i in range(count):
        lines += ["[[sources]]", f'name = "s{i}"', f'url = "{base}/s/{i}"', 'kind = "feed"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path)


def _log_like_the_daemon() -> None:
    """The daemon writes one line per crawl; so does the bench (to /dev/null)."""
    handler = logging.StreamHandler(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("scrapy", "twisted", "apscheduler", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _measure(config: Config, rounds: int) -> dict[str, Any]:
    sources = config.enabled_sources()
    requests = [(s.url, httpd.static_etag(s.url.rsplit("/", 1)[1])) for s in sources]
    store = Store(config.storage.url)
    service = CrawlService(config.crawler)
    bare = BareClient(config.crawler)
    await service.start()
    await bare.start()
    poller = Poller(config, store, service, owner=leases.worker_id(), sticky=True)
    try:
        await asyncio.to_thread(poller.sync_sources)
        # First polls: 200s, whose ETags vigie stores; robots.txt is fetched by both sides.
        first = await asyncio.gather(*(poller.poll(s) for s in sources))
        bad = [r for r in first if r.status != "ok"]
        if bad:
            raise RuntimeError(f"poll bench: first poll failed: {bad[0]}")
        await bare.fetch(requests)
        bare_times, vigie_times = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            statuses = await bare.fetch(requests)
            bare_times.append(time.perf_counter() - start)
            if statuses != {304: len(requests)}:
                raise RuntimeError(f"poll bench: the bare spider got {statuses}")
            start = time.perf_counter()
            reports = await asyncio.gather(*(poller.poll(s) for s in sources))
            vigie_times.append(time.perf_counter() - start)
            not_304 = [r for r in reports if r.status != "not_modified"]
            if not_304:
                raise RuntimeError(f"poll bench: vigie got {not_304[0]}")
        return {"bare": bare_times, "vigie": vigie_times}
    finally:
        poller.close()
        await service.stop()
        await bare.stop()
        store.close()


def measure(sizes: Sizes, throttles: tuple[bool, ...] = (False,)) -> list[dict[str, Any]]:
    """The raw timings (seconds per round of all sources) of both sides, once per AutoThrottle
    setting (all in one reactor run: a reactor does not start twice)."""
    _log_like_the_daemon()
    with workdir("poll") as folder, httpd.running("static") as base:
        configs = []
        for i, throttle in enumerate(throttles):
            (folder / str(i)).mkdir()
            configs.append(
                write_config(folder / str(i), base, sizes.poll_sources, autothrottle=throttle)
            )

        async def all_of_them() -> list[dict[str, Any]]:
            return [await _measure(c, sizes.poll_rounds) for c in configs]

        times = run(all_of_them)
    logging.getLogger().handlers[:] = []
    return times


def bench(sizes: Sizes) -> list[Metric]:
    full = sizes.label == "full"  # the default settings too (AutoThrottle on), as information
    measured = measure(sizes, (False, True) if full else (False,))
    times = measured[0]
    n = sizes.poll_sources
    vigie, bare = median(times["vigie"]), median(times["bare"])
    note = (
        f"{n} sources answering 304, per_host = concurrency = {PER_HOST}, AutoThrottle off, "
        f"median of {sizes.poll_rounds} round(s)"
    )
    extra = []
    if full:
        throttled = measured[1]
        extra.append(
            Metric(
                "poll_overhead_autothrottle",
                median(throttled["vigie"]),
                "s",
                baseline=median(throttled["bare"]),
                baseline_label="bare Scrapy spider, same requests and settings",
                note="as poll_overhead with AutoThrottle on (vigie's default): both sides wait "
                f"on the throttle's delays, which hide most of the difference; median of "
                f"{sizes.poll_rounds}",
            )
        )
    return [
        Metric(
            "poll_overhead",
            vigie,
            "s",
            baseline=bare,
            baseline_label="bare Scrapy spider, same requests and settings",
            target=1.3,
            target_on="ratio",
            note=note,
        ),
        Metric(
            "poll_rate",
            n / vigie,
            "polls/s",
            baseline=n / bare,
            baseline_label="bare Scrapy spider (requests/s)",
            note="information",
        ),
        *extra,
    ]
