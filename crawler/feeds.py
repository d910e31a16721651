"""RSS and Atom documents → `PageExtraction`, with feedparser, defensively.

Owns the gate in front of feedparser (a document that declares entities is refused before any
XML parser sees it: entity bombs, external entities), telling a feed from an HTML page, and
mapping entries to `RawPost`s. Entry keys: `guid:<guid or Atom id>`, else the canonical link,
else None (storage then falls back to a content fingerprint). The bytes are decoded once by
crawler.encoding; feedparser is handed that text as a UTF-8 stream, never bytes or a string
(it would try them as a file name). An entry link or a next link
that is no http(s) URL (`file:`, `javascript:`, an `xml:base` pointing elsewhere) is
dropped; an entry that fails to read is skipped with a warning, the others kept.
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXException

import feedparser

from crawler.daterange import Refused, record
from crawler.dates import read_datetime
from crawler.encoding import decode, header_charset
from crawler.guard import Guard
from crawler.models import PageExtraction, RawPost
from crawler.text import any_to_text, clean_inline, plain_to_text
from crawler.urls import refusal, web_url

PROLOG_LIMIT = 65536  # bytes read to find the root element
FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
_DOCTYPE_RE = re.compile(r"<!DOCTYPE\s+([^\s\[>]+)([^\[>]*)(\[)?", re.IGNORECASE)
_ROOT_RE = re.compile(r"<([A-Za-z_][\w.:-]*)")
_FEED_TYPES = ("rss", "atom", "rdf", "/xml", "+xml")
_ENTRY_END_RE = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>")
# feedparser spends ~100 µs per element: a document of a million empty elements (8 MB) would
# take minutes. Only the entries before the MAX_ELEMENTS-th element are read.
MAX_ELEMENTS = 50_000
_MARKUP_RE = re.compile(rb"<!\[CDATA\[|<!--|<[A-Za-z_]")


class FeedError(Exception):
    """A document that is not a feed, or one refused before parsing. Message: "feed: …"."""


def _sniff_text(body: bytes) -> str:
    """The start of the document as text, whatever its byte encoding."""
    return decode(body[:PROLOG_LIMIT], what="feed").text


def _scan_prolog(body: bytes) -> tuple[re.Match[str] | None, str | None]:
    """(the DOCTYPE declaration if any, the root element's local name if reached)."""
    text = _sniff_text(body)
    pos, doctype = 0, None
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
        elif text[pos : pos + 9].upper() == "<!DOCTYPE":
            doctype = _DOCTYPE_RE.match(text, pos)
            return doctype, doctype[1].split(":")[-1].lower() if doctype else None
        else:
            root = _ROOT_RE.match(text, pos)
            return doctype, root[1].split(":")[-1].lower() if root else None
        if end < 0:
            return None, None
        pos = end + 2


def check_document(body: bytes) -> None:
    """Raise FeedError for a document declaring entities or a DTD, or an HTML page."""
    doctype, root = _scan_prolog(body)
    if root == "html" and (doctype is None or not doctype[3]):
        raise FeedError("feed: not a feed: the document is an HTML page")
    if doctype is not None or b"<!ENTITY" in body[:PROLOG_LIMIT].upper():
        raise FeedError("feed: refused: the document declares entities (DOCTYPE)")


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """True when the document is RSS/Atom (by its root element; by content type if unclear)."""
    doctype, root = _scan_prolog(body)
    if root is not None:
        # An XML document with a DTD is sent to parse_feed, which refuses it with a clear error.
        return root in FEED_ROOTS or (doctype is not None and root != "html")
    ctype = (content_type or "").lower()
    return "html" not in ctype and any(t in ctype for t in _FEED_TYPES)


def _struct_time(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _entry_time(entry: Any, name: str, tz: str) -> datetime | None:
    """The raw string through dates.py (keeps the offset), else feedparser's UTC struct;
    none for a date dates.py refused (feedparser would roll "45 Jan" into February)."""
    if name not in entry:  # feedparser falls back from "updated" to "published" on .get()
        return None
    text = entry.get(name)
    parsed = read_datetime(text, tz)
    if isinstance(parsed, Refused):
        record(text, parsed)
        return None
    return parsed or _struct_time(entry.get(f"{name}_parsed"))


def _entry_body(entry: Any) -> str:
    detail = (entry.get("content") or [None])[0] or entry.get("summary_detail")
    if detail:
        value = detail.get("value") or ""
        plain = detail.get("type") == "text/plain"
        return plain_to_text(value) if plain else any_to_text(value)
    return any_to_text(entry.get("summary") or entry.get("description") or "")


def entry_post(entry: Any, base: str, tz: str) -> RawPost:
    """One feedparser entry → RawPost."""
    link = entry.get("link") or ""
    # None too for an Atom id such as urn:… that feedparser offers as the link
    url = web_url(link, base) if isinstance(link, str) and link.strip() else None
    guid = entry.get("id") or ""
    guid = guid.strip() if isinstance(guid, str) else ""
    updated = _entry_time(entry, "updated", tz)
    return RawPost(
        headline=clean_inline(entry.get("title") or ""),
        body=_entry_body(entry),
        # Entries with only one date (RSS 1.0's dc:date, Atom's <updated>) were published then.
        published_at=_entry_time(entry, "published", tz) or updated,
        updated_at=updated,
        url=url,
        key=f"guid:{guid}" if guid else url,
    )


def _next_link(parsed: Any, base: str, warnings: list[str]) -> str | None:
    """The first rel="next" link that is an http(s) URL (the first refused one is told)."""
    refused = False
    for link in parsed.feed.get("links") or []:
        href = link.get("href")
        if link.get("rel") != "next" or not href:
            continue
        url = web_url(href, base)
        if url is not None:
            return url
        if not refused:
            warnings.append(f"url: next-page link {href[:40]!r} refused: {refusal(href, base)}")
            refused = True
    return None


def _element_limit(body: bytes) -> int | None:
    """Where to cut a document of more than MAX_ELEMENTS elements (after the last entry that
    ends before the limit), or None. CDATA sections and comments hold no elements."""
    count, pos = 0, 0
    while (m := _MARKUP_RE.search(body, pos)) is not None:
        token = m[0]
        if token == b"<![CDATA[":
            end = body.find(b"]]>", m.end())
        elif token == b"<!--":
            end = body.find(b"-->", m.end())
        else:
            count += 1
            if count > MAX_ELEMENTS:
                ends = [e.end() for e in _ENTRY_END_RE.finditer(body, 0, m.start())]
                return ends[-1] if ends else m.start()
            end = m.end()
        if end < 0:
            return None
        pos = end
    return None


def parse_feed(
    body: bytes, url: str, *, timezone: str = "UTC", content_type: str | None = None
) -> PageExtraction:
    """Entries of an RSS/Atom document, newest-first as published; FeedError when not a feed.

    A malformed document keeps the entries read before the fault, with a warning.
    """
    decoded = decode(body, header_charset(content_type), what="feed")
    # Decoded once here: feedparser gets UTF-8 and is told so, or it would guess again (a UTF-8
    # document cut inside a character failed its UTF-8 and came out as ISO-8859-2).
    body = decoded.text.encode("utf-8")
    check_document(body)  # on UTF-8: "<!ENTITY" in a UTF-16 document is found too
    warnings = list(decoded.warnings)
    cut = _element_limit(body)
    if cut is not None:
        body = body[:cut]
        kept = len(_ENTRY_END_RE.findall(body))
        warnings.append(
            f"feed: more than {MAX_ELEMENTS} XML elements: only the first {kept} entries read"
        )
    media_type = (content_type or "").split(";")[0].strip() or "application/xml"
    headers = {"content-location": url, "content-type": f"{media_type}; charset=utf-8"}
    # A stream, never the bytes: feedparser tries to open() bytes as a file name first, so a
    # body reading "/etc/passwd" would have it parse that file.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = parsed.get("version", "")
    entries = parsed.get("entries") or []
    if not version and not entries:
        reason = parsed.get("bozo_exception") if parsed.get("bozo") else "no RSS or Atom root"
        raise FeedError(f"feed: not a feed: {reason}")
    result = PageExtraction(path="feed", warnings=warnings)
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        if isinstance(exc, SAXException):
            # An entry cut by the end of a truncated document is partial: leave it out.
            entries = entries[: len(_ENTRY_END_RE.findall(body))]
            result.warnings.append(f"feed: malformed XML, kept {len(entries)} entries: {exc}")
        else:
            result.warnings.append(f"feed: {type(exc).__name__}: {exc}")
    guard = Guard(url)
    for entry in entries:
        post = guard.run("feed: an entry", lambda e=entry: entry_post(e, url, timezone), None)
        if post is not None and (post.headline or post.body or post.url):
            result.posts.append(post)
    result.next_url = guard.run(
        "feed: next link", lambda: _next_link(parsed, url, result.warnings), None
    )
    result.warnings.extend(guard.warnings())
    return result
