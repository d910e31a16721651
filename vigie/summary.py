"""The one-line summary that `run --once` and `crawl` end with, and their exit status:
cron and monitoring must notice when every source failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
