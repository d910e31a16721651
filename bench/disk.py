"""Benchmark 10, bytes on disk per stored post: the store's size against the text it holds.

The ingest of benchmark 2 (the same pages, extraction → `save_crawl`) fills a fresh store,
then every source's last page is crawled again with one post in ten edited, so the store
holds revisions too. The baseline is the text itself: the UTF-8 bytes of the headline and
body of every version stored (each update's text, and the superseded texts of its
revisions). The store's size is what its tables and indexes take: SQLite's `dbstat` (the
pages of each b-tree), PostgreSQL's `pg_total_relation_size` (table,
indexes and TOAST). Each table is reported with its indexes (SQLite's full-text shadow
tables as one `updates_fts`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

from sqlalchemy import text

from bench.common import Metric, Sizes, workdir
from bench.ingest import CONTENT_TYPE, layout, pages, run_vigie, source_url
from bench.pg import postgres
from crawler.documents import extract_document
from crawler.models import CrawlResult, SourceSpec
from storage.crawls import save_crawl
from storage.db import Store

EDIT_SHARE = 10  # one post in ten of each source's last page is edited
MB = 1_000_000


def fill(store: Store, sizes: Sizes) -> None:
    """The ingest of benchmark 2, then a crawl of every source's last page with edits."""
    run_vigie(store, sizes.ingest_posts, sizes.ingest_per_page)
    crawls, per_page = layout(sizes.ingest_posts, sizes.ingest_per_page)
    last = {j: body for j, k, body in pages(sizes.ingest_posts, per_page) if k == crawls - 1}
    with store.session() as session:
        ids = dict(session.execute(text("SELECT name, id FROM sources")).all())
    for j, body in last.items():
        spec = SourceSpec(name=f"l{j}", url=source_url(j), kind="liveblog")
        page = extract_document(body, spec.url, spec, content_type=CONTENT_TYPE)
        posts = [
            dataclasses.replace(p, body=f"{p.body} Mise à jour {j}.{i}.")
            if i % EDIT_SHARE == 0
            else p
            for i, p in enumerate(page.posts)
        ]
        result = CrawlResult(spec.name, spec.url, posts=posts, path=page.path)
        with store.session() as session:
            save_crawl(session, ids[spec.name], result)


def text_bytes(store: Store) -> int:
    """UTF-8 bytes of every stored version's headline and body."""
    with store.session() as session:
        current = sum(
            len(h.encode()) + len(b.encode())
            for h, b in session.execute(text("SELECT headline, body FROM updates"))
        )
        older = sum(
            len((h or "").encode()) + len((b or "").encode())
            for h, b in session.execute(
                text(
                    "SELECT r.headline, r.body FROM revisions r JOIN updates u "
                    "ON u.id = r.update_id WHERE r.number < u.revisions"
                )
            )
        )
    return current + older


def sqlite_tables(store: Store) -> Counter[str]:
    """Bytes of each table with its indexes (full-text shadow tables as one)."""
    sizes: Counter[str] = Counter()
    with store.engine.connect() as conn:
        owner = dict(conn.exec_driver_sql("SELECT name, tbl_name FROM sqlite_master").all())
        for name, size in conn.exec_driver_sql(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
        ):
            table = owner.get(name, name)
            if table.startswith("updates_fts"):
                table = "updates_fts"
            sizes[table] += int(size)
    return sizes


def postgres_tables(store: Store) -> Counter[str]:
    sizes: Counter[str] = Counter()
    with store.engine.connect() as conn:
        for name, size in conn.exec_driver_sql(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ):
            sizes[name] = int(size)
    return sizes


WATCHED = ("updates", "revisions", "updates_fts", "lsh_bands", "update_keys")


def _metrics(db: str, tables: Counter[str], text_size: int, posts: int) -> list[Metric]:
    total = sum(tables.values())
    rest = total - sum(tables[t] for t in WATCHED)
    breakdown = ", ".join(f"{t} {tables[t] / MB:.2f}" for t in WATCHED if t in tables)
    out = [
        Metric(
            f"disk_{db}_size",
            total / MB,
            "MB",
            baseline=text_size / MB,
            baseline_label="UTF-8 headline + body of every stored version",
            target=2.0,
            target_on="ratio",
            note=f"{posts} updates; MB: {breakdown}, other {rest / MB:.2f}",
        ),
        Metric(f"disk_{db}_per_post", total / max(1, posts), "bytes", note="information"),
    ]
    for t in WATCHED:
        if t in tables:
            out.append(
                Metric(
                    f"disk_{db}_{t}",
                    tables[t] / MB,
                    "MB",
                    baseline=text_size / MB,
                    baseline_label="the text",
                    note="table with its indexes",
                )
            )
    return out


def _posts(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(text("SELECT count(*) FROM updates")).scalar() or 0)


def measure(
    url: str, sizes: Sizes, tables_of: Callable[[Store], Counter[str]]
) -> tuple[Counter[str], int, int]:
    store = Store(url)
    try:
        fill(store, sizes)
        return tables_of(store), text_bytes(store), _posts(store)
    finally:
        store.close()


def bench(sizes: Sizes, *, with_pg: bool = True) -> list[Metric]:
    with workdir("disk") as folder:
        tables, size, posts = measure(f"sqlite:///{folder / 'vigie.db'}", sizes, sqlite_tables)
    metrics = _metrics("sqlite", tables, size, posts)
    if with_pg:
        with postgres() as make_db:
            if make_db is None:
                metrics.append(Metric("disk_postgresql_size", None, "MB", note="no PostgreSQL"))
            else:
                tables, size, posts = measure(make_db(), sizes, postgres_tables)
                metrics += _metrics("postgresql", tables, size, posts)
    return metrics
