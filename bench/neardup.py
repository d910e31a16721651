"""Benchmark 4, near-duplicate lookup: finding the story of one new update in a big store.

Against the cached stores of `bench.bigstore` (100k, and 1M in the full run): a new update
is inserted (not timed), then `storage.stories.story_matches` is timed for it: shingles,
MinHash bands, the band and headline lookups, loading and verifying the candidates; then
the transaction is rolled back, so the store stays as built. Half of the new updates copy
a stored post (the lookup must find it), half are new text. The baseline is the cheapest
indexed read of the same store: one update by primary key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bench import bigstore, corpus
from bench.common import Metric, Sizes, latency_metrics, size_label
from storage import dedup
from storage.db import Store
from storage.models import Update
from storage.stories import StoryProbe, story_matches


def _probes(store: Store, size: int, count: int) -> list[tuple[int, StoryProbe, bool]]:
    """(source id, new update, whether it copies a stored one) for `count` lookups."""
    rng = random.Random(size)
    writer = corpus.Writer(seed=size + 1)
    out = []
    with store.read_session() as session:
        for k in range(count):
            i = rng.randrange(size)
            when = bigstore.when(i, size) + timedelta(minutes=10)
            source = (i + 7) % bigstore.SOURCES + 1
            if k % 2 == 0:
                row = session.execute(
                    select(Update.headline, Update.body, Update.source_id).where(Update.id == i + 1)
                ).one()
                headline, body = row.headline, row.body
                if row.source_id == source:
                    source = source % bigstore.SOURCES + 1
            else:
                post = writer.post(i, when)
                headline, body = post.headline, post.body
            probe = StoryProbe(0, headline, body, when, dedup.headline_hash(headline))
            out.append((source, probe, k % 2 == 0))
    return out


def _lookup_times(store: Store, size: int, count: int) -> tuple[list[float], int, int]:
    """Seconds per lookup, copies found, copies looked for."""
    times: list[float] = []
    found = wanted = 0
    for source, probe, is_copy in _probes(store, size, count):
        with store.sessions() as session:
            row = session.execute(
                Update.__table__.insert().returning(Update.id),
                {
                    "source_id": source,
                    "headline": probe.headline,
                    "body": probe.body,
                    "published_at": probe.published_at,
                    "first_seen_at": probe.published_at,
                    "last_seen_at": probe.published_at,
                    "revisions": 1,
                    "highlighted": False,
                    "content_hash": dedup.content_hash(probe.headline, probe.body),
                    "headline_hash": probe.headline_hash,
                },
            ).one()
            probe.id = row[0]
            start = time.perf_counter()
            matches, _bands = story_matches(session, source, [probe])
            times.append(time.perf_counter() - start)
            session.rollback()
        if is_copy:
            wanted += 1
            found += probe.id in matches
    return times, found, wanted


def _baseline_times(store: Store, size: int, count: int) -> list[float]:
    rng = random.Random(size + 2)
    times = []
    for _ in range(count):
        uid = rng.randrange(size) + 1
        with store.read_session() as session:
            start = time.perf_counter()
            session.get(Update, uid)
            times.append(time.perf_counter() - start)
    return times


def bench(sizes: Sizes, log: Callable[[str], None] = print) -> list[Metric]:
    metrics = []
    dedup.lsh_bands(dedup.shingles("the first lookup", "warms the word-hash cache"))
    for size in sizes.stores:
        path = bigstore.build(size, log=log)
        bigstore.warm(path)
        store = Store(f"sqlite:///{path}", upgrade=False)
        try:
            _lookup_times(store, size, 5)  # warm the page cache and the statement cache
            times, found, wanted = _lookup_times(store, size, sizes.lookups)
            base = _baseline_times(store, size, sizes.lookups)
        finally:
            store.close()
        label = size_label(size)
        note = (
            f"{len(times)} lookups against {size:,} stored updates; {found}/{wanted} copies found"
        )
        metrics += latency_metrics(
            f"neardup_p{{p}}_{label}",
            times,
            base,
            "p{p} of one update read by primary key",
            5.0 if size >= 1_000_000 or len(sizes.stores) == 1 else None,
            note,
        )
    return metrics
