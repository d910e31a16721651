"""Per-field rules shared by the merge and the detector: what makes a value degenerate.

A publisher's CMS fills fields it has no value for: every update gets the page's date or the
page's title, a label ("Women's World Cup") stands in for headlines, a headline is made of the
time and the first words of the body ("19:02(IST) TOSS: …") and bodies are cut. These
functions tell such values apart. (Ids that are mere positions, "#post1" being whatever post
is newest, are an identity question: storage/dedup_page.py's.)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from lxml import etree

from crawler.clocks import clock_prefix
from crawler.models import RawPost
from crawler.text import html_to_text, loose_key

_BODY_CLASS_RE = re.compile(r"content|body|text", re.IGNORECASE)
_NOT_BODY_RE = re.compile(r"title|headline|meta|time|date|author|share", re.IGNORECASE)
_SENTENCE_END = tuple(".!?…:;\"'»”)]")


def html_body(element: etree._Element) -> str:
    """The body of a post element: its content-like child, else the element minus headings."""
    for el in element.iter():
        if el is element or not isinstance(el.tag, str):
            continue
        name = el.get("class", "")
        if el.get("itemprop") == "articleBody" or (
            _BODY_CLASS_RE.search(name) and not _NOT_BODY_RE.search(name)
        ):
            return html_to_text(el)
    skip = set(element.iterdescendants("h1", "h2", "h3", "h4", "h5", "h6", "time"))
    return html_to_text(element, skip=skip)


def maybe_truncated(body: str) -> bool:
    """A body cut mid-sentence or ending in an ellipsis (some sites cap JSON-LD bodies)."""
    end = body.rstrip()
    return end.endswith(("…", "...")) or not end.endswith(_SENTENCE_END)


def truncated(short: str, full: str) -> bool:
    """True when `short` is a cut-off start of `full`."""
    a = "".join(short.rstrip(".… ").split())
    b = "".join(full.split())
    return len(b) > len(a) + 20 and b.startswith(a)


def better_body(body: str, html: str) -> str:
    """The structured body, unless it is missing or a cut-off start of the HTML one."""
    if not body or (maybe_truncated(body) and truncated(body, html)):
        return html
    return body


def degenerate(values: Sequence[object]) -> bool:
    """True when one value is shared by most posts (the page's date given to every update)."""
    present = [v for v in values if v]
    if len(present) < 2:
        return False
    _, count = Counter(present).most_common(1)[0]
    return count >= max(2, len(values) / 2)


def label_headlines(headlines: Iterable[str], titles: Iterable[str]) -> set[str]:
    """Normalized headlines that are labels, not headlines: the blog's own title, or one text
    shared by three posts or more and by a third of them."""
    norms = [loose_key(h) for h in headlines]
    counts = Counter(n for n in norms if n)
    shared = {n for n, c in counts.items() if c >= 3 and c * 3 >= len(norms)}
    return shared | {loose_key(t) for t in titles if t}


def clean_headline(headline: str, body: str, labels: set[str]) -> str:
    """The headline without a clock prefix; "" when it is a label, or a clock followed by the
    first words of the body ("19:02(IST) TOSS: Sunrisers…", made up by the publisher's CMS)."""
    prefix = clock_prefix(headline)
    text = prefix[1].strip() if prefix is not None else headline
    norm = loose_key(text)
    if not norm or norm in labels or (prefix is not None and loose_key(body).startswith(norm)):
        return ""
    return text


def clean_headlines(posts: Sequence[RawPost], titles: Sequence[str]) -> None:
    """Clear the headlines that are labels or made-up (see `clean_headline`), in place."""
    labels = label_headlines([p.headline for p in posts], titles)
    for post in posts:
        post.headline = clean_headline(post.headline, post.body, labels)


def shared_keys(posts: Iterable[RawPost]) -> set[str]:
    """Keys carried by posts of different texts: such a key names no one post (or element).
    The posts keep it; storage/dedup_page.py decides what it identifies."""
    texts: dict[str, tuple[str, str]] = {}
    shared: set[str] = set()
    for post in posts:
        if post.key and texts.setdefault(post.key, (post.headline, post.body)) != (
            post.headline,
            post.body,
        ):
            shared.add(post.key)
    return shared
