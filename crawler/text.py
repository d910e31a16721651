"""HTML fragments → plain text: paragraphs separated by a blank line, page chrome left out.

Owns what counts as chrome inside a post (scripts, embeds, share bars, photo credits, video
players, "Lire aussi" cards, ads, cookie and newsletter boxes) and the text normalisation every
extractor shares: `html_to_text` for bodies, `clean_inline` for headlines, `loose_key` for
telling whether two texts say the same words (not storage's content prints:
`storage.dedup.fold_for_identity`).
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Collection, Iterator
from functools import lru_cache
from typing import TypeAlias

from lxml import etree

from crawler.markup import parse_markup
from crawler.sanitize import clean_text

# Elements whose whole subtree is never post text.
DROP_TAGS = frozenset(
    """script style noscript template iframe frame object embed svg math canvas button form
    input select textarea option nav footer header aside figure figcaption video audio picture
    source track img map dialog menu head title meta link""".split()  # noqa: SIM905
)
# Elements that start and end a paragraph.
BLOCK_TAGS = frozenset(
    """p div section article main li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre table
    thead tbody tfoot tr caption hr address details summary center body html""".split()  # noqa: SIM905
)
CELL_TAGS = frozenset({"td", "th"})
# class/id fragments that mark chrome wherever they appear in the name.
_CHROME_SUBSTRINGS = (
    r"share|social|partag|sharing|cookie|consent|gdpr|didomi|onetrust|newsletter|subscribe"
    r"|signup|inscription|player|twitter|instagram|tiktok|bluesky|facebook|youtube|dailymotion"
    r"|reddit|telegram|mastodon|outbrain|taboola|advert|adslot|ad-slot|sponsor|promo|teaser"
    r"|read-?more|read-?also|also-?read|lire-?aussi|a-?lire|see-?also|voir-?aussi|related"
    r"|mehr-?zum-?thema|caption|credit|copyright|visually-?hidden|sr-only|screen-?reader"
)
# class/id words that mark chrome only as a whole word ("ad" but not "header").
_CHROME_WORDS = r"ad|ads|adv|pub|dfp|cmp|embed|video|byline|author|tools|toolbar"
_CHROME_RE = re.compile(
    rf"{_CHROME_SUBSTRINGS}|(?:^|[\s_-])(?:{_CHROME_WORDS})(?:$|[\s_-])", re.IGNORECASE
)
# A block whose text starts with one of these is a link card, not post text.
_READ_ALSO_RE = re.compile(
    r"^(?:[àa] lire aussi|lire aussi|lire la suite|voir aussi|à voir aussi|sur le même sujet"
    r"|read more|read also|also read|see also|related:|lesen sie auch|mehr zum thema"
    r"|auch interessant)\b",
    re.IGNORECASE,
)
_READ_ALSO_INITIALS = frozenset("aàlvsrm")
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# A tag ends at the next ">" or before the next "<": `[^>]*` alone would rescan the rest of
# the text from every "<" of a text without ">" ("<a<a<a…": quadratic).
_TAG_RE = re.compile(r"<[a-zA-Z/!][^<>]*>")
_NON_WORD_RE = re.compile(r"[\W_]+")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_FRAGMENT_PARSER = etree.HTMLParser(
    recover=True, remove_comments=True, remove_pis=True, encoding="utf-8"
)

Fragment: TypeAlias = "str | etree._Element"


def clean_inline(text: str | None) -> str:
    """One line of text: entities decoded, tags and zero-width characters out, spaces collapsed."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return _squash(text)


def _squash(text: str) -> str:
    """Already decoded text: zero-width characters out, spaces collapsed."""
    if not text.isascii():
        text = _ZERO_WIDTH_RE.sub("", text)
    return " ".join(text.split())  # str.split() knows every Unicode space, nbsp included


def plain_to_text(text: str | None) -> str:
    """Plain text (maybe with entities) → paragraphs; blank lines separate them when present."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = re.split(r"\n\s*\n" if re.search(r"\n\s*\n", text) else r"\n", text)
    return "\n\n".join(p for p in (clean_inline(x) for x in parts) if p)


def looks_like_html(text: str) -> bool:
    """True when the string holds markup rather than plain text."""
    return "<" in text and _TAG_RE.search(text) is not None


def any_to_text(text: str | None) -> str:
    """A body that may be HTML or plain text (JSON-LD articleBody, feed summaries)."""
    if not text:
        return ""
    return html_to_text(text) if looks_like_html(text) else plain_to_text(text)


_CACHED_MAX = 2000  # longer texts are not cached: the cache would keep them all


def loose_key(text: str | None) -> str:
    """A loose comparison key: accents, case, punctuation and spacing ignored, so that
    "L’Élysée, déjà" and "l elysee deja" compare equal."""
    if not text:
        return ""
    return _loose_key(text) if len(text) <= _CACHED_MAX else _loose_key.__wrapped__(text)


@lru_cache(maxsize=8192)
def _loose_key(text: str) -> str:
    text = clean_inline(text)
    if not text.isascii():
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    return _NON_WORD_RE.sub(" ", text.casefold()).strip()


def _chrome_name(name: str) -> bool:
    return _chrome(name[:_CACHED_MAX])  # a class attribute of megabytes says nothing more


@lru_cache(maxsize=8192)
def _chrome(name: str) -> bool:
    return _CHROME_RE.search(name) is not None


def is_chrome(el: etree._Element) -> bool:
    """True for an element that is page furniture rather than post text."""
    tag = el.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return True
    if tag.lower() in DROP_TAGS:
        return True
    attrib = el.attrib
    if not attrib:
        return False
    for attr in ("class", "id"):
        value = attrib.get(attr)
        if value and _chrome_name(value):
            return True
    if "hidden" in attrib or attrib.get("aria-hidden") == "true":
        return True
    style = attrib.get("style")
    return bool(style and "display:none" in style.replace(" ", "").lower())


def _first_words(el: etree._Element, limit: int = 40) -> str:
    """The beginning of an element's text, read lazily."""
    out: list[str] = []
    size = 0
    for chunk in el.itertext():
        out.append(chunk)
        size += len(chunk.strip())
        if size >= limit:
            break
    return clean_inline("".join(out))


def _is_link_only(el: etree._Element) -> bool:
    """A block whose text is nothing but its links' text (a card after a "Lire aussi" label)."""
    links = el.xpath(".//a") if el.tag != "a" else [el]
    if not links:
        return False
    link_text = "".join("".join(a.itertext()) for a in links)
    return loose_key(link_text) == loose_key("".join(el.itertext()))


def _read_also(el: etree._Element) -> bool | None:
    """None unless `el` is a "Lire aussi" card; True when it holds the label alone."""
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag not in BLOCK_TAGS and tag not in ("span", "strong", "b", "em"):
        return None
    head = (el.text or "").lstrip()
    if len(head) < 12:
        head = _first_words(el)
    if head[:1].lower() not in _READ_ALSO_INITIALS:
        return None
    m = _READ_ALSO_RE.match(head if len(head) >= 40 else _first_words(el))
    if m is None:
        return None
    rest = clean_inline("".join(el.itertext()))[m.end() :]
    return not rest.strip(" :.-–—»>")


# Elements one text is walked through with every rule (~40 µs each); past that, the rest is
# read as plain text, so a body of a million elements costs a second, not a minute.
WALK_BUDGET = 20_000
_NO_TEXT = frozenset({"script", "style", "noscript", "template"})


def _chunks(el: etree._Element) -> int:
    """How many strings `itertext()` of the parent yields for this child and its tail."""
    return sum(1 for _ in el.itertext()) + (1 if el.tail else 0)


def _rest_text(parent: etree._Element, walked: int) -> str:
    """The text of the children of `parent` after the first `walked` ones (and their tails),
    without script and style text: read by lxml at C speed when there is none (no XPath:
    libxml2 composes `a/b` steps in quadratic time)."""
    if next(parent.iter(*_NO_TEXT), None) is None:
        skip = (1 if parent.text else 0) + sum(_chunks(c) for c in parent[:walked])
        return " ".join(itertools.islice(parent.itertext(), skip, None))
    parts, hidden = [], 0
    for child in parent[walked:]:
        for event, node in etree.iterwalk(child, events=("start", "end")):
            no_text = node.tag in _NO_TEXT
            if event == "start":
                hidden += no_text
                if not hidden and node.text and isinstance(node.tag, str):
                    parts.append(node.text)
                continue
            hidden -= no_text
            if not hidden and node.tail:
                parts.append(node.tail)
    return " ".join(parts)


class _Writer:
    """Accumulates inline text and cuts it into paragraphs at block boundaries."""

    def __init__(self, skip: Collection[etree._Element]) -> None:
        self.paragraphs: list[str] = []
        self.buffer: list[str] = []
        self.skip = skip
        self.budget = WALK_BUDGET

    def flush(self) -> None:
        if self.buffer:
            text = _squash("".join(self.buffer))
            if text:
                self.paragraphs.append(text)
            self.buffer = []

    def add(self, text: str | None) -> None:
        if text:
            self.buffer.append(text)

    def walk(self, el: etree._Element, depth: int = 0) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag == "br":
            self.flush()
            return
        block = tag in BLOCK_TAGS
        if block:
            self.flush()
        elif tag in CELL_TAGS:
            self.add(" ")
        self.add(el.text)
        self.budget -= 1
        skip_card = False
        for walked, child in enumerate(el):
            if self.budget <= 0:  # this child, its tail and every later sibling, as plain text
                self.add(" " + _rest_text(el, walked))
                break
            if skip_card and _is_link_only(child):
                skip_card = False
            elif child in self.skip or is_chrome(child):
                pass
            elif (label_only := _read_also(child)) is not None:
                skip_card = label_only  # a bare "Lire aussi" label: its link card follows
            elif depth > 300:
                self.add(" ".join(child.itertext()))
            else:
                skip_card = False
                self.walk(child, depth + 1)
            self.add(child.tail)
        if block:
            self.flush()


def iter_paragraphs(
    fragment: Fragment | None, *, skip: Collection[etree._Element] = ()
) -> Iterator[str]:
    """The paragraphs of a fragment, chrome left out."""
    if fragment is None:
        return iter(())
    if isinstance(fragment, str):
        if not fragment.strip():
            return iter(())
        # lxml refuses a string with NUL, other controls or lone surrogates (JSON "\u0000").
        markup = clean_text(f"<html><body>{fragment}</body></html>")
        root = parse_markup(markup, _FRAGMENT_PARSER)
        if root is None:
            return iter(())
    else:
        root = fragment
    writer = _Writer(skip)
    writer.walk(root)
    writer.flush()
    return iter(writer.paragraphs)


def html_to_text(fragment: Fragment | None, *, skip: Collection[etree._Element] = ()) -> str:
    """HTML (a string or an lxml element) → paragraphs joined by one blank line.

    `skip` holds elements to leave out besides chrome (a post's own headline and time, when
    the whole post element is read as its body). The element passed in is read as content even
    if it would count as chrome inside a post.
    """
    return "\n\n".join(iter_paragraphs(fragment, skip=skip))
