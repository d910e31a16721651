"""A big SQLite store (100k or 1M updates) for the lookup and search benchmarks, built once.

The rows are what vigie would have stored for that many posts of 200 sources: updates
with their first revision, one publisher key each, and the 16 LSH bands of each text
computed by `storage.dedup` itself (shingles → MinHash → bands), so lookups meet real band
values. One post in ten is a copy of a post of another source published 30 minutes
earlier (the headline and first paragraph, as a feed summary carries), and both share a
story. Rows are written with bulk Core inserts (the band b-tree is built in one
sorted pass after loading);
the full-text index is filled by the schema's own triggers.

The file is cached as `bench/.cache/store-<size>-<schema>.db` and built again only when
the schema's revision changes. Generation runs in worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import insert, text

from bench import corpus
from bench.common import CACHE
from storage import dedup
from storage.db import MIGRATIONS, Store
from storage.models import Revision, Source, Story, Update, UpdateKey

SOURCES = 200
_LOAD_BANDS = text("INSERT INTO loading_bands (band, update_id) VALUES (:band, :update_id)")
CHUNK = 10_000
SPAN = timedelta(days=365)  # the million updates spread over a year
COPY_EVERY = 10  # update i with i % 10 == 9 copies update i - 5 (another source)
COPY_DELAY = timedelta(minutes=30)
FORMAT = 1  # bump when what is generated changes


def source_url(j: int) -> str:
    return f"https://bench.invalid/source/{j}"


def when(i: int, size: int) -> Any:
    return corpus.BASE_TIME + SPAN * (i / max(size, 1))


def _chunk(args: tuple[int, int, int]) -> dict[str, list[dict[str, Any]]]:
    """The rows of updates [start, stop) of a store of `size`: ids are i + 1."""
    start, stop, size = args
    writer = corpus.Writer(seed=start * 7 + 3)
    updates, revisions, keys, bands = [], [], [], []
    originals: dict[int, corpus.Post] = {}
    for i in range(start, stop):
        uid = i + 1
        source = i % SOURCES + 1
        story = None
        if i % COPY_EVERY == COPY_EVERY - 1 and i - 5 in originals:
            original = originals.pop(i - 5)
            post = corpus.Post(
                i, original.headline, original.paragraphs[:1], original.published_at + COPY_DELAY
            )
            story = i // COPY_EVERY + 1
        else:
            post = writer.post(i, when(i, size))
            if i % COPY_EVERY == 4 and i + 5 < stop:
                originals[i] = post
                story = i // COPY_EVERY + 1
        headline, body, published = post.headline, post.body, post.published_at
        chash = dedup.content_hash(headline, body)
        updates.append(
            {
                "id": uid,
                "source_id": source,
                "url": f"{source_url(source)}#post-{i}",
                "headline": headline,
                "body": body,
                "published_at": published,
                "updated_at": None,
                "first_seen_at": published + timedelta(seconds=40),
                "last_seen_at": published + timedelta(minutes=20),
                "revisions": 1,
                "highlighted": i % 97 == 0,
                "story_id": story,
                "content_hash": chash,
                "headline_hash": dedup.headline_hash(headline),
            }
        )
        revisions.append(
            {
                "update_id": uid,
                "number": 1,
                "headline": None,  # the current version's text is the update's
                "body": None,
                "content_hash": chash,
                "updated_at": None,
                "seen_at": published + timedelta(seconds=40),
            }
        )
        key = f"{source_url(source)}#post-{i}"
        keys.append(
            {"source_id": source, "key_hash": dedup.key_hash(key), "key": key, "update_id": uid}
        )
        for band in dedup.lsh_bands(dedup.shingles(headline, body)):
            bands.append({"band": band, "update_id": uid})
    return {"updates": updates, "revisions": revisions, "keys": keys, "bands": bands}


def path_for(size: int) -> Path:
    """Where the store of `size` is cached: its name carries the schema's head revision."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return CACHE / f"store-{size}-{head}-f{FORMAT}.db"


def build(size: int, *, log: Any = None) -> Path:
    """The cached store of `size` updates, built first when missing; returns its path."""
    path = path_for(size)
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    started = time.monotonic()
    store = Store(f"sqlite:///{partial}")
    try:
        _fill(store, size, log)
    finally:
        store.close()
    os.replace(partial, path)
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    if log:
        log(f"built {path.name} in {time.monotonic() - started:.0f}s")
    return path


def warm(path: Path) -> None:
    """Read the store's file once, so timings find it in the OS page cache.

    A store in use is in the page cache; one just pushed out by another benchmark's
    writes (ingest writes gigabytes) is not, and its first lookups measure the disk.
    """
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def _work(size: int) -> Iterator[tuple[int, int, int]]:
    for start in range(0, size, CHUNK):
        yield start, min(start + CHUNK, size), size


def _fill(store: Store, size: int, log: Any) -> None:
    now = corpus.BASE_TIME
    with store.session() as session:
        session.execute(
            insert(Source.__table__),
            [
                {
                    "id": j,
                    "name": f"src{j}",
                    "url": source_url(j),
                    "kind": "auto",
                    "created_at": now,
                    "polls": 1,
                    "had_posts": True,
                    "failures": 0,
                    "ended": False,
                    "gone": False,
                }
                for j in range(1, SOURCES + 1)
            ],
        )
        stories = size // COPY_EVERY + 1
        for s in range(1, stories + 1, CHUNK):
            ids = range(s, min(s + CHUNK, stories + 1))
            session.execute(insert(Story.__table__), [{"id": i, "created_at": now} for i in ids])
        # Bands go to a plain table first, into their clustered b-tree in one sorted build.
        session.execute(text("CREATE TABLE loading_bands (band INTEGER, update_id INTEGER)"))
    context = multiprocessing.get_context("fork")
    workers = max(1, min(2, os.cpu_count() or 1))
    done = 0
    with context.Pool(workers) as pool:
        for rows in pool.imap(_chunk, _work(size)):
            with store.session() as session:
                session.execute(text("PRAGMA cache_size=-200000"))
                session.execute(insert(Update.__table__), rows["updates"])
                session.execute(insert(Revision.__table__), rows["revisions"])
                session.execute(insert(UpdateKey.__table__), rows["keys"])
                session.execute(_LOAD_BANDS, rows["bands"])
            done += len(rows["updates"])
            if log and done % (CHUNK * 10) == 0:
                log(f"  {done:,} of {size:,} updates stored")
    with store.session() as session:
        session.execute(
            text(
                "INSERT OR IGNORE INTO lsh_bands (band, update_id) "
                "SELECT band, update_id FROM loading_bands ORDER BY band, update_id"
            )
        )
        session.execute(text("DROP TABLE loading_bands"))
        session.execute(text("ANALYZE"))
    raw = store.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
