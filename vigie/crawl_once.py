"""Crawling now from the command line: `crawl_once` runs one crawl service on the shared
reactor for one piece of work (`run --once`, `crawl` and `probe` all crawl through it), and
`poll_now` polls sources with it into the store, showing each one's outcome on a terminal
and ending with a one-line summary and an exit status that cron and monitoring can read (1
when every source failed)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from vigie.config import Config, CrawlerConfig, SourceConfig
from vigie.output import write_table

if TYPE_CHECKING:
    from crawler.runner import CrawlService
    from scheduler.jobs import PollReport
    from storage.db import Store

T = TypeVar("T")

REPORT_COLUMNS = ("source", "status", "new", "changed", "unchanged", "error")

OK = ("ok", "not_modified")
FAILED = ("error", "gone", "abandoned")


@dataclass(frozen=True, slots=True)
class Summary:
    line: str
    all_failed: bool  # at least one source was polled, and none of them worked


def summarize(reports: Sequence[PollReport], asked: int) -> Summary:
    """`asked` sources were to be crawled; `reports` are the polls made (sources that had
    ended or were gone are skipped by `run --once` and have none).

    "3 sources: 2 ok, 1 failed; 14 new, 2 changed"."""
    if asked == 0:
        return Summary("0 sources: nothing to crawl (no enabled source in the config)", False)
    ok = sum(r.status in OK for r in reports)
    failed = sum(r.status in FAILED for r in reports)
    leased = sum(r.status == "leased" for r in reports)
    skipped = asked - len(reports)
    parts = [f"{ok} ok", f"{failed} failed"]
    if skipped:
        parts.append(f"{skipped} skipped (ended or gone)")
    if leased:
        parts.append(f"{leased} held by another worker")
    new = sum(r.new for r in reports)
    changed = sum(r.changed for r in reports)
    noun = "source" if asked == 1 else "sources"
    line = f"{asked} {noun}: {', '.join(parts)}; {new} new, {changed} changed"
    return Summary(line, failed > 0 and ok == 0)


def crawl_once(settings: CrawlerConfig, work: Callable[[CrawlService], Awaitable[T]]) -> T:
    """Start a crawl service, hand it to `work`, stop it once `work` is done (or failed);
    what `work` returned. Runs on the shared reactor: one call at a time."""
    from crawler.reactor import run as run_reactor
    from crawler.runner import CrawlService

    async def with_service() -> T:
        service = CrawlService(settings)
        await service.start()
        try:
            return await work(service)
        finally:
            await service.stop()

    return run_reactor(with_service)


def poll_now(
    cfg: Config, store: Store, sources: list[SourceConfig], *, once: bool = False
) -> Summary:
    """Poll sources now into the store. `once` (run --once) acts as a worker: it skips ended
    sources and those another worker (a running daemon) holds; `crawl NAME` crawls what it
    is told. The per-source table goes to stdout when it is a terminal."""
    from scheduler.jobs import Poller
    from storage import leases

    async def poll_all(service: CrawlService) -> list[PollReport]:
        poller = Poller(cfg, store, service, owner=leases.worker_id() if once else None)
        try:
            return await poller.poll_many(sources, skip_finished=once)
        finally:
            poller.close()

    reports = crawl_once(cfg.crawler, poll_all) if sources else []
    if sys.stdout.isatty() and reports:
        rows = [{c: getattr(r, c) for c in REPORT_COLUMNS} for r in reports]
        write_table(rows, REPORT_COLUMNS)
    return summarize(reports, len(sources))
