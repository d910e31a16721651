"""The copies of one post on one page merged into one (`merge_page`), before the store looks
anything up: the same publisher key twice, a key-moments copy beside its stream post, a key
shared by posts that are plainly different (`ambiguous_keys`: it identifies nothing).

The identity rules it applies (content prints, edit matching) are storage/dedup.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from storage.dedup import content_hash, is_edit_of, post_print, same_minute
from storage.inputs import PostIn


@dataclass(slots=True)
class MergedPost:
    """One post of a crawl after its copies on the page were merged."""

    post: PostIn
    keys: list[str] = field(default_factory=list)  # publisher keys, then the content print
    highlighted: bool = False
    position: int = 0  # where its last copy stands on the page (the stream, below key moments)


def _conflicting(a: PostIn, b: PostIn) -> bool:
    """Two posts carrying the same key that cannot be the same post."""
    exact = not (a.time_approximate or b.time_approximate)
    if (
        exact
        and a.published_at
        and b.published_at
        and not same_minute(a.published_at, b.published_at)
    ):
        return True
    return content_hash(a.headline, a.body) != content_hash(b.headline, b.body) and not (
        is_edit_of(a.headline, a.body, b.headline, b.body)
    )


def ambiguous_keys(posts: Sequence[PostIn]) -> set[str]:
    """Publisher keys shared by posts that are plainly different: they identify nothing."""
    first: dict[str, PostIn] = {}
    bad: set[str] = set()
    for post in posts:
        for key in (post.key, *post.alt_keys):
            if not key:
                continue
            seen = first.setdefault(key, post)
            if seen is not post and _conflicting(seen, post):
                bad.add(key)
    return bad


def _richer(a: PostIn, b: PostIn) -> PostIn:
    """Of two copies of one post, the one with more text (a key-moments copy may be short)."""
    return a if len(a.body) + len(a.headline) >= len(b.body) + len(b.headline) else b


def merge_page(posts: Sequence[PostIn]) -> list[MergedPost]:
    """Merge the copies of each post on one page (key moments + stream, same id twice).

    Copies are joined when they share a usable publisher key or a content print, or when a
    highlighted copy is a shortened version of a stream post of the same minute.
    """
    bad = ambiguous_keys(posts)
    merged: list[MergedPost] = []
    by_key: dict[str, MergedPost] = {}
    for position, post in enumerate(posts):
        keys = [k for k in (post.key, *post.alt_keys) if k and k not in bad]
        keys.append(post_print(post))
        target = next((by_key[k] for k in keys if k in by_key), None)
        if target is None and post.highlighted:
            target = _stream_twin(post, merged)
        if target is None:
            target = MergedPost(post=post)
            merged.append(target)
        else:
            target.post = _richer(target.post, post)
        target.highlighted = target.highlighted or post.highlighted
        target.position = position
        for k in keys:
            if k not in target.keys:
                target.keys.append(k)
            by_key.setdefault(k, target)
    for m in merged:
        m.keys.sort(key=lambda k: k.startswith("fp:"))
    return sorted(merged, key=lambda m: m.position)


def _stream_twin(copy: PostIn, merged: Iterable[MergedPost]) -> MergedPost | None:
    for m in merged:
        if same_minute(m.post.published_at, copy.published_at) and (
            is_edit_of(m.post.headline, m.post.body, copy.headline, copy.body)
        ):
            return m
    return None
