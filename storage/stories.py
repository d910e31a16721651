"""Stories: the same news told by several sources, found when new updates are stored.

A new update joins the story of the stored update of another source that best tells the
same news: candidates share one of its LSH bands or its headline, and each is verified by
shingle overlap (the rules and signatures are `storage/dedup.py`'s). The bands of every new
update are stored (`lsh_bands`) for the lookups of the updates that come after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from storage import dedup
from storage.bulk import chunks
from storage.models import Story, Update, utcnow


@dataclass(slots=True)
class StoryProbe:
    """What story linking needs of a new update, without loading it back through the ORM."""

    id: int
    headline: str
    body: str
    published_at: datetime | None
    headline_hash: str | None
    story_id: int | None = None


# The statements of every lookup, built once ("expanding" parameters take the lists).
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
    for chunk in chunks(heads):
        params = {"heads": list(chunk), "source_id": source_id, "most": SAME_HEADLINE}
        for uid, head in session.execute(_SAME_HEADLINE, params):
            by_head.setdefault(head, []).append(uid)
    wanted = sorted(
        {c for ids in by_band.values() for c in ids} | {c for ids in by_head.values() for c in ids}
    )
    stored: dict[int, Update] = {}
    for chunk in chunks(wanted):
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
    for chunk in chunks(bands, 5_000):  # SQLite allows 32,766 parameters
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT band, update_id FROM lsh_bands WHERE band IN ({marks})"
        yield from conn.exec_driver_sql(sql, tuple(chunk))


def _insert_bands(session: Session, bands: Mapping[int, list[int]]) -> None:
    """The band rows of new updates, straight to the driver: 16 plain integers per update,
    for which SQLAlchemy's per-row parameter handling cost more than the insert itself.
    Sorted by band, the order of the table's b-tree; a row already there (left by a deleted
    update whose id came back) is kept."""
    rows = sorted({(b, uid) for uid, bs in bands.items() for b in bs})
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO lsh_bands (band, update_id) "
            "SELECT * FROM unnest(%s::bigint[], %s::integer[]) ON CONFLICT DO NOTHING",
            ([b for b, _ in rows], [uid for _, uid in rows]),
        )
        return
    conn.exec_driver_sql("INSERT OR IGNORE INTO lsh_bands (band, update_id) VALUES (?, ?)", rows)


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
            for chunk in chunks(uids):
                session.execute(
                    update(Update).where(Update.id.in_(chunk)).values(story_id=story_id)
                )
    _insert_bands(session, bands)
    return len(matches)
