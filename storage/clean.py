"""The store's last line of defence on text: what it writes holds no control characters.

A scraped page can carry NUL (PostgreSQL refuses it in text, SQLite truncates it in some
tools), other C0/C1 controls (terminal escapes, backspaces), lone surrogates (they fail to
encode as UTF-8) and bare carriage returns. The crawler cleans its output too; this module
makes sure that whatever reaches `storage.writes` is clean, whoever produced it: newline
and tab are kept, CR LF and a lone CR become a newline, every other control is dropped.

Cleaning happens before dedup hashes are computed, so a post is hashed as it is stored.
"""

from __future__ import annotations

import dataclasses
import re

from crawler.models import CrawlResult, RawPost, Validators

# C0 controls but \t and \n, DEL, C1 controls, and UTF-16 surrogates (never valid alone).
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CR = re.compile("\r\n?")


def clean_text(text: str) -> str:
    """`text` without control characters other than newline and tab (CR/CRLF -> newline)."""
    if "\r" in text:
        text = _CR.sub("\n", text)
    if _UNWANTED.search(text) is None:
        return text
    return _UNWANTED.sub("", text)


def clean_optional(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def clean_post(post: RawPost) -> RawPost:
    """The post with every text field clean (the same object when it already was)."""
    fields = {
        "headline": clean_text(post.headline),
        "body": clean_text(post.body),
        "url": clean_optional(post.url),
        "key": clean_optional(post.key),
        "alt_keys": tuple(clean_text(k) for k in post.alt_keys),
    }
    if all(getattr(post, k) == v for k, v in fields.items()):
        return post
    return dataclasses.replace(post, **fields)


def clean_result(result: CrawlResult) -> CrawlResult:
    """The crawl result with its posts, error, warnings and validators clean."""
    validators = {
        clean_text(url): Validators(clean_optional(v.etag), clean_optional(v.last_modified))
        for url, v in result.validators.items()
    }
    return dataclasses.replace(
        result,
        posts=[clean_post(p) for p in result.posts],
        error=clean_optional(result.error),
        warnings=[clean_text(w) for w in result.warnings],
        validators=validators,
    )
