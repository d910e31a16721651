"""`python -m tests.reliability.audited WATCHED -- ARGS`: run the vigie CLI (or, with
`--crawl URL...`, the crawl service on those URLs) under a Python audit hook that refuses
and reports every attempt to open or list a path under the WATCHED directory. The hostile
suite uses it to prove that no page, redirect or feed makes vigie read a local file: the
report lines ("AUDIT-OPEN path") go to stderr, which the test reads.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "shutil.copyfile", "os.stat"})


def watch(directory: str) -> None:
    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in _EVENTS or not args:
            return
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if isinstance(path, str) and directory in path:
            os.write(2, f"AUDIT-OPEN {event} {path}\n".encode())
            raise PermissionError(f"audited: {path}")

    sys.addaudithook(hook)


async def _crawl(urls: list[str]) -> list[dict[str, Any]]:
    from scrapy import Request

    from crawler.models import SourceSpec
    from crawler.runner import CrawlService
    from crawler.spiders.source import CrawlJob, SourceSpider
    from vigie.config import CrawlerConfig

    service = CrawlService(CrawlerConfig(obey_robots=False, retries=0))
    await service.start()
    out = []
    try:
        for url in urls:
            result = await service.crawl(SourceSpec(name="first", url=url))
            out.append({"via": "crawl", "status": result.status, "error": result.error})
            # Past the spider's own check: the downloader has no handler for the scheme.
            crawler = service._crawler
            assert crawler is not None and crawler.engine is not None
            spider = crawler.spider
            assert isinstance(spider, SourceSpider)
            loop = asyncio.get_running_loop()
            job = CrawlJob(spec=SourceSpec(name="raw", url=url), future=loop.create_future())
            job.pending += 1
            crawler.engine.crawl(
                Request(
                    url,
                    callback=spider.parse_page,
                    errback=spider.on_error,
                    dont_filter=True,
                    meta={"job": job, "page": 1},
                )
            )
            result = await job.future
            out.append({"via": "request", "status": result.status, "error": result.error})
    finally:
        await service.stop()
    return out


def main() -> None:
    watched, args = sys.argv[1], sys.argv[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    watch(watched)
    if args[:1] == ["--crawl"]:
        from crawler.reactor import run

        print(json.dumps(run(lambda: _crawl(args[1:]))))
        return
    from vigie.cli import main as vigie

    sys.argv = ["vigie", *args]
    vigie()


if __name__ == "__main__":
    main()
