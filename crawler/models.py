"""What the crawler hands on: extracted posts and the outcome of one crawl of one source;
and what it is handed: the source, and what the store already holds of it.

These plain dataclasses are the whole interface between `crawler/` and the rest: storage
receives `CrawlResult`s (storage/inputs.py says what it reads of them) and never sees
Scrapy objects; the crawler never sees the store, only the `KnownPosts` the scheduler
hands it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(slots=True)
class RawPost:
    """One post of a live blog or one feed entry, as extracted, before any merging.

    Facts, as the page gives them: the crawler merges no copies and gives no post another's
    key; whether two posts are one (a key shared by different posts, ids that only count the
    posts, a key-moments copy and its stream post) is storage/dedup_page.py's decision. (A
    key equal to the page's own URL, or past 4096 characters, is no key at all: None.)

    `key` is the publisher's identity for the post when it has one (JSON-LD url/@id, element
    id, feed guid, canonical link without tracking parameters), as published, else None.
    `alt_keys` holds further ids the publisher gives the same post. `anchor` is the URL of
    the page element the post was found at (`page#id`, when that element has an id): the
    element a structured post's id names, even when the id is not the element's own
    ("646219" → "block-646219"). `highlighted`: the page shows the post among its key moments
    (inside that block, linked from it, or its headline there); `in_key_moments`: this copy
    of it is the one inside the block (a stream post usually repeats it). Times are
    timezone-aware; `time_approximate` marks a time read from a relative text ("5 min ago"):
    floored to the unit printed, and never a reason to move a stored post's time.
    """

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


@dataclass(slots=True)
class Validators:
    """HTTP validators of one URL, echoed back exactly as the server sent them."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class PageExtraction:
    """What one HTML page or feed document yielded."""

    posts: list[RawPost] = field(default_factory=list)
    path: str = ""  # jsonld, microdata, structured, selectors, detected, embedded, feed
    ended: bool = False  # coverageEndTime reached
    next_url: str | None = None  # rel="next" pagination
    is_liveblog: bool = False  # the page declares itself a live blog (LiveBlogPosting)
    warnings: list[str] = field(default_factory=list)
    timezone: str = ""  # the zone clocks without an offset were read in
    timezone_from: str = ""  # why: "configured", "the page says 'All times are UK'", ...


@dataclass(slots=True)
class CrawlResult:
    """The outcome of crawling one source once: posts, validators, or an error as a value."""

    source: str
    url: str
    posts: list[RawPost] = field(default_factory=list)
    status: str = "ok"  # ok | not_modified | error | gone
    http_status: int | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)  # what was odd but did not stop it
    validators: dict[str, Validators] = field(default_factory=dict)
    ended: bool = False
    retry_after: float | None = None  # the server asked for this many seconds of rest
    path: str = ""
    paginated: bool = False  # a page read linked to one more (rel="next"), followed or not
    timezone: str = ""  # the zone of the first page's clocks, and why (PageExtraction's)
    timezone_from: str = ""
    pages: int = 0
    started_at: datetime | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "not_modified")


class KnownPosts(Protocol):
    """What the store already holds of a source, asked to decide on pagination: a crawl
    that is not full reads the next page only while the pages read so far hold a post that
    is not stored unchanged (the scheduler passes the store's answer, read before the
    crawl: asking costs no I/O)."""

    def __contains__(self, post: RawPost, /) -> bool: ...


@dataclass(slots=True, frozen=True)
class Selectors:
    """`[sources.selectors]`: CSS or XPath expressions for pages without structured data.

    `post` selects one element per post; the others are evaluated inside each post element.
    An expression starting with "/", "./" or "@" (or "(") is XPath, anything else CSS.
    """

    post: str
    headline: str | None = None
    published: str | None = None
    body: str | None = None
    id: str | None = None


@dataclass(slots=True, frozen=True)
class SourceSpec:
    """What the crawler needs to know about one source (built from the validated config)."""

    name: str
    url: str
    kind: str = "auto"  # liveblog | feed | auto
    timezone: str | None = None  # None: taken from each page (extract/zones.py)
    language: str | None = None
    selectors: Selectors | None = None
    max_pages: int = 20  # rel="next" pages followed on a full crawl
