"""Posts in embedded application state: arrays of post-like objects, found without site keys.

A page that renders client-side carries its posts in a script (state.py decodes it) as a
list of objects with a text and a time. This module walks every decoded value (Apollo's
`{"__ref": "Post:1"}` references resolved) and scores each list of objects: an object is
post-like when it has a time (a field named like a date or time holding an ISO date or an
epoch between 2000 and 2100) and a text (a field named like a body, content or text, in a
string, HTML, or rich-text blocks; else its longest plain string) of 15 characters or more.
A list counts when at least 3 of its objects, and 60 % of them, are post-like, with distinct
times. Lists of links to other pages (related articles, a news index) and readers' comments
are no posts. The best list wins: the one with the most posts.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler.dates import from_epoch, parse_datetime
from crawler.extract.boiler import clean
from crawler.models import RawPost
from crawler.text import any_to_text, clean_inline
from crawler.urls import canonical_url, fragment, without_fragment

MIN_POSTS = 3
MIN_SHARE = 0.6
MIN_TEXT = 15
MAX_NODES = 400_000
MAX_DEPTH = 60
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_TIME_KEY_RE = re.compile(r"date|time|publish|created|posted|_at$|At$|timestamp|^ts$", re.I)
_UPDATED_KEY_RE = re.compile(r"updat|modif|edit|changed", re.I)
_FIRST_KEY_RE = re.compile(r"publish|creat|posted|first|start", re.I)
_BODY_KEY_RE = re.compile(
    r"body|content|text|html|blocks|message|description|summary|excerpt|lead|paragraph", re.I
)
_TITLE_KEY_RE = re.compile(r"^(?:title|headline|heading|header)$", re.I)
_ID_KEY_RE = re.compile(r"^(?:id|_id|uuid|guid|key|postid|post_id|entryid|entry_id|slug)$", re.I)
_URL_KEY_RE = re.compile(r"^(?:url|permalink|link|href|canonical(?:url)?|shareurl|path)$", re.I)
_SKIP_KEY_RE = re.compile(
    r"author|byline|image|img|photo|thumb|avatar|video|media|src|css|class|style|tag|categor"
    r"|seo|meta|track|analytics|__typename|type$|kind$|locale|lang",
    re.I,
)
_COMMENT_KEY_RE = re.compile(r"comment|kommentar|reply|replies|discussion", re.I)
_COMMENT_ITEM_KEYS = frozenset({"parentid", "parent_id", "replies", "upvotes", "downvotes",
                                "likes", "votes", "replyto", "reply_to"})  # fmt: skip
_URLISH_RE = re.compile(r"^(?:https?:)?//|^/[\w/-]*$|^[\w.-]+\.(?:jpe?g|png|gif|webp|svg|mp4)$")
_REF_KEY_RE = re.compile(r"^[A-Z][\w]*:\S+$")
_TEXT_KEYS = frozenset({"value", "children", "data", "markdown", "plain", "rendered"})


@dataclass(slots=True)
class _Post:
    published: datetime
    updated: datetime | None
    body: str
    headline: str
    ident: str | None
    url: str | None


class _Walk:
    """A bounded walk over decoded values with Apollo references resolved."""

    def __init__(self, values: list[Any], deadline: float) -> None:
        self.values, self.deadline, self.nodes = values, deadline, 0
        self.refs: dict[str, Any] = {}
        for value in values:
            if isinstance(value, dict):
                refs = [k for k in value if isinstance(k, str) and _REF_KEY_RE.match(k)]
                if len(refs) >= 3:
                    self.refs.update((k, value[k]) for k in refs)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("__ref")
            if ref is None and value.get("type") == "id" and "generated" in value:
                ref = value.get("id")  # Apollo 2
            if isinstance(ref, str) and len(value) <= 3:
                return self.refs.get(ref, value)
        return value

    def lists(self) -> Iterator[tuple[str, list[Any]]]:
        """(the key holding it, a list of objects) for every such list, bounded."""
        seen: set[int] = set()
        stack: list[tuple[Any, int, str]] = [(v, 0, "") for v in reversed(self.values)]
        stack += [(v, 1, k) for k, v in self.refs.items()]
        while stack:
            value, depth, key = stack.pop()
            value = self.resolve(value)
            if not isinstance(value, dict | list) or id(value) in seen or depth > MAX_DEPTH:
                continue
            seen.add(id(value))
            self.nodes += 1
            if self.nodes > MAX_NODES or (
                self.nodes % 2048 == 0 and time.monotonic() > self.deadline
            ):
                return
            if isinstance(value, list):
                items = [self.resolve(v) for v in value[:5000]]
                if sum(1 for v in items if isinstance(v, dict)) >= MIN_POSTS:
                    yield key, items
                stack.extend(
                    (v, depth + 1, key) for v in reversed(items) if isinstance(v, dict | list)
                )
            else:
                stack.extend(
                    (v, depth + 1, str(k)) for k, v in value.items() if isinstance(v, dict | list)
                )


def _as_time(value: Any, tz: str) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = value / 1000 if value > 1e11 else value
        return from_epoch(str(int(number)))
    if isinstance(value, str):
        text = value.strip()
        if _ISO_RE.match(text):
            return parse_datetime(text, tz)
        if text.isdigit() and len(text) in (10, 13):
            return from_epoch(text)
    return None


def _times(item: dict[str, Any], tz: str) -> tuple[datetime | None, datetime | None]:
    published = updated = None
    first_named = False
    for key, value in item.items():
        if not isinstance(key, str) or not _TIME_KEY_RE.search(key):
            continue
        when = _as_time(value, tz)
        if when is None:
            continue
        if _UPDATED_KEY_RE.search(key):
            updated = updated or when
        elif published is None or (_FIRST_KEY_RE.search(key) and not first_named):
            published, first_named = when, bool(_FIRST_KEY_RE.search(key))
    return published, updated


def _gather(value: Any, out: list[str], depth: int = 0) -> None:
    """The text of a body value: a string (HTML or plain), or rich-text blocks."""
    if depth > 12 or len(out) > 400:
        return
    if isinstance(value, str):
        if not _URLISH_RE.match(value.strip()):
            out.append(any_to_text(value))
    elif isinstance(value, list):
        for v in value:
            _gather(v, out, depth + 1)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and (_SKIP_KEY_RE.search(k) or _URL_KEY_RE.match(k)):
                continue
            plain_key = isinstance(k, str) and not _BODY_KEY_RE.search(k)
            if isinstance(v, str) and plain_key and str(k).lower() not in _TEXT_KEYS:
                continue  # a block's "type": "paragraph", an id
            _gather(v, out, depth + 1)


def _body(item: dict[str, Any]) -> str:
    best = ""
    for key, value in item.items():
        if not isinstance(key, str) or not _BODY_KEY_RE.search(key) or _TITLE_KEY_RE.match(key):
            continue
        parts: list[str] = []
        _gather(value, parts)
        text = "\n\n".join(clean(p for part in parts for p in part.split("\n\n") if p))
        if len(text) > len(best):
            best = text
    if best:
        return best
    plain = [
        v
        for k, v in item.items()
        if isinstance(v, str) and isinstance(k, str) and not _SKIP_KEY_RE.search(k)
        and not _URL_KEY_RE.match(k) and not _TITLE_KEY_RE.match(k) and len(v) >= 40
        and not _URLISH_RE.match(v.strip()) and not _ISO_RE.match(v)
    ]  # fmt: skip
    return any_to_text(max(plain, key=len)) if plain else ""


def _scalar(item: dict[str, Any], pattern: re.Pattern[str]) -> str | None:
    for key, value in item.items():
        named = isinstance(key, str) and pattern.match(key)
        scalar = isinstance(value, str | int) and not isinstance(value, bool)
        if named and scalar and str(value).strip():
            return str(value).strip()
    return None


def _post(item: Any, tz: str) -> _Post | None:
    if not isinstance(item, dict):
        return None
    published, updated = _times(item, tz)
    if published is None:
        return None
    body = _body(item)
    title = _scalar(item, _TITLE_KEY_RE) or ""
    headline = clean_inline(title) if len(title) <= 300 else ""
    if len(body) < MIN_TEXT and len(headline) < MIN_TEXT:
        return None
    return _Post(published, updated, body, headline, _scalar(item, _ID_KEY_RE),
                 _scalar(item, _URL_KEY_RE))  # fmt: skip


def _elsewhere(url: str | None, page: str) -> bool:
    """The post's link leads to another page (a related article, not a post of this one)."""
    if not url:
        return False
    target = canonical_url(url, page)
    return without_fragment(target).split("?")[0].rstrip("/") != page.split("?")[0].rstrip("/")


def _score(key: str, items: list[Any], page: str, tz: str) -> list[_Post] | None:
    if _COMMENT_KEY_RE.search(key):
        return None
    objects = [i for i in items if isinstance(i, dict)]
    posts = [p for p in (_post(i, tz) for i in objects) if p is not None]
    if len(posts) < MIN_POSTS or len(posts) < MIN_SHARE * len(objects):
        return None
    if len({p.published for p in posts}) < min(len(posts), MIN_POSTS):
        return None
    if sum(1 for p in posts if _elsewhere(p.url, page)) * 2 > len(posts):
        return None  # a list of other articles
    commenty = sum(1 for o in objects if _COMMENT_ITEM_KEYS & {str(k).lower() for k in o})
    if commenty * 2 > len(objects):
        return None
    if statistics.median(len(p.body) or len(p.headline) for p in posts) < 30:
        return None
    return posts


def embedded_posts(
    values: list[Any], page: str, *, timezone: str, deadline: float | None = None
) -> list[RawPost]:
    """The posts of the best post-like list in the decoded state values, in their order."""
    walk = _Walk(values, deadline or time.monotonic() + 1.0)
    best: list[_Post] = []
    for key, items in walk.lists():
        found = _score(key, items, page, timezone)
        if found is not None and len(found) > len(best):
            best = found
    out = []
    for p in best:
        key = None
        if p.url and not _elsewhere(p.url, page) and fragment(canonical_url(p.url, page)):
            key = f"{page}#{fragment(canonical_url(p.url, page))}"
        elif p.ident:
            key = f"{page}#{p.ident}"
        out.append(
            RawPost(
                headline=p.headline,
                body=p.body,
                published_at=p.published,
                updated_at=p.updated,
                url=key or page,
                key=key,
            )
        )
    return out
