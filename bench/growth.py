"""Benchmark "growth": what ingest, re-poll and search cost as the store grows.

The same three measures at 10k, 100k and 1M updates already stored (the cached stores of
`bench.bigstore`; the quick run stops at 100k, the 1M store is built once, ~7 minutes):

- ingest: new posts through `extract_document` → `save_crawl`, one page per transaction,
  as benchmark 2 runs them (`bench.ingest.run_vigie`): updates/s;
- re-poll: a 500-post page crawled again with one post edited, as benchmark 3 (its pages,
  `bench.repoll.pages`): extraction + dedup + store, commit included, median of the
  rounds (each round its own source, seeded first, so no round sees another's edit);
- search: benchmark 5's queries as `vigie updates --search` runs them
  (`bench.searching`), p95.

Search reads the cached store itself (read-only); ingest and re-poll write into a copy of
it in a temporary folder (the cache is never written): first the re-poll sources are
seeded and timed, then the posts are ingested. Each size's figure has the figure at the
size ten times smaller as its baseline, so its ratio is the cost at 10× the size; the
verdict (cost ratio at 10×: ≤ 1.15 flat, ≤ 1.5 logarithmic, below 10^0.8 ≈ 6.3
sublinear, else linear or worse) goes in the note of the largest size.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import bigstore, ingest, repoll, searching
from bench.common import Metric, Sizes, median, percentile, quiet_gc, size_label, workdir
from crawler.documents import extract_document
from crawler.models import CrawlResult, SourceSpec
from storage.crawls import save_crawl
from storage.db import Store
from storage.sources import ensure_sources

PER_PAGE = 50  # posts per ingested page


@dataclass(frozen=True, slots=True)
class Measure:
    key: str
    unit: str
    higher_is_better: bool
    what: str


MEASURES = (
    Measure("ingest_rate", "updates/s", True, "ingest rate"),
    Measure("repoll_time", "ms", False, "re-poll of a live blog, 1 post edited"),
    Measure("search_p95", "ms", False, "search p95 (library)"),
)


def _search_p95(path: Path, size: int, count: int) -> float:
    bigstore.warm(path)
    store = Store(f"sqlite:///{path}", upgrade=False)
    try:
        qs: list[str | None] = list(searching.queries(store, size, count))
        searching._library_times(store, qs[:5])  # the page cache, as a running store has it
        times, _ = searching._library_times(store, qs)
    finally:
        store.close()
    return percentile(times, 95) * 1000


def _repoll_ms(store: Store, posts: int, rounds: int) -> float:
    seeded = []
    for i in range(rounds):
        url = f"https://bench.invalid/live/growth-{i}"
        first, second = repoll.pages(posts, seed=1000 + 2 * i, url=url)
        spec = SourceSpec(name=f"growth{i}", url=url, kind="liveblog")
        with store.session() as session:
            sid = ensure_sources(session, [(spec.name, url, "liveblog")])[spec.name]
            page = extract_document(first, url, spec, content_type=repoll.CONTENT_TYPE)
            save_crawl(session, sid, CrawlResult(spec.name, url, posts=page.posts))
        seeded.append((spec, sid, second))
    times = []
    for spec, sid, second in seeded:
        with quiet_gc():
            start = time.perf_counter()
            page = extract_document(second, spec.url, spec, content_type=repoll.CONTENT_TYPE)
            result = CrawlResult(spec.name, spec.url, posts=page.posts)
            with store.session() as session:
                counts = save_crawl(session, sid, result)
            times.append(time.perf_counter() - start)
        if counts.new + counts.changed != 1:
            raise RuntimeError(f"growth: the re-poll wrote {counts.new + counts.changed} posts")
    return median(times) * 1000


def measure(size: int, sizes: Sizes, log: Callable[[str], None]) -> dict[str, float]:
    path = bigstore.build(size, log=log)
    out = {"search_p95": _search_p95(path, size, sizes.searches)}
    with workdir("growth") as folder:
        copy = folder / "store.db"
        shutil.copyfile(path, copy)
        store = Store(f"sqlite:///{copy}", upgrade=False)
        try:
            out["repoll_time"] = _repoll_ms(store, sizes.repoll_posts, sizes.growth_rounds)
            seconds, _, new = ingest.run_vigie(store, sizes.growth_ingest_posts, PER_PAGE)
            out["ingest_rate"] = new / seconds
        finally:
            store.close()
    return out


def verdict(cost_ratio: float, size_ratio: float) -> str:
    """Growth of a cost between two sizes, read as its ratio at 10× the size."""
    at_10x = cost_ratio ** (1 / math.log10(size_ratio)) if size_ratio > 1 else cost_ratio
    if at_10x <= 1.15:
        word = "flat"
    elif at_10x <= 1.5:
        word = "logarithmic"
    elif at_10x < 10**0.8:
        word = f"sublinear (≈ n^{math.log10(at_10x):.2f})"
    else:
        word = f"linear or worse (≈ n^{math.log10(at_10x):.2f})"
    return f"{word}: cost ×{at_10x:.2f} at 10× the size"


def bench(sizes: Sizes, log: Callable[[str], None] = print) -> list[Metric]:
    stores = sizes.growth_stores
    curve = {}
    for size in stores:
        log(f"  growth at {size:,} updates ...")
        curve[size] = measure(size, sizes, log)
    log("  " + " | ".join(["updates", *(m.what for m in MEASURES)]))
    for size, row in curve.items():
        log("  " + " | ".join([f"{size:,}", *(f"{row[m.key]:.1f} {m.unit}" for m in MEASURES)]))
    metrics = []
    for m in MEASURES:
        for i, size in enumerate(stores):
            value = curve[size][m.key]
            note = f"{m.what} with {size:,} updates stored"
            prev = stores[i - 1] if i else None
            if size == stores[-1] and sizes.label != "full":
                note += " (1M only in the full run)"
            if prev is not None and size == stores[-1]:
                first = curve[stores[0]][m.key]
                cost = first / value if m.higher_is_better else value / first
                note += f"; {stores[0]:,} → {size:,}: {verdict(cost, size / stores[0])}"
            metrics.append(
                Metric(
                    f"growth_{m.key}_{size_label(size)}",
                    value,
                    m.unit,
                    baseline=curve[prev][m.key] if prev else None,
                    baseline_label=f"the same with {prev:,} updates stored" if prev else "",
                    target=(0.5 if m.higher_is_better else 2.0) if prev else None,
                    target_on="ratio",
                    direction="min" if m.higher_is_better else "max",
                    note=note,
                )
            )
    return metrics


if __name__ == "__main__":
    import sys

    from bench.common import SIZES

    for metric in bench(SIZES[sys.argv[1] if len(sys.argv) > 1 else "quick"]):
        print(metric.as_json())
