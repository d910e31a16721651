"""One HTML page → `PageExtraction`: picks the extractor, completes bodies, marks key moments.

Owns the order of the extractors (configured selectors, then JSON-LD, then microdata, then the
generic detector), decoding bytes, completing JSON-LD posts from their HTML element, pairing
key-moments copies with their stream posts, pagination (rel="next") and end of coverage.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from lxml import etree

from crawler.dates import parse_date_only, zone
from crawler.extract import Found
from crawler.extract.highlights import Highlights, find_highlights, mark
from crawler.extract.jsonld import extract_jsonld
from crawler.extract.microdata import MicrodataBlog, extract_microdata
from crawler.extract.selectors import extract_selectors
from crawler.models import PageExtraction, RawPost, Selectors
from crawler.text import html_to_text, normalized
from crawler.urls import canonical_url, fragment, live_blog_url

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.IGNORECASE)
# What browsers (WHATWG) actually use for these labels.
_ENCODING_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
                     "ascii": "cp1252", "us-ascii": "cp1252"}  # fmt: skip
_BODY_CLASS_RE = re.compile(r"content|body|text", re.IGNORECASE)
_NOT_BODY_RE = re.compile(r"title|headline|meta|time|date|author|share", re.IGNORECASE)
_SENTENCE_END = tuple(".!?…:;\"'»”)]")


def decode_html(data: bytes, encoding: str | None, warnings: list[str]) -> str:
    """Bytes → text: the given encoding, else a BOM or `<meta charset>`, else UTF-8 or cp1252."""
    candidates = [encoding] if encoding else []
    if data.startswith(b"\xef\xbb\xbf"):
        candidates.append("utf-8-sig")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates.append("utf-16")
    elif m := _META_CHARSET_RE.search(data[:4096]):
        candidates.append(m.group(1).decode("ascii", "replace"))
    for name in candidates:
        name = _ENCODING_ALIASES.get(name.lower().strip(), name.strip())
        try:
            return data.decode(name, errors="replace")
        except LookupError:
            warnings.append(f"page: unknown encoding {name!r}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append("page: no declared encoding and not UTF-8: decoded as windows-1252")
        return data.decode("cp1252", errors="replace")


_PARSER = etree.HTMLParser(
    recover=True, remove_comments=True, remove_pis=True, huge_tree=True, encoding="utf-8"
)


def parse_html(text: str) -> etree._Element:
    """The lxml tree of a page (plain etree elements: faster than lxml.html's)."""
    data = text.encode("utf-8", errors="replace").strip()  # libxml2 replaces control chars
    root = etree.fromstring(data, _PARSER) if data else None
    return root if root is not None else etree.fromstring(b"<html></html>", _PARSER)


def page_date(root: etree._Element, url: str, tz: str, now: datetime) -> date:
    """The day clock-only times belong to: from the heading, title, URL or page metadata."""
    for tag in ("h1", "title"):
        el = next(root.iter(tag), None)
        found = parse_date_only("".join(el.itertext())) if el is not None else None
        if found:
            return found
    found = parse_date_only(url)
    if found:
        return found
    for prop in ("article:modified_time", "article:published_time"):
        value = root.xpath(f"string(//meta[@property='{prop}']/@content)")
        found = parse_date_only(value[:10]) if value else None
        if found:
            return found
    return now.astimezone(zone(tz)).date()


def _next_url(root: etree._Element, base: str) -> str | None:
    for el in root.xpath("//link[@rel][@href] | //a[@rel][@href]"):
        if "next" in el.get("rel", "").lower().split() and el.get("href", "").strip():
            return canonical_url(el.get("href", ""), base)
    return None


def _ids(root: etree._Element) -> dict[str, etree._Element]:
    return {el.get("id"): el for el in root.xpath("//*[@id]")}


def _element_for(
    key: str | None, ids: dict[str, etree._Element]
) -> tuple[str, etree._Element] | None:
    """The element a key's #fragment names: exactly, or as the one id ending in -fragment."""
    frag = fragment(key)
    if not frag:
        return None
    if frag in ids:
        return frag, ids[frag]
    if len(frag) >= 6:
        ends = [i for i in ids if i.endswith(("-" + frag, "_" + frag))]
        if len(ends) == 1:
            return ends[0], ids[ends[0]]
    return None


def _html_body(element: etree._Element) -> str:
    """The body of a post element: its content-like child, else the element minus headings."""
    for el in element.iter():
        if el is element or not isinstance(el.tag, str):
            continue
        name = el.get("class", "")
        if el.get("itemprop") == "articleBody" or (
            _BODY_CLASS_RE.search(name) and not _NOT_BODY_RE.search(name)
        ):
            return html_to_text(el)
    skip = set(element.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6|.//time"))
    return html_to_text(element, skip=skip)


def _maybe_truncated(body: str) -> bool:
    """A body cut mid-sentence or ending in an ellipsis (some sites cap JSON-LD bodies)."""
    end = body.rstrip()
    return end.endswith(("…", "...")) or not end.endswith(_SENTENCE_END)


def _truncated(short: str, full: str) -> bool:
    """True when `short` is a cut-off start of `full`."""
    a = "".join(short.rstrip(".… ").split())
    b = "".join(full.split())
    return len(b) > len(a) + 20 and b.startswith(a)


def _complete_from_html(posts: list[RawPost], root: etree._Element, page: str) -> list[Found]:
    """Pair JSON-LD posts with their HTML element; fill missing or truncated bodies."""
    ids = _ids(root)
    found = []
    for post in posts:
        match = _element_for(post.key, ids)
        element = None
        if match:
            anchor, element = match
            if anchor != fragment(post.key):  # a bare @id whose element is "block-<id>"
                post.key = post.url = f"{page}#{anchor}"
            if not post.body:
                post.body = _html_body(element)
            elif _maybe_truncated(post.body):
                html_body = _html_body(element)
                if _truncated(post.body, html_body):
                    post.body = html_body
        found.append(Found(post, element))
    return found


def _copy_twins(found: list[Found], highlights: Highlights) -> None:
    """Give each key-moments copy its stream twin's key (own anchor kept in alt_keys)."""
    copies = [f for f in found if highlights.contains(f.element)]
    stream = [f for f in found if not highlights.contains(f.element)]
    for copy in copies:
        own = copy.post.key
        twin = next((s for s in stream if _same_post(copy, s)), None)
        copy.post.highlighted = True
        if twin is None:
            continue
        twin.post.highlighted = True
        if twin.post.key and twin.post.key != own:
            copy.post.key = twin.post.key
            copy.post.url = twin.post.url
            copy.post.alt_keys = tuple(k for k in (*copy.post.alt_keys, own) if k)


def _same_post(copy: Found, other: Found) -> bool:
    a, b = copy.post, other.post
    a_id, b_id = fragment(a.key), fragment(b.key)
    if a_id and b_id and a_id.startswith((b_id + "-", b_id + "_")):
        return True
    return (normalized(a.headline), normalized(a.body)) == (
        normalized(b.headline),
        normalized(b.body),
    )


def _detected(root: etree._Element, page: str, timezone: str, day: date) -> list[Found]:
    """The generic detector for pages without structured data or selectors.

    Plug-in point: `crawler/extract/detect.py` will provide it; until then no posts.
    """
    del root, page, timezone, day
    return []


def extract_page(
    html: str | bytes,
    url: str,
    *,
    timezone: str = "UTC",
    selectors: Selectors | None = None,
    now: datetime | None = None,
    encoding: str | None = None,
    language: str | None = None,
) -> PageExtraction:
    """Cut one live-blog page into posts, in page order, key-moments copies included.

    `encoding` is the HTTP header's charset for bytes; `language` (the source's) helps the
    date parser with free-text times; `now` decides whether coverage has ended.
    """
    languages = (language,) if language else ()
    result = PageExtraction()
    now = now or datetime.now(UTC)
    text = decode_html(html, encoding, result.warnings) if isinstance(html, bytes) else html
    root = parse_html(text)
    base = canonical_url(root.xpath("string(//base/@href)") or url, url)
    page = live_blog_url(url)
    day = page_date(root, url, timezone, now)

    blog = extract_jsonld(root, page, timezone=timezone, now=now)
    micro = (
        extract_microdata(
            root, page, timezone=timezone, now=now, default_date=day, with_posts=selectors is None
        )
        if not blog.posts
        else MicrodataBlog()
    )
    result.warnings.extend(blog.warnings)
    result.is_liveblog = blog.found or micro.is_liveblog
    result.ended = blog.ended or micro.ended

    if selectors is not None:
        found = extract_selectors(
            root, page, selectors, timezone=timezone, default_date=day, now=now, languages=languages
        )
        result.path = "selectors"
    elif blog.posts:
        found, result.path = _complete_from_html(blog.posts, root, page), "jsonld"
    elif micro.found:
        found, result.path = micro.found, "microdata"
    else:
        found = _detected(root, page, timezone, day)
        result.path = "detected" if found else ("jsonld" if blog.found else "")

    highlights = find_highlights(root, page, [f.element for f in found if f.element is not None])
    mark([(f.post, f.element) for f in found], highlights)
    _copy_twins(found, highlights)
    result.posts = [f.post for f in found]
    result.next_url = _next_url(root, base)
    return result
