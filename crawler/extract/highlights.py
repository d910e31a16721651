"""The page's key-moments block(s): "Les éléments marquants", "Key events", "Das Wichtigste".

Owns recognising such a block (by its class or id, or by its first heading, or as a list
that repeats the headlines of several posts: "Offenbar mehrere Kinder getötet (11.39 Uhr)")
and telling which posts it shows: a post is highlighted when its element lies inside the
block, when the block links to its `#fragment`, or when the block shows its headline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.clocks import clock_prefix
from crawler.models import RawPost
from crawler.text import clean_inline, loose_key
from crawler.urls import fragment

CONTAINER_TAGS = ("section", "div", "aside", "ul", "ol", "nav")
_NAME_RE = re.compile(
    r"(?:^|[\s_-])(?:key-?events?|key-?moments?|key-?points?|highlights|temps-?forts"
    r"|(?:elements-?)?marquants?|l?-?essentiel|pinned(?:-posts?)?|summary|takeaways"
    r"|a-?retenir|wichtigste)(?:$|[\s_-])"
    r"|keyevents|keymoments|elementsmarquants|tempsforts",
    re.IGNORECASE,
)
TITLES = (
    "les elements marquants",
    "elements marquants",
    "l essentiel",
    "l essentiel du jour",
    "a retenir",
    "ce qu il faut retenir",
    "les temps forts",
    "temps forts",
    "key events",
    "key moments",
    "key points",
    "highlights",
    "summary",
    "das wichtigste",
    "das wichtigste in kurze",
    "die wichtigsten ereignisse",
)
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TITLE_WORDS = ("marquant", "essentiel", "retenir", "temps forts", "key ", "highlights",
                "summary", "wichtig")  # fmt: skip
_PAGE_LEVEL = ("body", "html", "main", "article")


@dataclass(slots=True)
class Highlights:
    """The key-moments blocks of a page and what they show."""

    blocks: list[etree._Element] = field(default_factory=list)
    fragments: set[str] = field(default_factory=set)
    headlines: set[str] = field(default_factory=set)
    elements: set[etree._Element] = field(default_factory=set)  # the blocks and all inside

    def __bool__(self) -> bool:
        return bool(self.blocks)

    def contains(self, element: etree._Element | None) -> bool:
        """True when the element lies inside one of the blocks."""
        return element is not None and element in self.elements

    def shows(self, post: RawPost, element: etree._Element | None = None) -> bool:
        """True when the post is among the key moments, by element, link or headline."""
        if self.contains(element):
            return True
        for key in (post.key, post.url, post.anchor, *post.alt_keys):
            if fragment(key) and fragment(key) in self.fragments:
                return True
        return bool(post.headline) and loose_key(post.headline) in self.headlines


def _title_matches(text: str) -> bool:
    if len(text) > 80:
        return False
    norm = loose_key(text)
    return any(norm == t or (norm.startswith(t + " ") and len(norm) <= len(t) + 20) for t in TITLES)


def _first_heading_text(el: etree._Element) -> str:
    for child in el.iterdescendants():
        if child.tag in _HEADING_TAGS or child.get("role") == "heading" or _titled(child):
            return "".join(child.itertext())
    return ""


def _titled(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and "title" in (el.get("class") or "")


def _shown_texts(block: etree._Element) -> list[etree._Element]:
    """The links, items, headings and title-classed elements of a block, in page order (not an
    XPath union: libxml2 merges those in time quadratic in their size)."""
    return [el for el in block.iterdescendants() if _shows_text(el)]


def _shows_text(el: etree._Element) -> bool:
    if el.tag in _SHOWN_TAGS:
        return True
    if not isinstance(el.tag, str):
        return False
    name = el.get("class") or ""
    return el.get("itemprop") == "headline" or any(w in name for w in _TITLE_CLASSES)


_SHOWN_TAGS = frozenset({"a", "li", "h2", "h3", "h4", "h5", "h6"})
_TITLE_CLASSES = ("title", "headline")


def _by_heading(root: etree._Element) -> list[etree._Element]:
    out = []
    for heading in [*root.iter(*_HEADING_TAGS), *root.xpath("//@role[.='heading']/..")]:
        text = "".join(heading.itertext())
        if len(text) > 80 or not any(w in text.lower() for w in _TITLE_WORDS):
            continue
        if not _title_matches(text):
            continue
        parent = heading.getparent()
        if parent is not None and parent.tag in ("header", "hgroup") and len(parent) == 1:
            parent = parent.getparent()
        if parent is not None and parent.tag in CONTAINER_TAGS and parent.tag not in _PAGE_LEVEL:
            out.append(parent)
            continue
        sibling = heading.getnext()
        if sibling is not None and sibling.tag in CONTAINER_TAGS:
            out.append(sibling)
    return out


def _name_matches(name: str) -> bool:
    return _named(name[:500])  # a class attribute of megabytes says nothing more


@lru_cache(maxsize=4096)
def _named(name: str) -> bool:
    return _NAME_RE.search(name) is not None


def _candidates(root: etree._Element) -> list[etree._Element]:
    blocks = [
        el
        for el in root.iter(*CONTAINER_TAGS)
        if (el.get("class") or el.get("id"))
        and _name_matches(f"{el.get('class', '')} {el.get('id', '')}")
    ]
    return blocks + _by_heading(root)


def _outermost(blocks: Iterable[etree._Element]) -> list[etree._Element]:
    unique = list(dict.fromkeys(blocks))
    chosen = set(unique)
    return [b for b in unique if not any(a in chosen for a in b.iterancestors())]


def _same_page(href: str, page_url: str) -> bool:
    target = urlsplit(urljoin(page_url, href))
    page = urlsplit(page_url)
    return (target.netloc.lower(), target.path.rstrip("/")) == (
        page.netloc.lower(),
        page.path.rstrip("/"),
    )


def find_highlights(
    root: etree._Element,
    page_url: str,
    post_elements: Iterable[etree._Element] = (),
) -> Highlights:
    """The key-moments blocks of a page, with the fragments they link and headlines they show.

    A candidate holding most of the page's posts is the stream, not key moments: it is left out.
    """
    posts = [el for el in post_elements if el is not None]
    found = Highlights()
    for block in _outermost(_candidates(root)):
        members = set(block.iter())
        inside = sum(1 for el in posts if el in members)
        if posts and inside > 3 and inside > len(posts) / 2:
            continue
        found.blocks.append(block)
        found.elements |= members
        title = loose_key(_first_heading_text(block))
        for a in block.iter("a"):
            href = a.get("href") or ""
            if "#" in href and _same_page(href, page_url):
                found.fragments.add(fragment(href))
        for el in _shown_texts(block):
            text = loose_key(clean_inline(" ".join(el.itertext())))
            if text and text != title:
                found.headlines.add(text)
    found.fragments.discard("")
    return found


# Starts at a digit or "(", and spaces are matched possessively: a leading `[\s\-–—]*` would be
# tried from every dash of a line of dashes, and adjacent `\s*` split a run of spaces.
_PRINTED_TIME_RE = re.compile(
    r"(?:\(\s*+)?\d{1,2}[.:h]\d{2}(?:\s*+(?:uhr|h|[ap]\.?m\.?))?\s*+\)?\s*+$", re.I
)
_ITEM_MAX = 400  # a summary item repeats a headline: a longer one is no such item


def _item_headline(text: str) -> str:
    """A summary item without the time printed after or before it."""
    text = clean_inline(text)
    if len(text) > _ITEM_MAX:
        return ""
    if m := _PRINTED_TIME_RE.search(text):
        text = text[: m.start()].rstrip(" -–—")
    prefix = clock_prefix(text)
    return loose_key(prefix[1] if prefix is not None else text)


def summary_lists(
    root: etree._Element, posts: Sequence[tuple[RawPost, etree._Element | None]]
) -> Highlights:
    """Lists outside the posts whose items repeat the headlines of two posts or more (at least
    half of the items): a summary of the key moments without a name."""
    headlines = {loose_key(p.headline) for p, _ in posts if p.headline}
    found = Highlights()
    if len(headlines) < 2:
        return found
    elements = {el for _, el in posts if el is not None}
    for block in root.iter("ul", "ol"):
        if block in elements or any(a in elements for a in block.iterancestors()):
            continue  # inside a post
        items = [_item_headline(" ".join(li.itertext())) for li in block.iter("li")]
        shown = [t for t in items if t in headlines]
        if len(shown) >= 2 and len(shown) * 2 >= len(items):
            found.blocks.append(block)
            found.elements |= set(block.iter())
            found.headlines |= set(shown)
    return found


def mark(found: Iterable[tuple[RawPost, etree._Element | None]], highlights: Highlights) -> None:
    """Set `highlighted` on every post the blocks show."""
    if not highlights:
        return
    for post, element in found:
        if highlights.shows(post, element):
            post.highlighted = True
