"""Dedup-aware writes: one crawl of one source saved in one transaction.

Each post of the crawl is either new (an update with its first revision), seen again
(`last_seen_at` moves, nothing else is written) or revised (a new revision keeps the old
text). Identity rules live in `storage/dedup.py`; this module applies them against the
store. Writers of one source are serialized by a row lock on the source (SQLite serializes
all writers with BEGIN IMMEDIATE), and the unique (source, key) constraint backs it up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Update as Update_
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from crawler.models import CrawlResult
from storage import dedup
from storage.clean import clean_result, clean_text
from storage.models import (
    CrawlRun,
    HttpValidator,
    Revision,
    Source,
    Story,
    Update,
    UpdateKey,
)

CHUNK = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class SaveCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    new_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    highlighted_ids: list[int] = field(default_factory=list)  # stored ones made key moments


def utcnow() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _insert_ignore(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for chunk in _chunks(rows):
        session.execute(dialect.insert(model).on_conflict_do_nothing(), list(chunk))


def ensure_sources(session: Session, sources: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Create or refresh the rows of configured sources (name, url, kind); name -> id."""
    wanted = [(clean_text(n), clean_text(u), clean_text(k)) for n, u, k in sources]
    now = utcnow()
    _insert_ignore(
        session,
        Source,
        [
            {
                "name": n,
                "url": u,
                "kind": k,
                "created_at": now,
                "polls": 0,
                "had_posts": False,
                "failures": 0,
                "ended": False,
                "gone": False,
            }
            for n, u, k in wanted
        ],
    )
    rows = session.execute(select(Source).where(Source.name.in_([n for n, _, _ in wanted])))
    ids: dict[str, int] = {}
    by_name = {n: (u, k) for n, u, k in wanted}
    for src in rows.scalars():
        url, kind = by_name[src.name]
        if src.url != url:
            # A new URL is a new page: its validators and end-of-coverage no longer apply.
            src.url, src.ended, src.ended_at, src.gone = url, False, None, False
            session.query(HttpValidator).filter_by(source_id=src.id).delete()
        src.kind = kind
        ids[src.name] = src.id
    return ids


_SOURCES = Source.__table__
_LOCK = select(_SOURCES.c.ended).where(_SOURCES.c.id == bindparam("source_id"))
_LOCK_FOR_UPDATE = _LOCK.with_for_update()
_INSERT_RUN = insert(CrawlRun.__table__)


def _lock_source(session: Session, source_id: int) -> bool:
    """Serialize the writers of one source (a row lock on PostgreSQL; SQLite's BEGIN
    IMMEDIATE already holds the database); returns whether the source has ended."""
    pg = session.get_bind().dialect.name == "postgresql"
    stmt = _LOCK_FOR_UPDATE if pg else _LOCK
    return bool(session.execute(stmt, {"source_id": source_id}).scalar_one())


@cache
def _source_update(columns: frozenset[str]) -> Update_:
    """UPDATE sources SET <columns>, polls = polls + 1 WHERE id = :source_id (built once
    per set of columns: a poll's statement is compiled once, not every time)."""
    values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in sorted(columns)}
    values["polls"] = _SOURCES.c.polls + 1
    return update(_SOURCES).where(_SOURCES.c.id == bindparam("source_id")).values(values)


# Statements a crawl runs every time, built once ("expanding" parameters take the lists).
_KEYS = select(UpdateKey.key_hash, UpdateKey.update_id).where(
    UpdateKey.source_id == bindparam("source_id"),
    UpdateKey.key_hash.in_(bindparam("hashes", expanding=True)),
)
_rank = (
    func.row_number()
    .over(partition_by=Update.headline_hash, order_by=Update.id.desc())
    .label("rank")
)
_same_head = (
    select(Update.id, Update.headline_hash, _rank)
    .where(
        Update.headline_hash.in_(bindparam("heads", expanding=True)),
        Update.source_id != bindparam("source_id"),
    )
    .subquery()
)
_SAME_HEADLINE = (
    select(_same_head.c.id, _same_head.c.headline_hash)
    .where(_same_head.c.rank <= bindparam("most"))
    .order_by(_same_head.c.id.desc())
)
_CANDIDATES = select(Update).where(
    Update.id.in_(bindparam("ids", expanding=True)), Update.source_id != bindparam("source_id")
)


def _existing_keys(session: Session, source_id: int, hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(hashes):
        rows = session.execute(_KEYS, {"source_id": source_id, "hashes": list(chunk)})
        found.update({h: uid for h, uid in rows})
    return found


def _match_edits(
    session: Session,
    source_id: int,
    pending: list[tuple[int, dedup.MergedPost]],
    claimed: set[int],
) -> dict[int, Update]:
    """Pair unmatched posts with stored updates of the same minute whose text is close."""
    timed = [(i, m) for i, m in pending if m.post.published_at is not None]
    if not timed:
        return {}
    times = [m.post.published_at for _, m in timed]
    lo = min(times).replace(second=0, microsecond=0)  # type: ignore[union-attr]
    hi = max(times).replace(second=0, microsecond=0) + timedelta(minutes=1)  # type: ignore[union-attr]
    stored = session.execute(
        select(Update).where(
            Update.source_id == source_id, Update.published_at >= lo, Update.published_at < hi
        )
    ).scalars()
    by_minute: dict[str, list[Update]] = {}
    for u in stored:
        if u.id not in claimed:
            by_minute.setdefault(dedup.minute(u.published_at), []).append(u)
    pairs: list[tuple[float, int, Update]] = []
    for i, m in timed:
        for u in by_minute.get(dedup.minute(m.post.published_at), []):
            if dedup.is_edit_of(u.headline, u.body, m.post.headline, m.post.body):
                score = dedup.edit_score(u.headline, u.body, m.post.headline, m.post.body)
                pairs.append((score, i, u))
    result: dict[int, Update] = {}
    for _, i, u in sorted(pairs, key=lambda p: -p[0]):
        if i not in result and u.id not in claimed:
            result[i] = u
            claimed.add(u.id)
    return result


def _key_rows(source_id: int, update_id: int, keys: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"source_id": source_id, "key_hash": dedup.key_hash(k), "key": k, "update_id": update_id}
        for k in keys
    ]


def _revise(session: Session, u: Update, m: dedup.MergedPost, now: datetime) -> bool:
    """Record a changed text as a new revision; False when the text is not new to it."""
    post = m.post
    new_hash = dedup.content_hash(post.headline, post.body)
    if new_hash == u.content_hash:
        return False
    seen = session.execute(
        select(Revision.content_hash).where(Revision.update_id == u.id)
    ).scalars()
    if new_hash in set(seen):
        return False  # a stale copy of an older version (a lagging cache), not an edit
    u.revisions += 1
    u.headline, u.body, u.content_hash = post.headline, post.body, new_hash
    u.headline_hash = dedup.headline_hash(post.headline)
    u.updated_at = post.updated_at or now
    session.add(
        Revision(
            update_id=u.id,
            number=u.revisions,
            headline=post.headline,
            body=post.body,
            content_hash=new_hash,
            updated_at=u.updated_at,
            seen_at=now,
        )
    )
    return True


@dataclass(slots=True)
class StoryProbe:
    """What story linking needs of a new update, without loading it back through the ORM."""

    id: int
    headline: str
    body: str
    published_at: datetime | None
    headline_hash: str | None
    story_id: int | None = None


_UPDATES = Update.__table__
_INSERT_UPDATE = _UPDATES.insert()
_INSERT_UPDATE_RETURNING = _UPDATES.insert().returning(_UPDATES.c.id, sort_by_parameter_order=True)
_LAST_UPDATE_ID = select(func.max(_UPDATES.c.id))


def _insert_updates(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert update rows; their new ids, in order.

    SQLite: this transaction holds the database's write lock (BEGIN IMMEDIATE), so the ids
    are the ones SQLite would pick (max + 1, ...): given explicitly, the rows go in one
    executemany instead of one INSERT ... RETURNING per row. PostgreSQL batches RETURNING.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        first = (session.execute(_LAST_UPDATE_ID).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
        for chunk in _chunks([row | {"id": uid} for row, uid in zip(rows, ids, strict=True)]):
            session.execute(_INSERT_UPDATE, list(chunk))
        return ids
    ids = []
    for chunk in _chunks(rows):
        ids.extend(r[0] for r in session.execute(_INSERT_UPDATE_RETURNING, list(chunk)))
    return ids


def _insert_new(
    session: Session, source_id: int, new: list[dedup.MergedPost], now: datetime
) -> list[StoryProbe]:
    rows = []
    for m in new:
        p = m.post
        rows.append(
            {
                "source_id": source_id,
                "url": p.url,
                "headline": p.headline,
                "body": p.body,
                "published_at": p.published_at,
                "updated_at": p.updated_at,
                "first_seen_at": now,
                "last_seen_at": now,
                "revisions": 1,
                "highlighted": m.highlighted,
                "content_hash": dedup.content_hash(p.headline, p.body),
                "headline_hash": dedup.headline_hash(p.headline),
            }
        )
    ids = _insert_updates(session, rows)
    revisions, keys = [], []
    for uid, m, row in zip(ids, new, rows, strict=True):
        revisions.append(
            {
                "update_id": uid,
                "number": 1,
                "headline": row["headline"],
                "body": row["body"],
                "content_hash": row["content_hash"],
                "updated_at": row["updated_at"],
                "seen_at": now,
            }
        )
        keys.extend(_key_rows(source_id, uid, m.keys))
    for chunk in _chunks(revisions):
        session.execute(Revision.__table__.insert(), list(chunk))
    _insert_ignore(session, UpdateKey, keys)
    return [
        StoryProbe(uid, r["headline"], r["body"], r["published_at"], r["headline_hash"])
        for uid, r in zip(ids, rows, strict=True)
    ]


STORY_CANDIDATES = 200  # stored updates verified per new update, newest first
SAME_HEADLINE = 20  # updates of another source with the same headline verified per new update


def story_matches(
    session: Session, source_id: int, news: Sequence[Update | StoryProbe]
) -> tuple[dict[int, Update], dict[int, list[int]]]:
    """For each new update, the stored update of another source that best tells the same
    news (when one does), and the LSH bands of every new update.

    Candidates are the updates sharing an LSH band with it (the newest STORY_CANDIDATES)
    or its headline (the newest SAME_HEADLINE), of another source and published within
    STORY_WINDOW_HOURS; each is verified by shingle overlap (`dedup.same_story`). A whole
    batch of new updates costs three queries, not a few per update.
    """
    words = {u.id: dedup.tokens(u.headline, u.body) for u in news}
    bands = dict(zip(words, dedup.lsh_bands_many(list(words.values())), strict=True))
    prints: dict[int, set[str]] = {}  # shingles of the new updates that have candidates
    hits: dict[int, list[int]] = {}
    for band, uid in _band_hits(session, sorted({b for bs in bands.values() for b in bs})):
        hits.setdefault(band, []).append(uid)
    by_band: dict[int, list[int]] = {}
    for u in news:
        found = {c for b in bands[u.id] for c in hits.get(b, ())}
        found.discard(u.id)
        by_band[u.id] = sorted(found, reverse=True)[:STORY_CANDIDATES]
    heads = sorted({u.headline_hash for u in news if u.headline_hash})
    by_head: dict[str, list[int]] = {}
    for chunk in _chunks(heads):
        params = {"heads": list(chunk), "source_id": source_id, "most": SAME_HEADLINE}
        for uid, head in session.execute(_SAME_HEADLINE, params):
            by_head.setdefault(head, []).append(uid)
    wanted = sorted(
        {c for ids in by_band.values() for c in ids} | {c for ids in by_head.values() for c in ids}
    )
    stored: dict[int, Update] = {}
    for chunk in _chunks(wanted):
        params = {"ids": list(chunk), "source_id": source_id}
        stored.update((c.id, c) for c in session.execute(_CANDIDATES, params).scalars())
    other_prints: dict[int, set[str]] = {}
    window = timedelta(hours=dedup.STORY_WINDOW_HOURS)
    matches: dict[int, Update] = {}
    for u in news:
        ids = by_band[u.id] + [c for c in by_head.get(u.headline_hash or "", ()) if c != u.id]
        best: Update | None = None
        best_score = 0.0
        for cid in dict.fromkeys(ids):
            c = stored.get(cid)
            if c is None:
                continue
            if u.published_at and c.published_at and abs(u.published_at - c.published_at) > window:
                continue
            other = other_prints.get(cid)
            if other is None:
                other = other_prints[cid] = dedup.shingles(c.headline, c.body)
            mine = prints.get(u.id)
            if mine is None:
                mine = prints[u.id] = dedup.shingles_of(words[u.id])
            same_headline = bool(u.headline_hash) and c.headline_hash == u.headline_hash
            if same_headline or dedup.same_story(mine, other):
                score = len(mine & other) / max(1, len(mine | other))
                score += 1.0 if same_headline else 0.0
                if best is None or score > best_score:
                    best, best_score = c, score
        if best is not None:
            matches[u.id] = best
    return matches, bands


def _band_hits(session: Session, bands: list[int]) -> Iterable[tuple[int, int]]:
    """(band, update id) of the stored rows with one of these bands: the thousands of bands
    of a crawl go to the driver as they are, not through SQLAlchemy's expanding IN."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        sql = "SELECT band, update_id FROM lsh_bands WHERE band = ANY(%s::bigint[])"
        yield from conn.exec_driver_sql(sql, (bands,))
        return
    for chunk in _chunks(bands, 5_000):  # SQLite allows 32,766 parameters
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT band, update_id FROM lsh_bands WHERE band IN ({marks})"
        yield from conn.exec_driver_sql(sql, tuple(chunk))


def _insert_bands(session: Session, bands: Mapping[int, list[int]]) -> None:
    """The band rows of new updates, straight to the driver: 16 plain integers per update,
    for which SQLAlchemy's per-row parameter handling cost more than the insert itself."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        ids = [uid for uid, bs in bands.items() for _ in bs]
        if ids:
            conn.exec_driver_sql(
                "INSERT INTO lsh_bands (band, update_id) "
                "SELECT * FROM unnest(%s::bigint[], %s::integer[])",
                ([b for bs in bands.values() for b in bs], ids),
            )
        return
    rows = [(b, uid) for uid, bs in bands.items() for b in bs]
    if rows:
        conn.exec_driver_sql("INSERT INTO lsh_bands (band, update_id) VALUES (?, ?)", rows)


def link_stories(
    session: Session,
    source_id: int,
    ids: Sequence[int],
    *,
    news: Sequence[StoryProbe] | None = None,
) -> int:
    """Give new updates the story of a near-duplicate in another source; returns links made.

    `news`: the new updates as just inserted (else they are loaded by id)."""
    if not ids:
        return 0
    found: Sequence[Update | StoryProbe] = news or (
        session.execute(select(Update).where(Update.id.in_(ids))).scalars().all()
    )
    matches, bands = story_matches(session, source_id, found)
    storyless = {b.id: b for b in matches.values() if b.story_id is None}
    if storyless:
        stories = {uid: Story(created_at=utcnow()) for uid in storyless}
        session.add_all(stories.values())
        session.flush()
        for uid, best in storyless.items():
            best.story_id = stories[uid].id
    linked: dict[int, list[int]] = {}
    for u in found:
        best = matches.get(u.id)
        if best is not None:
            u.story_id = best.story_id
            linked.setdefault(best.story_id, []).append(u.id)  # type: ignore[arg-type]
    if news is not None:  # plain records: write the links ourselves
        for story_id, uids in linked.items():
            for chunk in _chunks(uids):
                session.execute(
                    update(Update).where(Update.id.in_(chunk)).values(story_id=story_id)
                )
    _insert_bands(session, bands)
    return len(matches)


def save_posts(session: Session, source_id: int, result: CrawlResult, now: datetime) -> SaveCounts:
    """Apply the dedup rules to a crawl's posts against the stored updates of its source."""
    counts = SaveCounts()
    merged = dedup.merge_page(result.posts)
    hashes = {dedup.key_hash(k) for m in merged for k in m.keys}
    found = _existing_keys(session, source_id, sorted(hashes))
    claimed: set[int] = set()
    matched: dict[int, int] = {}
    pending: list[tuple[int, dedup.MergedPost]] = []
    twins: set[int] = set()  # posts whose keys lead to an update another post already took
    for i, m in enumerate(merged):
        uid = next((found[h] for h in map(dedup.key_hash, m.keys) if h in found), None)
        if uid is None:
            pending.append((i, m))
        elif uid in claimed:
            twins.add(i)
        else:
            matched[i] = uid
            claimed.add(uid)
    edits = _match_edits(session, source_id, pending, claimed)
    matched.update({i: u.id for i, u in edits.items()})
    stored = {u.id: u for u in edits.values()}
    missing = [uid for uid in matched.values() if uid not in stored]
    for chunk in _chunks(missing):
        stored.update(
            (u.id, u) for u in session.execute(select(Update).where(Update.id.in_(chunk))).scalars()
        )
    seen_ids, new_keys = [], []
    for i, uid in matched.items():
        m, u = merged[i], stored[uid]
        if _revise(session, u, m, now):
            counts.changed += 1
            counts.changed_ids.append(uid)
        else:
            counts.unchanged += 1
        seen_ids.append(uid)
        if m.highlighted and not u.highlighted:
            u.highlighted = True
            counts.highlighted_ids.append(uid)
        if u.url is None and m.post.url:
            u.url = m.post.url
        new_keys.extend(
            _key_rows(source_id, uid, [k for k in m.keys if dedup.key_hash(k) not in found])
        )
    for chunk in _chunks(seen_ids):
        session.execute(update(Update).where(Update.id.in_(chunk)).values(last_seen_at=now))
    _insert_ignore(session, UpdateKey, new_keys)
    # Oldest first, so ids grow with time; on a tie, the post lower on the page is older.
    fresh = [i for i in range(len(merged)) if i not in matched and i not in twins]
    fresh.sort(key=lambda i: (merged[i].post.published_at or _EPOCH, -merged[i].position))
    new = [merged[i] for i in fresh]
    probes = _insert_new(session, source_id, new, now)
    counts.new_ids = [p.id for p in probes]
    counts.new = len(counts.new_ids)
    link_stories(session, source_id, counts.new_ids, news=probes)
    return counts


StateFn = Callable[[SaveCounts], Mapping[str, Any]]


def save_crawl(
    session: Session,
    source_id: int,
    result: CrawlResult,
    *,
    state: StateFn | None = None,
    now: datetime | None = None,
    worker: str | None = None,
) -> SaveCounts:
    """Save one crawl: posts, validators, the crawl record and the source's state.

    `state` is the scheduler's decision, given what the crawl changed: the schedule fields
    to set on the source (next_run_at, failures, ...). The caller owns the transaction:
    all of it commits together or not at all.
    """
    now = now or utcnow()
    result = clean_result(result)
    counts = SaveCounts()
    ended: bool | None = None  # whether the source had ended before, when we know it
    if result.posts:
        ended = _lock_source(session, source_id)
        counts = save_posts(session, source_id, result, now)
    record = _crawl_record(session, source_id, result, counts, ended, state, now, worker)
    _write_crawl_records(session, [record])
    return counts


def save_quiet_crawls(
    session: Session,
    crawls: Sequence[tuple[int, CrawlResult, StateFn | None]],
    *,
    now: datetime | None = None,
    worker: str | None = None,
) -> list[SaveCounts]:
    """`save_crawl` for several crawls that brought no posts (unchanged pages, errors) of
    different sources, as (source id, result, state): the same rows, written with one
    executemany per statement instead of a few statements per crawl."""
    now = now or utcnow()
    records = []
    for source_id, result, state in crawls:
        result = clean_result(result)
        if result.posts:
            raise ValueError("save_quiet_crawls: a crawl with posts goes to save_crawl")
        records.append(
            _crawl_record(session, source_id, result, SaveCounts(), None, state, now, worker)
        )
    _write_crawl_records(session, records)
    return [SaveCounts() for _ in crawls]


@dataclass(slots=True)
class _CrawlRecord:
    source_id: int
    values: dict[str, Any]  # the source's new state
    run: dict[str, Any]  # its crawl_runs row


def _crawl_record(
    session: Session,
    source_id: int,
    result: CrawlResult,
    counts: SaveCounts,
    ended: bool | None,
    state: StateFn | None,
    now: datetime,
    worker: str | None,
) -> _CrawlRecord:
    """Saves the crawl's validators; what the source's row and the crawl record become."""
    for url, v in result.validators.items():
        row = session.execute(
            select(HttpValidator).where(
                HttpValidator.source_id == source_id, HttpValidator.url == url
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(
                HttpValidator(
                    source_id=source_id,
                    url=url,
                    etag=v.etag,
                    last_modified=v.last_modified,
                    updated_at=now,
                )
            )
        else:
            row.etag, row.last_modified, row.updated_at = v.etag, v.last_modified, now
    values: dict[str, Any] = {
        "last_crawl_at": now,
        "last_status": result.status,
        "last_http_status": result.http_status,
        # A crawl that worked around bad input (a truncated feed, a wrong charset) says so.
        "last_error": result.error or ("; ".join(result.warnings)[:2000] or None),
    }
    if result.path:
        values["last_path"] = result.path
    if counts.new or counts.changed:
        values["last_change_at"] = now
    if result.posts:
        values["had_posts"] = True
    if result.ended and ended is None:  # a crawl without posts read no lock: ask now
        ended = bool(session.execute(_LOCK, {"source_id": source_id}).scalar_one())
    if result.ended and not ended:
        values["ended"], values["ended_at"] = True, now
    if result.status == "gone":
        values["gone"] = True
    values.update(state(counts) if state else {})
    run = {
        "source_id": source_id,
        "started_at": result.started_at or now,
        "finished_at": now,
        "status": result.status,
        "http_status": result.http_status,
        "error": result.error,
        "pages": result.pages,
        "new": counts.new,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "duration_ms": int(result.duration * 1000),
        "worker": worker,
    }
    return _CrawlRecord(source_id, values, run)


def _write_crawl_records(session: Session, records: Sequence[_CrawlRecord]) -> None:
    """The sources' new state and the crawl records: one executemany per set of columns.
    In source order, so that concurrent writers lock the rows of sources in one order."""
    updates: dict[frozenset[str], list[dict[str, Any]]] = {}
    for r in sorted(records, key=lambda r: r.source_id):
        params = {f"v_{k}": v for k, v in r.values.items()}
        params["source_id"] = r.source_id
        updates.setdefault(frozenset(r.values), []).append(params)
    for columns, rows in updates.items():
        session.execute(_source_update(columns), rows)
    if session.identity_map:
        for r in records:
            loaded = session.identity_map.get(identity_key(Source, r.source_id))
            if loaded is not None:  # a Source this session holds no longer says what the row says
                session.expire(loaded)
    session.execute(_INSERT_RUN, [r.run for r in records])
