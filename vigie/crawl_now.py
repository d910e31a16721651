"""`run --once` and `crawl`: poll sources now, show each one's outcome on a terminal, and
end with a one-line summary and an exit status that cron and monitoring can read (1 when
every source failed)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vigie.config import Config, SourceConfig
from vigie.output import write_table

REPORT_COLUMNS = ("source", "status", "new", "changed", "unchanged", "error")

OK = ("ok", "not_modified")
FAILED = ("error", "gone", "abandoned")


@dataclass(frozen=True, slots=True)
class Summary:
    line: str
    all_failed: bool  # at least one source was polled, and none of them worked


def summarize(reports: Sequence[Any], asked: int) -> Summary:
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


def crawl_now(
    cfg: Config, store: Any, sources: list[SourceConfig], *, once: bool = False
) -> Summary:
    """Crawl sources now, then close the store. `once` (run --once) acts as a worker: it
    skips ended sources and those another worker (a running daemon) holds; `crawl NAME`
    crawls what it is told. The per-source table goes to stdout when it is a terminal."""
    from crawler.reactor import run as run_reactor
    from crawler.runner import CrawlService
    from scheduler.jobs import Poller
    from storage import leases

    async def crawl_all() -> list[Any]:
        service = CrawlService(cfg.crawler)
        await service.start()
        poller = Poller(cfg, store, service, owner=leases.worker_id() if once else None)
        try:
            return await poller.poll_many(sources, skip_finished=once)
        finally:
            poller.close()
            await service.stop()

    try:
        reports = run_reactor(crawl_all) if sources else []
    finally:
        store.close()
    if sys.stdout.isatty() and reports:
        rows = [{c: getattr(r, c) for c in REPORT_COLUMNS} for r in reports]
        write_table(rows, REPORT_COLUMNS)
    return summarize(reports, len(sources))
