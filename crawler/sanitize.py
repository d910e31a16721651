"""What leaves the crawler is clean: the output edge of every document and every crawl.

Owns the characters no text the crawler hands on may hold (C0 controls but newline and tab,
DEL, C1 controls, lone surrogates, Unicode non-characters: PostgreSQL refuses NUL, SQLite
stores it and C strings stop there, a terminal obeys ESC), the rule that a post's url and the
next page are http(s) URLs or nothing, and the post times believed against the fetch time
(crawler.daterange). Zero-width and bidi characters are content: they stay.

`clean_extraction` runs once per document (crawler.documents), `clean_result` once per crawl
result (the spider, when the job finishes). What they drop or refuse becomes one warning per
kind, which lands in the source's `last_error`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from crawler.daterange import edge_refusal
from crawler.models import CrawlResult, PageExtraction, RawPost, Validators
from crawler.urls import MAX_URL_LENGTH, live_blog_url, refusal

_NON_CHARACTERS = "".join(chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
_UNSAFE_RE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NON_CHARACTERS}]"
)
# A class holding the non-characters past the BMP scans some 15 times slower than one
# without them: it only runs on a text with an unsafe character of the BMP or with any
# character past the BMP (an emoji, say).
_BMP_UNSAFE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_PAST_BMP_RE = re.compile("[^\x00-\uffff]")
_HEADER_UNSAFE_RE = re.compile("[^\x20-\x7e\x80-\xff]")
MAX_KEY_LENGTH = MAX_URL_LENGTH


def clean_text(text: str) -> str:
    """The text without the characters no stored text may hold; CR and CRLF become LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_RE.sub("", text) if _may_be_unsafe(text) else text


def has_unsafe(text: str) -> bool:
    """True when the text holds a character `clean_text` removes (CR included)."""
    return "\r" in text or (_may_be_unsafe(text) and _UNSAFE_RE.search(text) is not None)


def _may_be_unsafe(text: str) -> bool:
    if _BMP_UNSAFE_RE.search(text) is not None:
        return True
    return not text.isascii() and _PAST_BMP_RE.search(text) is not None


@dataclass(slots=True)
class _Tally:
    """What the edge dropped in one document, counted by kind, with the first example."""

    counts: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, example: str) -> None:
        self.counts[kind] += 1
        self.first.setdefault(kind, example)

    def warnings(self) -> list[str]:
        return [f"{kind} ({n}, first: {self.first[kind]})" for kind, n in self.counts.items()]


def _clean_key(key: str | None, tally: _Tally) -> str | None:
    if key is None:
        return None
    key = clean_text(key).strip()
    if len(key) > MAX_KEY_LENGTH:
        tally.add("page: post ids longer than 4096 characters ignored", f"{key[:40]!r}…")
        return None
    return key or None


def _clean_url(url: str | None, fallback: str | None, tally: _Tally) -> str | None:
    if url is None:
        return None
    why = refusal(url)
    if why is None:
        return clean_text(url)  # controls a browser would have percent-encoded
    tally.add("url: post links that are not http(s) URLs dropped", f"{url[:40]!r}: {why}")
    return fallback


def _clean_time(when: datetime | None, now: datetime, feed: bool, tally: _Tally) -> datetime | None:
    if when is None:
        return None
    why = edge_refusal(when, now, feed=feed)
    if why is None:
        return when
    tally.add("dates: post times refused, left empty", f"{when.isoformat()}: {why}")
    return None


def clean_post(
    post: RawPost, *, page: str | None, now: datetime, feed: bool, tally: _Tally
) -> None:
    """Clean one post in place: text, url (else `page`), keys and times."""
    post.headline = clean_text(post.headline)
    post.body = clean_text(post.body)
    post.url = _clean_url(post.url, page, tally)
    post.key = _clean_key(post.key, tally)
    post.alt_keys = tuple(k for k in (_clean_key(k, tally) for k in post.alt_keys) if k)
    post.anchor = _clean_key(post.anchor, tally)
    post.published_at = _clean_time(post.published_at, now, feed, tally)
    post.updated_at = _clean_time(post.updated_at, now, feed, tally)


def clean_extraction(
    extraction: PageExtraction, url: str, *, now: datetime, feed: bool
) -> PageExtraction:
    """Clean what one document yielded, in place: posts, next page, warnings.

    `url` is the document's URL: a page's post without a web url gets the live blog's URL (as
    a post without any url does); a feed entry's gets none.
    """
    tally = _Tally()
    page = None if feed else live_blog_url(url)
    for post in extraction.posts:
        clean_post(post, page=page, now=now, feed=feed, tally=tally)
    extraction.posts = [p for p in extraction.posts if p.headline or p.body or (feed and p.url)]
    if extraction.next_url is not None:
        why = refusal(extraction.next_url)
        if why is not None:
            tally.add("url: next-page link refused", f"{extraction.next_url[:40]!r}: {why}")
            extraction.next_url = None
    extraction.warnings = clean_messages([*extraction.warnings, *tally.warnings()])
    return extraction


MAX_MESSAGES = 50  # last_error keeps 2,000 characters of them anyway


def clean_messages(messages: list[str]) -> list[str]:
    """Messages cleaned, on one line each, each once, the first MAX_MESSAGES."""
    cleaned = (" ".join(clean_text(m).split()) for m in messages)
    return list(dict.fromkeys(m for m in cleaned if m))[:MAX_MESSAGES]


def _clean_validator(value: str | None) -> str | None:
    """A validator echoed back in a request header: refused when no header could carry it."""
    if value is None or _HEADER_UNSAFE_RE.search(value) or len(value) > 1024:
        return None
    return value


def clean_result(result: CrawlResult) -> CrawlResult:
    """Clean a crawl result in place: its error, warnings, validators (posts are clean)."""
    if result.error is not None:
        result.error = " ".join(clean_text(result.error).split())
    result.warnings = clean_messages(result.warnings)
    for url, found in list(result.validators.items()):
        etag, modified = _clean_validator(found.etag), _clean_validator(found.last_modified)
        if etag or modified:
            result.validators[url] = Validators(etag, modified)
        else:
            del result.validators[url]
    return result
