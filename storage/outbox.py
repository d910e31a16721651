"""The alerts outbox, written in the transaction of the crawl it is about: what a crawl's
new and edited updates (and its source's health) mean for each watch, as `alert_events`.

A crash never loses an event (it commits with the updates, or neither does) and never
makes one twice (its key, watch + update + revision, is unique). How the events become
messages and reach channels is storage/alert_deliveries.py and scheduler/alerts/.

Cost: nothing when no watch wants the source; else one query for the text of the crawl's
new and edited updates (plus one for the previous text of edited ones), each cut into
words once, and a few set tests per watch (storage/alert_match.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from storage.alert_match import Text, Watch, Watches
from storage.bulk import chunks, insert_ignore
from storage.models import AlertEvent, Revision, Update

NO_POSTS = "no posts found"  # what a page whose posts disappeared says (crawler/documents.py)

_U = Update.__table__.c
_TEXTS = select(_U.id, _U.headline, _U.body, _U.highlighted, _U.revisions).where(
    _U.id.in_(bindparam("ids", expanding=True))
)
_R = Revision.__table__.c
_PREVIOUS = (
    select(_R.update_id, _R.headline, _R.body)
    .join(Update.__table__, and_(_U.id == _R.update_id, _R.number == _U.revisions - 1))
    .where(_R.update_id.in_(bindparam("ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """What a saved crawl did, as the outbox needs it."""

    source_id: int
    source: str
    new_ids: Sequence[int] = ()
    changed_ids: Sequence[int] = ()
    highlighted_ids: Sequence[int] = ()  # stored updates the page now lists as key moments
    had_posts: bool = True  # before this crawl: False makes it the source's first
    ok: bool = True  # the crawl worked (ok or not modified)
    gone: bool = False  # the server said 410 Gone: the source is not polled again
    error: str | None = None
    failures_before: int = 0  # failed polls in a row before this one
    failures_after: int = 0  # and after it


def poll_batch(source_id: int, now: datetime) -> str:
    """The batch of the events of one poll that go out as one digest."""
    return f"poll:{source_id}:{now.strftime('%Y%m%dT%H%M%S.%f')}"


def event_key(watch: str, update_id: int, revision: int) -> str:
    return f"{watch}:u{update_id}:r{revision}"


def enqueue_crawl(session: Session, watches: Watches, crawl: CrawlOutcome, now: datetime) -> int:
    """The events of one crawl, written in the caller's transaction; how many."""
    if watches.empty:
        return 0
    rows = _update_events(session, watches.for_source(crawl.source), crawl, now)
    if watches.health is not None and watches.health.wants_source(crawl.source):
        rows += _health_events(watches.health.name, watches.health.after_failures, crawl, now)
    insert_ignore(session, AlertEvent, rows)
    return len(rows)


def _update_events(
    session: Session, watches: Sequence[Watch], crawl: CrawlOutcome, now: datetime
) -> list[dict[str, Any]]:
    first = not crawl.had_posts
    want_new = any("new" in w.on and not (first and w.first_crawl == "none") for w in watches)
    want_edited = any("edited" in w.on for w in watches)
    want_highlights = any(w.highlighted and "new" in w.on for w in watches)
    new_ids = list(crawl.new_ids) if want_new else []
    changed_ids = list(crawl.changed_ids) if want_edited else []
    edited = set(changed_ids)
    marked = [i for i in crawl.highlighted_ids if i not in edited] if want_highlights else []
    if not new_ids and not changed_ids and not marked:
        return []
    texts: dict[int, tuple[Text, bool, int]] = {}
    ids = new_ids + changed_ids + marked
    for chunk in chunks(ids):
        for uid, headline, body, highlighted, revisions in session.execute(
            _TEXTS, {"ids": list(chunk)}
        ):
            texts[uid] = (Text.of(headline, body), bool(highlighted), revisions)
    before: dict[int, Text] = {}
    for chunk in chunks(changed_ids):
        for uid, headline, body in session.execute(_PREVIOUS, {"ids": list(chunk)}):
            before[uid] = Text.of(headline, body)
    rows: list[dict[str, Any]] = []
    for w in watches:
        found: list[tuple[str, int, int]] = []  # (kind, update id, revision)
        if "new" in w.on and not (first and w.first_crawl == "none"):
            for uid in new_ids:
                text, highlighted, _ = texts[uid]
                if w.matches(text, highlighted=highlighted):
                    found.append(("new", uid, 1))
        if w.highlighted and "new" in w.on:
            # For a watch of key moments, a stored update arrives when the page lists it.
            for uid in marked:
                text, highlighted, revision = texts[uid]
                if w.matches(text, highlighted=highlighted):
                    found.append(("highlighted", uid, revision))
        if "edited" in w.on:
            for uid in changed_ids:
                text, highlighted, revision = texts[uid]
                old = before.get(uid)
                # A correction that took the watched words out is news too.
                if w.matches(text, highlighted=highlighted) or (
                    old is not None and w.matches(old, highlighted=highlighted)
                ):
                    found.append(("edited", uid, revision))
        if w.digest is not None:
            batch: str | None = "digest"
        elif (first and w.first_crawl == "digest") or len(found) > w.burst:
            batch = poll_batch(crawl.source_id, now)
        else:
            batch = None
        rows += [
            {
                "watch": w.name,
                "kind": kind,
                "key": event_key(w.name, uid, revision),
                "source_id": crawl.source_id,
                "update_id": uid,
                "revision": revision,
                "batch": batch,
                "detail": None,
                "created_at": now,
            }
            for kind, uid, revision in found
        ]
    return rows


def _health_events(
    name: str, after: int, crawl: CrawlOutcome, now: datetime
) -> list[dict[str, Any]]:
    """A health change, once: the poll that makes `after` failures in a row, and the first
    poll that works after such a run; a page gone (410) at once, as no poll follows it."""
    if crawl.gone:
        kind = "gone"
    elif not crawl.ok and crawl.failures_before < after <= crawl.failures_after:
        empty = crawl.had_posts and NO_POSTS in (crawl.error or "")
        kind = "empty" if empty else "failing"
    elif crawl.ok and crawl.failures_before >= after:
        kind = "recovered"
    else:
        return []
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")
    return [
        {
            "watch": name,
            "kind": kind,
            "key": f"{name}:s{crawl.source_id}:{kind}:{stamp}",
            "source_id": crawl.source_id,
            "update_id": None,
            "revision": None,
            "batch": None,
            "detail": (crawl.error or "")[:500] or None,
            "created_at": now,
        }
    ]
