"""Dedup-aware writes of a crawl's posts against the stored updates of its source.

Each post of the crawl is either new (an update with its first revision), seen again
(`last_seen_at` moves, nothing else is written) or revised (a new revision keeps the old
text). Identity rules live in `storage/dedup.py`; this module applies them against the
store. Writers of one source are serialized by a row lock on the source (SQLite serializes
all writers with BEGIN IMMEDIATE), and the unique (source, key) constraint backs it up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from storage import dedup
from storage.bulk import chunks, insert_ignore, is_postgresql
from storage.clean import clean_post
from storage.dedup_page import MergedPost, merge_page
from storage.inputs import PostIn
from storage.models import Revision, Source, Update, UpdateKey
from storage.stories import StoryProbe, link_stories

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class SaveCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    new_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    highlighted_ids: list[int] = field(default_factory=list)  # stored ones made key moments


_SOURCES = Source.__table__
_LOCK = select(_SOURCES.c.id).where(_SOURCES.c.id == bindparam("source_id")).with_for_update()


def lock_source(session: Session, source_id: int) -> None:
    """Serialize the writers of one source: a row lock on PostgreSQL, held until the
    transaction ends (SQLite's BEGIN IMMEDIATE already holds the whole database)."""
    if is_postgresql(session):
        session.execute(_LOCK, {"source_id": source_id}).one()


# Statements a crawl runs every time, built once ("expanding" parameters take the lists).
_KEYS = select(UpdateKey.key_hash, UpdateKey.update_id).where(
    UpdateKey.source_id == bindparam("source_id"),
    UpdateKey.key_hash.in_(bindparam("hashes", expanding=True)),
)


def _existing_keys(session: Session, source_id: int, hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(hashes):
        rows = session.execute(_KEYS, {"source_id": source_id, "hashes": list(chunk)})
        found.update({h: uid for h, uid in rows})
    return found


def _match_edits(
    session: Session,
    source_id: int,
    pending: list[tuple[int, MergedPost]],
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


def _revise(session: Session, u: Update, m: MergedPost, now: datetime) -> bool:
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
    # The superseded version keeps its text in its own row from now on (see Revision).
    session.execute(
        update(_REVISIONS)
        .where(_REVISIONS.c.update_id == u.id, _REVISIONS.c.number == u.revisions)
        .values(headline=u.headline, body=u.body)
    )
    u.revisions += 1
    u.headline, u.body, u.content_hash = post.headline, post.body, new_hash
    u.headline_hash = dedup.headline_hash(post.headline)
    u.updated_at = post.updated_at or now
    session.add(
        Revision(
            update_id=u.id,
            number=u.revisions,
            content_hash=new_hash,
            updated_at=u.updated_at,
            seen_at=now,
        )
    )
    return True


_UPDATES = Update.__table__
_REVISIONS = Revision.__table__
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
        for chunk in chunks([row | {"id": uid} for row, uid in zip(rows, ids, strict=True)]):
            session.execute(_INSERT_UPDATE, list(chunk))
        return ids
    ids = []
    for chunk in chunks(rows):
        ids.extend(r[0] for r in session.execute(_INSERT_UPDATE_RETURNING, list(chunk)))
    return ids


def _insert_new(
    session: Session, source_id: int, new: list[MergedPost], now: datetime
) -> list[StoryProbe]:
    rows = []
    for m in new:
        p = m.post
        rows.append(
            {
                "source_id": source_id,
                "url": m.url,
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
                "headline": None,
                "body": None,
                "content_hash": row["content_hash"],
                "updated_at": row["updated_at"],
                "seen_at": now,
            }
        )
        keys.extend(_key_rows(source_id, uid, m.keys))
    for chunk in chunks(revisions):
        session.execute(_REVISIONS.insert(), list(chunk))
    insert_ignore(session, UpdateKey, keys)
    return [
        StoryProbe(uid, r["headline"], r["body"], r["published_at"], r["headline_hash"])
        for uid, r in zip(ids, rows, strict=True)
    ]


def save_posts(
    session: Session, source_id: int, posts: Sequence[PostIn], now: datetime
) -> SaveCounts:
    """A crawl's posts saved against the stored updates of its source, by the dedup rules:
    what was new, revised or seen again. Takes the source's write lock first; the caller
    owns the transaction (the crawl's record commits with it: `storage/crawls.py`)."""
    counts = SaveCounts()
    if not posts:
        return counts
    lock_source(session, source_id)
    merged = merge_page([clean_post(p) for p in posts])
    hashes = {dedup.key_hash(k) for m in merged for k in m.keys}
    found = _existing_keys(session, source_id, sorted(hashes))
    claimed: set[int] = set()
    matched: dict[int, int] = {}
    pending: list[tuple[int, MergedPost]] = []
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
    for chunk in chunks(missing):
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
        if u.url is None and m.url:
            u.url = m.url
        new_keys.extend(
            _key_rows(source_id, uid, [k for k in m.keys if dedup.key_hash(k) not in found])
        )
    for chunk in chunks(seen_ids):
        # On the table, not the entity: the ORM would match each loaded update against the
        # criteria to refresh an attribute no one reads in this transaction.
        session.execute(update(_UPDATES).where(_UPDATES.c.id.in_(chunk)).values(last_seen_at=now))
    insert_ignore(session, UpdateKey, new_keys)
    # Oldest first, so ids grow with time; on a tie, the post lower on the page is older.
    fresh = [i for i in range(len(merged)) if i not in matched and i not in twins]
    fresh.sort(key=lambda i: (merged[i].post.published_at or _EPOCH, -merged[i].position))
    new = [merged[i] for i in fresh]
    probes = _insert_new(session, source_id, new, now)
    counts.new_ids = [p.id for p in probes]
    counts.new = len(counts.new_ids)
    link_stories(session, source_id, counts.new_ids, news=probes)
    return counts
