"""One post element of a page without configured selectors → a `Reading`: post, element, stamp.

Owns what the HTML of a single post tells besides its stamp (stamps.py): its headline (the
first heading before any body text), its body (the rest, without the stamp's meta box, the
headline and teasers of other articles) and its key (the element's id, else the fragment of
its permalink). A flat ticker's post is a heading and the siblings up to the next one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from lxml import etree

from crawler.clocks import clock_prefix, match_minute
from crawler.extract.boiler import clean
from crawler.extract.stamps import (
    HEADINGS,
    Stamp,
    check_epoch,
    read_stamp,
    text_length,
    text_of,
)
from crawler.models import RawPost
from crawler.text import html_to_text, is_chrome
from crawler.urls import canonical_url, fragment, without_fragment

_HEADLINE_MAX = 300
_BEFORE_MAX = 40  # text a post may show before its headline (a kicker, a place)


@dataclass(slots=True)
class Reading:
    """A post read from its HTML, and what is needed to finish its time."""

    post: RawPost
    element: etree._Element
    stamp: Stamp = field(default_factory=Stamp)
    zone: str = ""  # the zone its clock is in, when not the page's (a statement above it)


def _before(post: etree._Element, target: etree._Element, skip: Sequence[etree._Element]) -> int:
    """How much text the post shows before `target` (meta boxes and chrome left out)."""
    skipped: set[etree._Element] = set()
    size = 0
    for el in post.iter():
        if el is target:
            return size
        text = el.text
        if not text or text.isspace() or el in skipped:
            continue
        if any(b is el or b in el.iterancestors() for b in skip) or (
            el is not post and any(is_chrome(a) for a in (el, *el.iterancestors()) if a is not post)
        ):
            skipped.add(el)
            continue
        size += len(text.strip())
        if size > _BEFORE_MAX:
            return size
    return size


def _inside(el: etree._Element, boxes: Sequence[etree._Element]) -> bool:
    if not boxes:
        return False
    ancestors = {el, *el.iterancestors()}
    return any(box in ancestors for box in boxes)


def _headline_candidates(post: etree._Element) -> Iterator[etree._Element]:
    """Headings, [role=heading], [itemprop=headline] and *title*/*headline* classes, in order."""
    for el in post.iter():
        tag = el.tag
        if el is post or not isinstance(tag, str):
            continue
        if tag in HEADINGS or el.get("role") == "heading" or el.get("itemprop") == "headline":
            yield el
            continue
        name = el.get("class")
        if name and ("title" in name or "headline" in name):
            yield el


def headline_of(post: etree._Element, boxes: Sequence[etree._Element]) -> etree._Element | None:
    """The first heading of a post, when it comes before the post's text (not a card's title)."""
    for el in _headline_candidates(post):
        if _inside(el, boxes) or el.find(".//p") is not None:
            continue
        text = text_of(el)
        if not text or len(text) > _HEADLINE_MAX:
            continue
        return el if _before(post, el, boxes) <= _BEFORE_MAX else None
    return None


def strip_stamp(text: str) -> str:
    """A headline or first paragraph without the clock it starts with ("19:02(IST) …")."""
    prefix = clock_prefix(text)
    return prefix[1].strip() if prefix is not None else text


def permalink(boxes: Sequence[etree._Element], page: str) -> str | None:
    """The fragment URL a post's stamp links to (its permalink), as a key."""
    for box in boxes:
        links = [box] if box.tag == "a" else []
        links += list(box.iter("a"))
        links += [a for a in box.iterancestors("a")][:1]
        for a in links:
            href = (a.get("href") or "").strip()
            if "#" not in href:
                continue
            url = canonical_url(href, page)
            if fragment(url) and without_fragment(url).split("?")[0] == page.split("?")[0]:
                return f"{page}#{fragment(url)}"
    return None


def _only_stamp(paragraph: str) -> bool:
    """A paragraph that is a time and nothing else ("21:22", "95'")."""
    prefix = clock_prefix(paragraph)
    if prefix is not None:
        return not prefix[1].strip()
    return len(paragraph) <= 8 and match_minute(paragraph) is not None


def _body(
    post: etree._Element,
    skip: set[etree._Element],
    extra: Sequence[etree._Element],
    stamp_first: bool = False,
) -> str:
    """The post's paragraphs: its stamp, promos, notes and credit lines left out. After a
    leading stamp ("9h05 - Le préfet…"), the separator it left goes too."""
    parts = [html_to_text(post, skip=skip)] + [html_to_text(el, skip=skip) for el in extra]
    paragraphs = [p for part in parts for p in part.split("\n\n") if p]
    if paragraphs:
        paragraphs[0] = strip_stamp(paragraphs[0])
        if stamp_first:
            paragraphs[0] = _SEPARATOR_RE.sub("", paragraphs[0])
    return "\n\n".join(clean(p for p in paragraphs if p and not _only_stamp(p)))


_SEPARATOR_RE = re.compile(r"^[-–—:|•·>]+\s*")
_BOLD = ("b", "strong", "time")


def bold_line(el: etree._Element) -> bool:
    """A short element whose text is all bold ("<p><b>14.32 Uhr: Titel</b></p>"): a ticker
    post's headline, not its first paragraph."""
    if text_length(el) > _HEADLINE_MAX or el.find(".//p") is not None:
        return False
    outside = (el.text or "") + "".join(
        (c.tail or "") + ("" if c.tag in _BOLD else "".join(c.itertext())) for c in el
    )
    return not strip_stamp(outside.strip()).strip(" -–—:|") and any(c.tag in _BOLD for c in el)


_CARD_IMAGES = ("img", "amp-img", "picture", "figure")


def link_cards(
    scopes: Sequence[etree._Element], page: str, headline: etree._Element | None
) -> set[etree._Element]:
    """Teasers of other articles inside a post: a block with an image and a heading that is
    one link to another page (its title and standfirst are not the post's text)."""
    cards = set()
    for scope in scopes:
        for heading in scope.iter(*HEADINGS):
            if heading is headline or heading is scope:
                continue
            links = list(heading.iter("a"))
            href = links[0].get("href", "") if len(links) == 1 else ""
            if not href or without_fragment(canonical_url(href, page)) == page:
                continue
            if text_of(links[0]) != text_of(heading):
                continue
            block = heading.getparent()
            while block is not None and block is not scope:
                if next(block.iter(*_CARD_IMAGES), None) is not None:
                    cards.add(block)
                    break
                block = block.getparent()
    return cards


def read_post(
    post: etree._Element,
    page: str,
    tz: str,
    year: int | None,
    *,
    followers: Sequence[etree._Element] = (),
    texts: Sequence[tuple[etree._Element, str]] | None = None,
) -> Reading:
    """A post element (or a ticker heading and the siblings up to the next one) → Reading.

    `texts`: the post's stamp texts when the caller scanned the page already."""
    stamp, boxes = read_stamp(post, tz, year, followers, texts)
    starts = bool(followers) and (post.tag in HEADINGS or bold_line(post))
    heading = post if starts else headline_of(post, boxes)
    skip = set(boxes) | link_cards([post, *followers], page, heading)
    headline = ""
    if heading is not None:
        skip.add(heading)
        headline = strip_stamp(text_of(heading))
    if starts:
        body = _body(etree.Element("div"), skip, followers)
    else:
        stamp_first = bool(boxes) and _before(post, boxes[0], ()) == 0
        body = _body(post, skip, followers, stamp_first)
        if not body and not headline:  # the "meta box" was the post's only text
            body = _body(post, {b for b in skip if b.tag in ("time", "amp-timeago")}, followers)
    check_epoch(stamp, tz)
    element_id = (post.get("id") or "").strip()
    anchor = f"{page}#{element_id}" if element_id else None
    key = anchor or permalink(boxes, page)
    raw = RawPost(
        headline=headline,
        body=body,
        updated_at=stamp.updated,
        url=key or page,
        key=key,
        anchor=anchor,
    )
    return Reading(raw, post, stamp)
