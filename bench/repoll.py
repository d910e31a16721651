"""Benchmark 3, re-poll of a big live blog: a 500-post page seen again with one post edited.

The page is first crawled into a fresh SQLite store (not timed). Then the same page with
one word of one post changed is crawled again, many times over (each time a fresh store
that holds the first version): timed are the extraction (`extract_document`) and the
dedup + store (`save_crawl`, commit included), and counted what the second crawl wrote.
The baseline is the floor of any extraction: lxml parsing the page and `json.loads` of
its JSON-LD, no more.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import timedelta

from lxml import etree
from sqlalchemy import func, select, text

from bench import corpus
from bench.common import Metric, Sizes, median, quiet_gc, workdir
from crawler.documents import extract_document
from crawler.models import CrawlResult, SourceSpec
from storage import dedup
from storage.crawls import save_crawl
from storage.db import Store
from storage.models import Revision
from storage.sources import ensure_sources

URL = "https://bench.invalid/live/big"
CONTENT_TYPE = "text/html; charset=utf-8"


def pages(count: int, seed: int = 77, url: str = URL) -> tuple[bytes, bytes]:
    """The page before and after one post (in the middle) was edited."""
    posts = corpus.posts(seed, count, corpus.BASE_TIME, timedelta(minutes=2))
    middle = count // 2
    after = [*posts[:middle], corpus.edited(posts[middle], seed + 1), *posts[middle + 1 :]]
    return (
        corpus.liveblog_page(url, "Direct géant", posts).encode(),
        corpus.liveblog_page(url, "Direct géant", after).encode(),
    )


def _floor(page: bytes) -> None:
    root = etree.fromstring(page, etree.HTMLParser(encoding="utf-8"))
    for script in root.iter("script"):
        if script.get("type") == "application/ld+json":
            json.loads(script.text or "")


def bench(sizes: Sizes) -> list[Metric]:
    first, second = pages(sizes.repoll_posts)
    spec = SourceSpec(name="big", url=URL, kind="liveblog")
    extract_t, dedup_t, floor_t = [], [], []
    written: list[tuple[int, int, int, int]] = []
    with workdir("repoll") as folder:
        seeded = folder / "seeded.db"
        store = Store(f"sqlite:///{seeded}")
        with store.session() as session:
            sid = ensure_sources(session, [("big", URL, "liveblog")])["big"]
            page = extract_document(first, URL, spec, content_type=CONTENT_TYPE)
            save_crawl(session, sid, CrawlResult("big", URL, posts=page.posts))
        store.close()
        for i in range(sizes.repoll_rounds):
            db = folder / f"round{i}.db"
            shutil.copyfile(seeded, db)
            store = Store(f"sqlite:///{db}")
            clear = getattr(dedup.fold_for_identity, "cache_clear", None)
            if clear:
                clear()  # the first crawl was long ago: nothing cached
            with quiet_gc():
                start = time.perf_counter()
                _floor(second)
                floor_t.append(time.perf_counter() - start)
                start = time.perf_counter()
                page = extract_document(second, URL, spec, content_type=CONTENT_TYPE)
                extracted = time.perf_counter()
                with store.session() as session:
                    before = session.execute(text("SELECT total_changes()")).scalar_one()
                    revisions = session.scalar(select(func.count()).select_from(Revision))
                    counts = save_crawl(session, sid, CrawlResult("big", URL, posts=page.posts))
                    touched = session.execute(text("SELECT total_changes()")).scalar_one()
                    revisions = session.scalar(select(func.count()).select_from(Revision)) - (
                        revisions or 0
                    )
                done = time.perf_counter()
            store.close()
            extract_t.append(extracted - start)
            dedup_t.append(done - extracted)
            written.append(
                (counts.new + counts.changed, revisions, touched - before, counts.unchanged)
            )
    ext, ded, floor = median(extract_t), median(dedup_t), median(floor_t)
    posts_written, revisions_written, rows, unchanged = written[-1]
    n = sizes.repoll_posts
    return [
        Metric(
            "repoll_time",
            (ext + ded) * 1000,
            "ms",
            baseline=floor * 1000,
            baseline_label="lxml parse + json.loads of the page",
            target=150.0,
            note=f"{n}-post page, 1 post edited: extraction {ext * 1000:.0f} ms + dedup/store "
            f"{ded * 1000:.0f} ms (median of {sizes.repoll_rounds})",
        ),
        Metric(
            "repoll_dedup_time",
            ded * 1000,
            "ms",
            baseline=floor * 1000,
            baseline_label="lxml parse + json.loads of the page",
            note="dedup + store alone (save_crawl, commit included)",
        ),
        Metric(
            "repoll_posts_written",
            float(posts_written),
            "posts",
            target=1.0,
            direction="eq",
            note=f"new + revised updates; {revisions_written} revision row(s) added, "
            f"{unchanged} seen again (last_seen_at moved), {rows} rows changed in all "
            "(SQLite total_changes, full-text index and crawl record included)",
        ),
    ]
