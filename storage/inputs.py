"""What storage reads of what it is handed: the attributes of a crawl and of its posts.

Protocols, so that whatever carries these attributes can be stored without being copied
(the crawler's `RawPost` and `CrawlResult` do, structurally: storage never imports the
crawler). A field the writers or the dedup rules start reading is added here first; the
test in tests/storage/test_inputs.py keeps the crawler's dataclasses and the cleaned copy
(`storage/clean.py`) in line with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol


class PostIn(Protocol):
    """One post as extracted from a page or feed, as the page shows it: nothing merged,
    no key rewritten (see `storage/dedup.py` and `storage/dedup_page.py` for what each
    field means to identity)."""

    @property
    def headline(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def key(self) -> str | None: ...
    @property
    def alt_keys(self) -> tuple[str, ...]: ...
    @property
    def highlighted(self) -> bool: ...
    @property
    def time_approximate(self) -> bool: ...
    @property
    def anchor(self) -> str | None: ...
    @property
    def in_key_moments(self) -> bool: ...


class ValidatorsIn(Protocol):
    """The HTTP validators of one URL, as the server sent them."""

    @property
    def etag(self) -> str | None: ...
    @property
    def last_modified(self) -> str | None: ...


class CrawlIn(Protocol):
    """One crawl of one source: its posts and what the crawl record and the source's row
    say of it."""

    @property
    def posts(self) -> Sequence[PostIn]: ...
    @property
    def status(self) -> str: ...  # ok | not_modified | error | gone
    @property
    def http_status(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def warnings(self) -> Sequence[str]: ...
    @property
    def validators(self) -> Mapping[str, ValidatorsIn]: ...
    @property
    def ended(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def pages(self) -> int: ...
    @property
    def paginated(self) -> bool: ...  # a page read linked to a next one (rel="next")
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def duration(self) -> float: ...
