"""schema.org `LiveBlogPosting` in JSON-LD → posts and coverage times.

Owns reading `<script type="application/ld+json">` blocks (a broken block, or one nested
deeper than Python's parser goes, is skipped, the others kept), walking `@graph` and nested
objects, and turning every `liveBlogUpdate` into a `RawPost` (one that fails to read is
skipped). Bodies that are missing or truncated here, and fields every update shares, are
completed from the HTML by merge.py. A coverageEndTime equal to the coverageStartTime (a page
that stamps both with its publication time) ends nothing, nor does one before 1990 (an
unset date: the epoch 1970-01-01). The page's own dateModified and
datePublished (of any article or page object) tell the day clock-only times belong to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from crawler.daterange import EARLIEST_LIVE
from crawler.dates import parse_datetime
from crawler.extract.fields import shared_keys
from crawler.guard import Guard
from crawler.models import RawPost
from crawler.text import any_to_text, clean_inline
from crawler.urls import canonical_url, fragment, is_absolute, live_blog_url, without_fragment

_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_OPENERS = ("<!--", "//<![CDATA[", "<![CDATA[")
_CLOSERS = ("-->", "//]]>", "]]>")


@dataclass(slots=True)
class LiveBlog:
    """What the JSON-LD of one page says about its live blog."""

    posts: list[RawPost] = field(default_factory=list)
    found: bool = False  # a LiveBlogPosting was declared (maybe without updates yet)
    headline: str = ""  # the blog's own title (some pages give it to every update)
    page_dates: list[datetime] = field(default_factory=list)  # dateModified/datePublished
    coverage_start: datetime | None = None
    coverage_end: datetime | None = None
    ended: bool = False
    warnings: list[str] = field(default_factory=list)


def parse_json_lenient(text: str) -> Any:
    """JSON as pages really write it: comments wrappers, control characters, trailing commas.

    Several concatenated values come back as a list. Raises ValueError when nothing parses.
    """
    text = text.strip()
    for opener in _OPENERS:
        if text.startswith(opener):
            text = text[len(opener) :].lstrip()
    for closer in _CLOSERS:
        if text.endswith(closer):
            text = text[: -len(closer)].rstrip()
    text = text.rstrip(";")
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    text = _TRAILING_COMMA_RE.sub(r"\1", _CONTROL_RE.sub(" ", text))
    decoder = json.JSONDecoder(strict=False)
    values, pos = [], 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n;,":
            pos += 1
        if pos >= len(text):
            break
        value, pos = decoder.raw_decode(text, pos)  # raises ValueError on junk
        values.append(value)
    if not values:
        raise ValueError("empty JSON-LD block")
    return values[0] if len(values) == 1 else values


def jsonld_blocks(root: etree._Element, warnings: list[str] | None = None) -> list[Any]:
    """The parsed JSON-LD blocks of a page; broken ones are reported in `warnings`."""
    out = []
    xpath = "//script[translate(@type, 'JSONLDAPPLICATIO', 'jsonldapplicatio')"
    xpath += "='application/ld+json']"
    for script in root.xpath(xpath):
        text = script.text or ""
        if not text.strip():
            continue
        try:
            out.append(parse_json_lenient(text))
        except ValueError as exc:
            if warnings is not None:
                warnings.append(f"jsonld: skipped a broken block: {str(exc)[:200]}")
        except RecursionError:
            if warnings is not None:
                warnings.append("jsonld: skipped a block nested too deep")
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    raw = obj.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {str(n).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for n in names if n}


def find_typed(value: Any, type_name: str) -> Iterator[dict[str, Any]]:
    """Objects of a schema.org type anywhere in a value (`@graph`, lists, nesting), in order.

    The search does not descend into a match: its own updates are read by the caller.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if type_name in _types(item):
                yield item
            else:
                stack.extend(v for v in reversed(item.values()) if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in reversed(item) if isinstance(v, dict | list))


_TEXT_DEPTH = 4  # [{"@value": [...]}]: deeper nesting holds no text worth reading


def _text(value: Any, depth: int = 0) -> str:
    """A schema.org text value: a string, a list of strings, or {"@value": ...}."""
    if isinstance(value, str):
        return value
    if depth >= _TEXT_DEPTH:
        return ""
    if isinstance(value, list):
        return "\n\n".join(_text(v, depth + 1) for v in value if v)
    if isinstance(value, dict):
        return _text(value.get("@value") or value.get("text") or "", depth + 1)
    return "" if value is None else str(value)


def _one(value: Any) -> str:
    """A value that should be one string (a URL, a date): the first of a list."""
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    return _text(value)


def update_key(raw: str, page_url: str) -> tuple[str | None, str | None]:
    """(key, url) of an update from its url or @id; a bare id becomes an anchor of the page."""
    raw = raw.strip()
    if not raw:
        return None, None
    if is_absolute(raw) or raw.startswith(("/", "#", "?", ".")):
        url = canonical_url(raw, page_url)
    else:
        url = f"{without_fragment(page_url)}#{raw}"
    return (url if fragment(url) else None), url


def _update(obj: dict[str, Any], page_url: str, tz: str) -> RawPost:
    raw_key = _one(obj.get("url")) or _one(obj.get("@id"))
    key, url = update_key(raw_key, page_url)
    return RawPost(
        headline=clean_inline(_text(obj.get("headline") or obj.get("name"))),
        body=any_to_text(_text(obj.get("articleBody") or obj.get("text"))),
        published_at=parse_datetime(_one(obj.get("datePublished")) or None, tz),
        updated_at=parse_datetime(_one(obj.get("dateModified")) or None, tz),
        url=url or without_fragment(page_url),
        key=key,
    )


_PAGE_TYPES = frozenset({"LiveBlogPosting", "NewsArticle", "Article", "ReportageNewsArticle",
                         "WebPage"})  # fmt: skip


def _page_objects(block: Any) -> Iterator[dict[str, Any]]:
    """The page-level objects of a block: itself, list items, `@graph` members, mainEntity."""
    stack = [block]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            yield item
            for name in ("@graph", "mainEntity"):
                if isinstance(item.get(name), dict | list):
                    stack.append(item[name])


def _page_dates(block: Any, tz: str) -> list[datetime]:
    """dateModified then datePublished of the page-level objects of a block."""
    found = []
    for obj in _page_objects(block):
        if _types(obj) & _PAGE_TYPES:
            for name in ("dateModified", "datePublished"):
                when = parse_datetime(_one(obj.get(name)) or None, tz)
                if when is not None:
                    found.append(when)
    return found


def extract_jsonld(
    root: etree._Element,
    page_url: str,
    *,
    timezone: str = "UTC",
    now: datetime | None = None,
    guard: Guard | None = None,
) -> LiveBlog:
    """Posts of every LiveBlogPosting declared in the page's JSON-LD, in document order.

    An update that fails to read is skipped (told by `guard`), the others kept."""
    guard = guard or Guard(page_url)
    result = LiveBlog()
    page = live_blog_url(page_url)
    for block in jsonld_blocks(root, result.warnings):
        result.page_dates += _page_dates(block, timezone)
        for obj in find_typed(block, "LiveBlogPosting"):
            result.found = True
            result.headline = result.headline or clean_inline(_text(obj.get("headline")))
            start = parse_datetime(_one(obj.get("coverageStartTime")) or None, timezone)
            end = parse_datetime(_one(obj.get("coverageEndTime")) or None, timezone)
            result.coverage_start = result.coverage_start or start
            result.coverage_end = result.coverage_end or end
            updates = obj.get("liveBlogUpdate") or []
            for item in updates if isinstance(updates, list) else [updates]:
                if isinstance(item, dict):
                    post = guard.run(
                        "jsonld: an update", lambda i=item: _update(i, page, timezone), None
                    )
                    if post is not None:
                        result.posts.append(post)
    if shared := shared_keys(result.posts):
        result.warnings.append(
            f"jsonld: {len(shared)} update key(s) shared by different posts: they identify none"
        )
    for p in result.posts:
        if p.key == page:  # the page itself is no post identity
            p.key = None
    if result.coverage_end is not None and result.coverage_end == result.coverage_start:
        result.warnings.append("jsonld: coverageEndTime equals coverageStartTime, ignored")
        result.coverage_end = None
    if result.coverage_end is not None and result.coverage_end < EARLIEST_LIVE:
        result.warnings.append("jsonld: coverageEndTime before 1990 (a placeholder), ignored")
        result.coverage_end = None
    moment = now or datetime.now(UTC)
    result.ended = result.coverage_end is not None and result.coverage_end <= moment
    return result
