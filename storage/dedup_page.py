"""The copies of one post on one page merged into one (`merge_page`), before the store looks
anything up. The crawler reports each post as the page shows it (crawler/models.py RawPost:
its key as published, the element it was found at, whether it is the key-moments copy); the
decisions of which posts are one are all taken here:

- a structured post whose id names an element that is not its own ("646219" on
  "block-646219") is known by that element's anchor first: the HTML, a link or a copy name
  the post by it;
- ids that only count the posts ("#post1" … "#post8" from the newest down, `positional_keys`)
  identify nothing: the next poll gives "#post1" to another post;
- a key carried by posts that are plainly different identifies nothing (`ambiguous_keys`);
- a key-moments copy is its stream post's twin when its anchor extends the stream post's
  ("post-16-hl" of "post-16") or their texts are the same (`stream_twins`);
- otherwise copies are joined by a usable key, by their content print, or when a key-moments
  copy is a shortened version of a stream post of the same minute.

The identity rules these apply (content prints, edit matching) are storage/dedup.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice, pairwise

from storage.dedup import content_hash, is_edit_of, post_print, same_minute, words
from storage.inputs import PostIn


@dataclass(slots=True)
class MergedPost:
    """One post of a crawl after its copies on the page were merged."""

    post: PostIn
    keys: list[str] = field(default_factory=list)  # publisher keys, then the content print
    highlighted: bool = False
    position: int = 0  # where its last copy stands on the page (the stream, below key moments)
    url: str | None = None  # the post's own link, as decided here (not always post.url)


@dataclass(slots=True)
class _Identity:
    """What the page tells of one post's identity: its keys, strongest first, and its link."""

    keys: list[str]
    url: str | None
    highlighted: bool


def fragment(url: str | None) -> str:
    """The `#fragment` of a URL ("" when none)."""
    return url.split("#", 1)[1] if url and "#" in url else ""


def _page_of(key: str) -> str:
    """A key without its fragment: the page it names a place of."""
    return key.split("#", 1)[0]


def _counter(name: str) -> tuple[str, int] | None:
    """("post", 12) for "post12": the name and the number it ends with (string operations:
    a regex would backtrack quadratically on a long run of digits)."""
    prefix = name.rstrip("0123456789")
    digits = name[len(prefix) :]
    if not digits or len(digits) > 18:
        return None
    return prefix, int(digits)


def positional_keys(posts: Sequence[PostIn]) -> set[str]:
    """Keys that only count the posts: on one page, the stream's keyed posts (key-moments
    copies aside) all keyed "<name><n>", n running 1, 2, 3… down a stream whose times run
    from the newest down. The next poll gives "#post1" to another post. Judged page by page
    on the posts with a key: one the HTML shows without an id (the JSON-LD lists fewer
    posts) or a second page counting from 1 again does not make the counters identities.
    Creation numbers count down, and are kept."""
    pages: dict[str, list[tuple[tuple[str, int] | None, PostIn]]] = {}
    for post in posts:
        if post.key and not post.in_key_moments:
            page = _page_of(post.key)
            pages.setdefault(page, []).append((_counter(fragment(post.key)), post))
    found: set[str] = set()
    for run in pages.values():
        counters = [c for c, _ in run]
        times = [p.published_at for _, p in run]
        if len(run) < 2 or any(c is None for c in counters):
            continue
        if len({c[0] for c in counters if c}) != 1:
            continue
        if [c[1] for c in counters if c] != list(range(1, len(run) + 1)):
            continue
        if any(t is None for t in times) or not all(a >= b for a, b in pairwise(times)):  # type: ignore[operator]
            continue
        found.update(p.key for _, p in run if p.key)
    return found


_MAX_CUTS = 32  # an anchor's first separators tried as the end of its stream post's anchor


def _cuts(text: str, start: int = 0) -> list[int]:
    """The places of the first separators ("-", "_") of `text` from `start`: where an id
    built on another ("post-16-hl" on "post-16") may be cut back to it."""
    return list(islice((n for n in range(start, len(text)) if text[n] in "-_"), _MAX_CUTS))


def _counted(key: str, positional: set[str]) -> bool:
    """A counter key, or a key built on one ("#post1-hl": the copy of whichever post is
    "#post1" now)."""
    if key in positional:
        return True
    cut = key.find("#")
    if cut < 0 or not positional:
        return False
    return any(key[:n] in positional for n in _cuts(key, cut + 1))


def _own_identity(post: PostIn, positional: set[str]) -> _Identity:
    keys = [k for k in (post.key, *post.alt_keys) if k and not _counted(k, positional)]
    url = post.url
    if post.key and _counted(post.key, positional):  # the page's link, not the counter's
        url = _page_of(post.key)
    anchor = post.anchor
    if anchor and fragment(anchor) != fragment(post.key) and not _counted(anchor, positional):
        keys.insert(0, anchor)  # the element its id names, as the HTML names it
        url = anchor
    return _Identity(keys, url, post.highlighted)


def _text(post: PostIn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of a post's headline and body: texts that differ in accents, case,
    punctuation or spacing only are the same text."""
    return tuple(words(post.headline)), tuple(words(post.body))


def stream_twins(posts: Sequence[PostIn]) -> dict[int, int]:
    """copy index → the index of the first stream post each key-moments copy repeats: one
    whose anchor the copy's extends ("post-16-hl" of "post-16"), or with the same text.
    Looked up in two indexes, so that a hostile page of many copies stays linear."""
    if not any(p.in_key_moments for p in posts):
        return {}
    by_id: dict[str, int] = {}
    by_text: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
    for j, post in enumerate(posts):
        if not post.in_key_moments:
            if anchor := fragment(post.anchor or post.key):
                by_id.setdefault(anchor, j)
            by_text.setdefault(_text(post), j)
    twins: dict[int, int] = {}
    for i, copy in enumerate(posts):
        if not copy.in_key_moments:
            continue
        own = fragment(copy.anchor or copy.key)
        found = [by_id[own[:n]] for n in _cuts(own) if own[:n] in by_id]
        if (same := by_text.get(_text(copy))) is not None:
            found.append(same)
        if found:
            twins[i] = min(found)
    return twins


def _identities(posts: Sequence[PostIn]) -> list[_Identity]:
    """Each post's keys and link, decided on the whole page (see the module docstring)."""
    positional = positional_keys(posts)
    found = [_own_identity(p, positional) for p in posts]
    for i, j in stream_twins(posts).items():
        copy, twin = found[i], found[j]
        twin.highlighted = True
        own = copy.keys[0] if copy.keys else None
        # The copy is known by its stream post's key; by its content print when the stream
        # post has no usable key (counters), so that a shortened copy still joins it.
        joint = twin.keys[0] if twin.keys else post_print(posts[j])
        if joint != own:
            copy.keys.insert(0, joint)
            copy.url = twin.url
    bad = _ambiguous(zip(posts, (f.keys for f in found), strict=True))
    for f in found:
        f.keys = [k for k in dict.fromkeys(f.keys) if k not in bad]
    return found


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


def _ambiguous(keyed: Iterable[tuple[PostIn, Sequence[str]]]) -> set[str]:
    first: dict[str, PostIn] = {}
    bad: set[str] = set()
    for post, keys in keyed:
        for key in keys:
            seen = first.setdefault(key, post)
            if seen is not post and _conflicting(seen, post):
                bad.add(key)
    return bad


def ambiguous_keys(posts: Sequence[PostIn]) -> set[str]:
    """Publisher keys shared by posts that are plainly different: they identify nothing."""
    return _ambiguous((p, [k for k in (p.key, *p.alt_keys) if k]) for p in posts)


def lookup_keys(post: PostIn) -> list[str]:
    """Every key a post may be stored under, without its page (the pagination's question,
    storage/known.py): its published keys, its anchor, its content print."""
    keys = [k for k in (post.anchor, post.key, *post.alt_keys) if k]
    return [*dict.fromkeys(keys), post_print(post)]


def _richer(a: PostIn, b: PostIn) -> PostIn:
    """Of two copies of one post, the one with more text (a key-moments copy may be short);
    of two as long, the one with a time, then the stream's."""

    def worth(p: PostIn) -> tuple[int, bool, bool]:
        return len(p.body) + len(p.headline), p.published_at is not None, not p.in_key_moments

    return a if worth(a) >= worth(b) else b


def merge_page(posts: Sequence[PostIn]) -> list[MergedPost]:
    """Merge the copies of each post on one page (key moments + stream, same id twice).

    Copies are joined when they share a usable key (see `_identities`) or a content print,
    or when a highlighted copy is a shortened version of a stream post of the same minute.
    """
    merged: list[MergedPost] = []
    by_key: dict[str, MergedPost] = {}
    for position, (post, identity) in enumerate(zip(posts, _identities(posts), strict=True)):
        keys = [*identity.keys, post_print(post)]
        target = next((by_key[k] for k in keys if k in by_key), None)
        if target is None and identity.highlighted:
            target = _stream_twin(post, merged)
        if target is None:
            target = MergedPost(post=post, url=identity.url)
            merged.append(target)
        elif _richer(target.post, post) is post:
            target.post, target.url = post, identity.url
        target.highlighted = target.highlighted or identity.highlighted
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
