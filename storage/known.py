"""What a source already holds, read before its crawl: key print -> content hash.

The crawl asks it whether a post is stored and unchanged (`post in known`) to decide on
pagination: a poll that is not a full crawl reads the next page only while the pages read
so far hold a post that is new or changed. One statement reads it for a batch of sources,
in the poll's pre-crawl transaction; the answers are then plain data, asked on the event
loop without touching the database.

Its cost grows with the source's history (every key of every update), so the scheduler
asks for it only where it can matter: a poll that is not a full crawl, of a source whose
last page read linked to a next one (`sources.paginated`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage import dedup
from storage.bulk import chunks
from storage.clean import clean_post
from storage.dedup_page import lookup_keys
from storage.inputs import PostIn
from storage.models import Update, UpdateKey


class StoredPosts:
    """The posts one source holds, as their key prints and current content hashes."""

    __slots__ = ("_content_of",)

    def __init__(self, content_of: Mapping[str, str]) -> None:
        self._content_of = dict(content_of)  # key hash -> the update's content hash

    def __contains__(self, post: PostIn) -> bool:
        """Whether the store holds this post with this text (by any of its keys or its
        content print), as a save of it would find it: then saving it changes nothing."""
        p = clean_post(post)  # as a save would store it
        current = dedup.content_hash(p.headline, p.body)
        keys = lookup_keys(p)
        return any(self._content_of.get(dedup.key_hash(k)) == current for k in keys)


_HELD = (
    select(UpdateKey.source_id, UpdateKey.key_hash, Update.content_hash)
    .join(Update, Update.id == UpdateKey.update_id)
    .where(UpdateKey.source_id.in_(bindparam("source_ids", expanding=True)))
)


def stored_posts(session: Session, source_ids: Sequence[int]) -> dict[int, StoredPosts]:
    """What each of these sources holds (an empty `StoredPosts` for one that holds nothing)."""
    found: dict[int, dict[str, str]] = {source_id: {} for source_id in source_ids}
    for chunk in chunks(sorted(found)):
        for source_id, key_hash, content in session.execute(_HELD, {"source_ids": list(chunk)}):
            found[source_id][key_hash] = content
    return {source_id: StoredPosts(held) for source_id, held in found.items()}
