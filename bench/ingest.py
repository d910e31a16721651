"""Benchmark 2, ingest: new posts through extraction → dedup → store, vs plain bulk inserts.

The posts come as live-blog pages (JSON-LD and HTML, as `bench.corpus` renders them) of
100 sources, each crawl of a source bringing a page of new posts; one post in ten is a
copy of another source's post (the same news elsewhere), so story linking has work to do.
vigie's side is, for each page, `extract_document` then `save_crawl` in one transaction,
as a poll does. The baseline inserts the very rows vigie stored (read back from its
database) into a fresh database with plain SQLAlchemy Core bulk inserts, one transaction
per page. Rendering the pages is not timed. Both databases are fresh, with the same schema
(full-text triggers or generated column included).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from bench import corpus
from bench.common import Metric, Sizes, quiet_gc, workdir, written_bytes
from bench.pg import postgres
from crawler.documents import extract_document
from crawler.models import CrawlResult, SourceSpec
from storage import dedup
from storage.crawls import save_crawl
from storage.db import Store
from storage.models import Update
from storage.sources import ensure_sources

SOURCES = 100
COPY_SHARE = 10  # one post in ten is a copy of another source's post
CONTENT_TYPE = "text/html; charset=utf-8"


def source_url(j: int) -> str:
    """The page of live blog `j` (never fetched: the benchmarks hand its bytes over)."""
    return f"https://bench.invalid/live/{j}"


def layout(total: int, per_page: int) -> tuple[int, int]:
    """(crawls of each source, posts per page) for about `total` posts over the sources."""
    per_source = max(1, total // SOURCES)
    per_page = min(per_page, per_source)
    return max(1, per_source // per_page), per_page


def pages(total: int, per_page: int) -> Iterator[tuple[int, int, bytes]]:
    """(source index, crawl number, page bytes) in crawl order: every source in turn."""
    crawls, per_page = layout(total, per_page)
    for k in range(crawls):
        for j in range(SOURCES):
            yield j, k, _page(j, k, per_page)


def _page(j: int, k: int, per_page: int) -> bytes:
    step = timedelta(minutes=1)
    start = corpus.BASE_TIME + step * (k * per_page)
    own = corpus.posts(j * 1_000_003 + k, per_page, start, step)
    other = corpus.posts(((j + 1) % SOURCES) * 1_000_003 + k, per_page, start, step)
    items = []
    for i, post in enumerate(own):
        n = k * per_page + i
        if i % COPY_SHARE == COPY_SHARE - 1:
            copy = other[i]
            post = dataclasses.replace(copy, published_at=copy.published_at + step)
        items.append(dataclasses.replace(post, n=n))
    return corpus.liveblog_page(source_url(j), f"Direct {j}", items).encode()


def register(store: Store) -> tuple[dict[str, int], list[SourceSpec]]:
    """The SOURCES live blogs stored as sources: their ids by name, and their specs (the
    word-hash cache warmed, so the first page timed pays no set-up)."""
    specs = [SourceSpec(name=f"l{j}", url=source_url(j), kind="liveblog") for j in range(SOURCES)]
    with store.session() as session:
        ids = ensure_sources(session, [(s.name, s.url, s.kind) for s in specs])
    dedup.lsh_bands(dedup.shingles("the first write", "warms the word-hash cache"))
    return ids, specs


def run_vigie(store: Store, total: int, per_page: int) -> tuple[float, float, int]:
    """(seconds for extraction + dedup + store, seconds of extraction alone, new updates)."""
    ids, specs = register(store)
    elapsed = extracting = 0.0
    new = 0
    with quiet_gc():
        for j, _k, body in pages(total, per_page):
            spec = specs[j]
            start = time.perf_counter()
            page = extract_document(body, spec.url, spec, content_type=CONTENT_TYPE)
            extracted = time.perf_counter()
            result = CrawlResult(spec.name, spec.url, posts=page.posts, path=page.path)
            with store.session() as session:
                counts = save_crawl(session, ids[spec.name], result)
            elapsed += time.perf_counter() - start
            extracting += extracted - start
            new += counts.new
    return elapsed, extracting, new


COLUMNS = (
    "source_id",
    "url",
    "headline",
    "body",
    "published_at",
    "updated_at",
    "first_seen_at",
    "last_seen_at",
    "revisions",
    "highlighted",
    "content_hash",
    "headline_hash",
)


def stored_rows(store: Store) -> list[dict[str, Any]]:
    table = Update.__table__
    with store.session() as session:
        result = session.execute(select(*(table.c[c] for c in COLUMNS)).order_by(table.c.id))
        return [dict(r._mapping) for r in result]


def run_bare(store: Store, rows: list[dict[str, Any]], per_page: int) -> float:
    """Seconds to insert the rows with Core bulk inserts, one transaction per page."""
    register(store)  # the same sources as vigie's run: the rows' source ids hold
    stmt = insert(Update.__table__)
    elapsed = 0.0
    with quiet_gc():
        for i in range(0, len(rows), per_page):
            chunk = rows[i : i + per_page]
            start = time.perf_counter()
            with store.session() as session:
                session.execute(stmt, chunk)
            elapsed += time.perf_counter() - start
    return elapsed


def measure(url_vigie: str, url_bare: str, sizes: Sizes) -> dict[str, float]:
    vigie_store, bare_store = Store(url_vigie), Store(url_bare)
    try:
        before = written_bytes()
        seconds, extracting, new = run_vigie(vigie_store, sizes.ingest_posts, sizes.ingest_per_page)
        vigie_store.close()  # its last checkpoint is the ingest's too
        middle = written_bytes()
        rows = stored_rows(vigie_store)
        bare = run_bare(bare_store, rows, layout(sizes.ingest_posts, sizes.ingest_per_page)[1])
        bare_store.close()
        after = written_bytes()
    finally:
        vigie_store.close()
        bare_store.close()
    return {
        "seconds": seconds,
        "extracting": extracting,
        "new": new,
        "rows": len(rows),
        "bare": bare,
        "written": None if middle is None or before is None else middle - before,
        "bare_written": None if after is None or middle is None else after - middle,
    }


def _metrics(db: str, m: dict[str, Any], *, rate_target: float | None) -> list[Metric]:
    n = m["rows"]
    note = (
        f"{int(m['new'])} new updates in pages of the live blogs of {SOURCES} sources, "
        f"extraction {m['extracting']:.1f}s of {m['seconds']:.1f}s"
    )
    metrics = [
        Metric(
            f"ingest_{db}_rate",
            m["new"] / m["seconds"],
            "updates/s",
            baseline=n / m["bare"],
            baseline_label="Core bulk insert of the same rows (rows/s)",
            target=rate_target,
            direction="min",
            note=note,
        ),
        Metric(
            f"ingest_{db}_overhead",
            m["seconds"],
            "s",
            baseline=m["bare"],
            baseline_label="Core bulk insert of the same rows",
            target=3.0,
            target_on="ratio",
            note="extraction + dedup + store vs bare insert",
        ),
    ]
    if db == "sqlite" and m["written"] is not None:  # a server's writes are not this process's
        metrics.append(
            Metric(
                "ingest_sqlite_written",
                m["written"] / 1e6,
                "MB",
                baseline=m["bare_written"] / 1e6,
                baseline_label="written by the bare insert",
                note="bytes written to storage (/proc/self/io write_bytes): WAL and checkpoints",
            )
        )
    return metrics


def bench(sizes: Sizes, *, with_pg: bool = True) -> list[Metric]:
    metrics = []
    with workdir("ingest") as folder:
        m = measure(f"sqlite:///{folder / 'vigie.db'}", f"sqlite:///{folder / 'bare.db'}", sizes)
    metrics += _metrics("sqlite", m, rate_target=3000.0)
    if with_pg:
        with postgres() as make_db:
            if make_db is None:
                metrics.append(
                    Metric("ingest_postgresql_rate", None, "updates/s", note="no PostgreSQL")
                )
            else:
                m = measure(make_db(), make_db(), sizes)
                metrics += _metrics("postgresql", m, rate_target=None)
    return metrics
