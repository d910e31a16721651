"""The generic post detector: a page's list of posts, found without selectors or schema.org.

A live blog repeats one kind of element per post, each with a time stamp. The detector starts
from every stamp on the page (`<time>`, `amp-timeago`, `[datetime]`, texts such as "21:22",
"12.31 Uhr:", "95'"), climbs from each to its ancestors, and counts, for every (parent, kind of
child) pair, how many children carry a stamp. The kind of an element is its tag and first
class (obfuscated CSS-module classes still repeat between siblings). Each pair is scored:

    score = stamped children × share of such children stamped × min(1, median text / 100)
            × (1 − link density)²

and must have at least 3 stamped children, half of them stamped, a median text of 15
characters and at most 50 % of its text in links (lists of headlines with times are
navigation, not posts). The best pair wins; same-kind lists under same-kind parents (one per
day) join it. When each stamped child is a heading or a short line and the text lies in the
siblings after it (a flat ticker: `<h2>12.31 Uhr: …</h2><p>…</p>`), a post runs from one
stamped child to the next.

Reading the posts of the list found is html_posts.py's job.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from crawler.clocks import is_stamp
from crawler.extract.boiler import MAX_LINE, is_boilerplate
from crawler.extract.stamps import (
    HEADINGS,
    epoch_attribute,
    link_length,
    machine_value,
    stamp_texts,
    text_length,
    text_of,
    time_elements,
)
from crawler.extract.ticker import continued, ticker_followers, ticker_starts
from crawler.text import is_chrome

MIN_POSTS = 3
MIN_SHARE = 0.5
MIN_TEXT = 15
MAX_LINK_DENSITY = 0.5
MAX_CLIMB = 12
_SAMPLE = 60  # members whose text is measured to score a list
_EPOCH_HOLDERS = etree.XPath(
    "//body//*[@*[contains(local-name(), 'time') or contains(local-name(), 'date')]]"
)

Kind = tuple[str, str]


@dataclass(slots=True)
class PostList:
    """A list of post elements (and for a flat ticker, the siblings that follow each)."""

    parent: etree._Element
    members: list[etree._Element]
    followers: list[list[etree._Element]]
    flat: bool = False
    stamped: int = 0
    score: float = 0.0
    joined: bool = False  # same-kind lists of other parents were added


def kind(el: etree._Element) -> Kind:
    """An element's kind: its tag and first class."""
    classes = (el.get("class") or "").split()
    return str(el.tag), classes[0] if classes else ""


def page_stamps(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """(element, text) of every stamp text of the page, in page order."""
    return [(el, text) for el, text in stamp_texts(root) if is_stamp(text)]


def _pairs(anchors: Sequence[etree._Element]) -> dict[tuple[etree._Element, Kind], set]:
    pairs: dict[tuple[etree._Element, Kind], set] = {}
    kinds: dict[etree._Element, Kind] = {}
    for anchor in anchors:
        child = anchor
        for _ in range(MAX_CLIMB):
            parent = child.getparent()
            if parent is None or not isinstance(child.tag, str):
                break
            child_kind = kinds.get(child)
            if child_kind is None:
                child_kind = kinds[child] = kind(child)
            stamped = pairs.get((parent, child_kind))
            if stamped is None:
                stamped = pairs[(parent, child_kind)] = set()
            elif child in stamped:
                break  # this anchor's ancestors are counted already
            stamped.add(child)
            child = parent
    return pairs


def _text_and_links(elements: Sequence[etree._Element]) -> tuple[int, int]:
    text = links = 0
    for el in elements:
        if is_chrome(el):
            continue
        text += text_length(el)
        links += link_length(el)
    return text, links


def _followers(
    parent: etree._Element, members: Sequence[etree._Element], stop_kind: Kind | None
) -> list[list[etree._Element]]:
    """For each member, the siblings after it up to the next member (or a same-kind heading)."""
    chosen = set(members)
    out: list[list[etree._Element]] = []
    current: list[etree._Element] | None = None
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if child in chosen:
            current = []
            out.append(current)
        elif current is not None:
            if stop_kind is not None and kind(child) == stop_kind:
                current = None
            else:
                current.append(child)
    return out


def _sample(items: Sequence[int]) -> list[int]:
    step = max(1, len(items) // _SAMPLE)
    return list(items[::step])


def _candidate(parent: etree._Element, child_kind: Kind, stamped: set) -> PostList | None:
    same = [c for c in parent if isinstance(c.tag, str) and kind(c) == child_kind]
    share = len(stamped) / len(same)
    if len(stamped) < MIN_POSTS:
        return None
    timed = [c for c in same if c in stamped]
    starts = ticker_starts(timed)
    if starts is not None and (share < MIN_SHARE or continued(same, set(starts))):
        # "9h05 - …" then the post's other paragraphs (which may mention a time too)
        return _scored(parent, starts, ticker_followers(parent, starts), len(starts), 1.0)
    if share < MIN_SHARE:
        return None
    heading = child_kind[0] in HEADINGS
    own = statistics.median(text_length(timed[i]) for i in _sample(range(len(timed))))
    maybe_flat = heading or own < 40 or (not child_kind[1] and share < 1)
    followers = _followers(parent, timed, child_kind if heading else None) if maybe_flat else []
    picked = _sample(range(len(followers)))
    with_text = sum(1 for i in picked if _text_and_links(followers[i])[0] >= 20)
    flat = maybe_flat and with_text * 2 >= len(picked) > 0
    if flat:
        return _scored(parent, timed, followers, len(stamped), share)
    first = same.index(timed[0])
    members = [c for i, c in enumerate(same) if c in stamped or _untimed_post(c, i > first)]
    return _scored(parent, members, [[] for _ in members], len(stamped), share, flat=False)


def _untimed_post(el: etree._Element, after_first: bool) -> bool:
    """A same-kind block without a stamp that still is a post: it has text, follows the first
    stamped post (lead bullets and intros come before) and is no promo, note or credit."""
    size = text_length(el)
    if size < 20 or not after_first:
        return False
    return size > MAX_LINE or not is_boilerplate(text_of(el))


def _scored(
    parent: etree._Element,
    members: list[etree._Element],
    followers: list[list[etree._Element]],
    stamped: int,
    share: float,
    *,
    flat: bool = True,
) -> PostList | None:
    if flat:
        picked = _sample(range(len(members)))
        sizes = [_text_and_links([members[i], *followers[i]]) for i in picked]
    else:
        sizes = [_text_and_links([members[i]]) for i in _sample(range(len(members)))]
    text = sum(t for t, _ in sizes)
    links = sum(n for _, n in sizes)
    median = statistics.median(t - n for t, n in sizes)
    density = links / text if text else 1.0
    if median < MIN_TEXT or density > MAX_LINK_DENSITY:
        return None
    score = stamped * share * min(1.0, median / 100) * (1 - density) ** 2
    return PostList(parent, members, followers, flat, stamped, score)


def find_post_list(
    root: etree._Element, texts: Sequence[tuple[etree._Element, str]] | None = None
) -> PostList | None:
    """The page's best list of stamped posts, or None when nothing scores. `texts` are the
    page's stamp texts when already scanned (`page_stamps`). Epoch attributes (a post that
    prints "3 hours ago" beside `data-timestamp="…"`) are looked at when nothing else scores."""
    texts = page_stamps(root) if texts is None else texts
    timed = [el for el in _page_time_elements(root) if el.tag != "abbr" or machine_value(el)]
    found = _best([*timed, *(el for el, _ in texts)])
    if found is None:
        epochs = [el for el in _EPOCH_HOLDERS(root) if any(epoch_attribute(el))]
        found = _best([*timed, *epochs, *(el for el, _ in texts)]) if epochs else None
    return found


def _page_time_elements(root: etree._Element) -> list[etree._Element]:
    """The page's time elements; in the head only `<time>` and `amp-timeago` count."""
    head = root.find("head")
    in_head = set(head.iter()) if head is not None else set()
    return [el for el in time_elements(root) if el.tag in _TIMES or el not in in_head]


_TIMES = frozenset({"time", "amp-timeago"})
# A class or id token of a readers' comment thread ("live-match-comments" is commentary).
_COMMENTS_RE = re.compile(
    r"^(?:js-)?(?:comments?|comment-?(?:list|section|thread|area|s-area|container|wrapper|s-list)"
    r"|commentlist|(?:reader|user)-?comments?|kommentare?|commentaires?|disqus[\w-]*"
    r"|dsq-[\w-]+|coral[\w-]*|replies|discussion|leserkommentare)$",
    re.IGNORECASE,
)


def in_comments(el: etree._Element) -> bool:
    """The element lies in a readers' comment thread (their posts, not the newsroom's)."""
    for node in [el, *el.iterancestors()][:6]:
        tokens = f"{node.get('class', '')} {node.get('id', '')}".split()
        if any(_COMMENTS_RE.match(t) for t in tokens):
            return True
    return False


def _best(anchors: Sequence[etree._Element]) -> PostList | None:
    pairs = _pairs(anchors)
    best: PostList | None = None
    for (parent, child_kind), stamped in pairs.items():
        if len(stamped) < MIN_POSTS or in_comments(parent):
            continue
        found = _candidate(parent, child_kind, stamped)
        if found is not None and (best is None or found.score > best.score):
            best = found
    if best is None or best.flat:
        return best
    # The same kind of list under parents of the same kind (one list per day) joins it.
    member_kind, parent_kind = kind(best.members[0]), kind(best.parent)
    for (parent, child_kind), stamped in pairs.items():
        if child_kind != member_kind or parent is best.parent or kind(parent) != parent_kind:
            continue
        same = [c for c in parent if isinstance(c.tag, str) and kind(c) == child_kind]
        if len(stamped) * 2 >= len(same):
            best.members += same
            best.followers += [[] for _ in same]
            best.joined = True
    return best


def list_around(elements: Sequence[etree._Element]) -> PostList | None:
    """The list the given post elements belong to: their most common parent's children of
    their most common kind (the HTML posts the structured data describes, and those it
    leaves out)."""
    counts = Counter((el.getparent(), kind(el)) for el in elements if el.getparent() is not None)
    if not counts:
        return None
    (parent, child_kind), _ = counts.most_common(1)[0]
    same = [c for c in parent if isinstance(c.tag, str) and kind(c) == child_kind]
    return PostList(parent, same, [[] for _ in same], stamped=len(same))
