"""The store's last line of defence on text: what it writes holds no control characters.

A scraped page can carry NUL (PostgreSQL refuses it in text, SQLite truncates it in some
tools), other C0/C1 controls (terminal escapes, backspaces), lone surrogates (they fail to
encode as UTF-8) and bare carriage returns. The crawler cleans its output too; this module
makes sure that whatever reaches the writers is clean, whoever produced it: newline and tab
are kept, CR LF and a lone CR become a newline, every other control is dropped.

Posts are cleaned before dedup hashes are computed, so a post is hashed as it is stored;
the crawl's own texts (error, warnings, validators) are cleaned where they are written.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from storage.inputs import PostIn

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


@dataclass(frozen=True, slots=True)
class CleanPost:
    """A copy of a post (`PostIn`) whose texts had to be cleaned; a clean post is stored as
    it was handed over, without a copy."""

    headline: str
    body: str
    published_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    key: str | None = None
    alt_keys: tuple[str, ...] = ()
    highlighted: bool = False
    time_approximate: bool = False
    anchor: str | None = None
    in_key_moments: bool = False


POST_FIELDS = tuple(f.name for f in dataclasses.fields(CleanPost))


def clean_post(post: PostIn) -> PostIn:
    """The post with every text field clean (the same object when it already was)."""
    texts = {
        "headline": clean_text(post.headline),
        "body": clean_text(post.body),
        "url": clean_optional(post.url),
        "key": clean_optional(post.key),
        "alt_keys": tuple(clean_text(k) for k in post.alt_keys),
        "anchor": clean_optional(post.anchor),
    }
    if all(getattr(post, k) == v for k, v in texts.items()):
        return post
    return CleanPost(**({name: getattr(post, name) for name in POST_FIELDS} | texts))
