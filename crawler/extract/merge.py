"""Structured data and HTML posts → one list: JSON-LD, microdata and the page's post elements.

Structured data names the posts; the HTML shows them. They disagree on real pages: JSON-LD
holding 428 updates beside the 30 shown, every update given the page's date or the page's
title, headlines made of a time and the first words of the body, bodies missing or cut. Each
structured post is paired with its HTML element (by id, else by text) and each field is taken
from the source that is not degenerate (rules in fields.py):

- published/updated: the HTML stamp when the structured times are missing or degenerate
  (one value shared by most posts);
- headline: the structured one, without a clock prefix, unless it is the blog's own title, a
  label shared by many posts, or a clock and the start of the body; then the HTML heading,
  under the same rules;
- body: the structured one, unless missing or cut short; then the HTML one.

The result is the union: posts only in the structured data are kept, and HTML posts of the
same list that no structured post claims are added (those with a stamp). Keys stay as
published; the element a structured post's id names is told as its `anchor`.
The HTML list is the one around the elements the structured posts name by id; only when too
few have ids is the page-wide detector run. HTML posts are read only when a field needs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from crawler.clocks import clock_prefix
from crawler.extract import Found
from crawler.extract.detect import PostList, list_around
from crawler.extract.fields import (
    better_body,
    clean_headline,
    degenerate,
    html_body,
    label_headlines,
    maybe_truncated,
    shared_keys,
)
from crawler.extract.html_posts import HtmlPosts
from crawler.extract.read import Reading
from crawler.models import RawPost
from crawler.text import loose_key
from crawler.urls import fragment

_ALNUM_RE = re.compile(r"[^0-9a-z]+")
_MIN_TAIL = 6
_MAX_ID = 200  # an id is matched by its tails only up to this length (every tail is indexed)


@dataclass(slots=True)
class Merged:
    """The merged posts and the path that names where they came from."""

    found: list[Found] = field(default_factory=list)
    path: str = ""


def _squash(name: str) -> str:
    return _ALNUM_RE.sub("", name.lower())


class IdIndex:
    """The page's element ids, looked up exactly or by a shared tail ("liveblogPost12" ~
    "post-12", "646219…" ~ "block-646219…"): letters and digits only, six at least."""

    def __init__(self, root: etree._Element) -> None:
        self.exact: dict[str, etree._Element] = {}
        for el in root.xpath("//@id/.."):  # "//*[@id]", by the attributes: faster
            self.exact.setdefault(el.get("id", ""), el)
        self._tails: dict[str, set[str]] | None = None

    def _tail_index(self) -> dict[str, set[str]]:
        if self._tails is None:
            self._tails = {}
            for name in self.exact:
                squashed = _squash(name)
                if len(squashed) > _MAX_ID:
                    continue
                for i in range(len(squashed) - _MIN_TAIL + 1):
                    self._tails.setdefault(squashed[i:], set()).add(name)
        return self._tails

    def find(self, key: str | None) -> tuple[str, etree._Element] | None:
        """(id, element) a key's #fragment names, exactly or as the one id sharing its tail."""
        frag = fragment(key)
        if not frag:
            return None
        if frag in self.exact:
            return frag, self.exact[frag]
        squashed = _squash(frag)
        if not _MIN_TAIL <= len(squashed) <= _MAX_ID or not any(c.isdigit() for c in squashed):
            return None
        tails = self._tail_index()
        matches = set(tails.get(squashed, ()))  # ids ending with the fragment
        for i in range(1, len(squashed) - _MIN_TAIL + 1):  # ids the fragment ends with
            matches |= {n for n in tails.get(squashed[i:], ()) if _squash(n) == squashed[i:]}
        if len(matches) == 1:
            name = matches.pop()
            return name, self.exact[name]
        return None


@dataclass(slots=True)
class _Item:
    post: RawPost
    element: etree._Element | None
    member: etree._Element | None = None
    reading: Reading | None = None


def _member_of(element: etree._Element, members: set[etree._Element]) -> etree._Element | None:
    for el in [element, *element.iterancestors()][:6]:
        if el in members:
            return el
    return None


def _same_text(post: RawPost, reading: Reading) -> bool:
    start = loose_key(post.body)[:60]
    body = loose_key(reading.post.body)
    if len(start) >= 20 and (start in body or (body and start.startswith(body[:60]))):
        return True
    head = loose_key(post.headline)
    return len(head) >= 12 and head == loose_key(reading.post.headline)


def _pair_by_id(items: Sequence[_Item], ids: IdIndex, page: str) -> None:
    """Find the element each structured post's id names, and tell it as the post's `anchor`
    (the id may be bare where the element is "block-<id>"). A key carried by posts of
    different texts names no one element: those posts are paired by their text."""
    shared = shared_keys(i.post for i in items)
    for item in items:
        key = item.post.key
        if item.element is not None or not key or key in shared:
            continue
        match = ids.find(key)
        if match is not None:
            anchor, item.element = match
            item.post.anchor = f"{page}#{anchor}"


def _html_list(items: Sequence[_Item], html: HtmlPosts) -> PostList | None:
    named = [i.element for i in items if i.element is not None]
    if named and len(named) * 2 >= len(items):
        return list_around(named)
    return html.detected()


def _attach(items: Sequence[_Item], posts: PostList, html: HtmlPosts) -> list[etree._Element]:
    """Give items their list member (by element, else by text); return unclaimed members."""
    members = set(posts.members)
    for item in items:
        if item.element is not None:
            item.member = _member_of(item.element, members)
    claimed = {i.member for i in items if i.member is not None}
    free = [m for m in posts.members if m not in claimed]
    unpaired = [i for i in items if i.member is None and i.element is None]
    if unpaired and free:
        readings = {r.element: r for r in html.read(posts, free)}
        for item in unpaired:
            match = next((r for r in readings.values() if _same_text(item.post, r)), None)
            if match is not None:
                item.member = item.element = match.element
                readings.pop(match.element)
                free.remove(match.element)
    return free


def _needs_html(items: Sequence[_Item], titles: Sequence[str]) -> list[_Item]:
    """The items a field of which may have to come from their HTML post."""
    if degenerate([i.post.published_at for i in items]) or degenerate(
        [i.post.updated_at for i in items]
    ):
        return list(items)
    labels = label_headlines([i.post.headline for i in items], titles)
    return [
        i
        for i in items
        if i.post.published_at is None
        or not i.post.body
        or maybe_truncated(i.post.body)
        or not i.post.headline
        or loose_key(i.post.headline) in labels
        or clock_prefix(i.post.headline) is not None
    ]


def _choose(items: Sequence[_Item], titles: Sequence[str]) -> None:
    bad_published = degenerate([i.post.published_at for i in items])
    bad_updated = degenerate([i.post.updated_at for i in items])
    labels = label_headlines([i.post.headline for i in items], titles)
    html_labels = label_headlines([i.reading.post.headline for i in items if i.reading], titles)
    for item in items:
        post, html = item.post, item.reading.post if item.reading else None
        if html and html.published_at and (bad_published or post.published_at is None):
            post.published_at, post.time_approximate = html.published_at, html.time_approximate
        if bad_updated or post.updated_at is None:
            post.updated_at = html.updated_at if html else None
        if html is not None:
            post.body = better_body(post.body, html.body)
        elif item.element is not None and (not post.body or maybe_truncated(post.body)):
            post.body = better_body(post.body, html_body(item.element))
        post.headline = clean_headline(post.headline, post.body, labels)
        if not post.headline and html is not None:
            post.headline = clean_headline(html.headline, post.body, html_labels)


def merge_structured(
    jsonld: Sequence[RawPost],
    microdata: Sequence[Found],
    html: HtmlPosts,
    root: etree._Element,
    page: str,
    *,
    titles: Sequence[str] = (),
) -> Merged:
    """JSON-LD updates and microdata items completed from, and joined with, the HTML posts."""
    items = [_Item(p, None) for p in jsonld]
    _pair_by_id(items, IdIndex(root), page)
    named = {i.element for i in items if i.element is not None}
    extra = [
        _Item(f.post, f.element)
        for f in microdata
        if f.element is None or not any(e in named for e in _near(f.element))
    ]
    path = "structured" if items and extra else ("jsonld" if items else "microdata")
    items += extra
    posts = _html_list(items, html)
    free: list[etree._Element] = []
    if posts is not None:
        free = _attach(items, posts, html)
        wanted = [i for i in _needs_html(items, titles) if i.member is not None]
        readings = {r.element: r for r in html.read(posts, [i.member for i in wanted])}
        for item in wanted:
            item.reading = readings.get(item.member)
    _choose(items, titles)
    found = [Found(i.post, i.element) for i in items]
    if posts is not None and free:
        seen = {(loose_key(f.post.headline), loose_key(f.post.body)) for f in found}
        for reading in html.read(posts, free):
            text = (loose_key(reading.post.headline), loose_key(reading.post.body))
            if reading.stamp.found and text not in seen:
                found.append(Found(reading.post, reading.element))
    return Merged(found, path)


def _near(element: etree._Element) -> list[etree._Element]:
    """The element and its close ancestors (an id may sit on a wrapper of the item)."""
    return [element, *element.iterancestors()][:4]
