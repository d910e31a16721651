"""Page extraction: HTML → `RawPost`s, by selectors, structured data or the generic detector.

`page.extract_page` is the entry point; the modules beside it each own one way of finding
posts. This package holds only what they share: the error type and the (post, element) pair
an extractor returns so that the page can later tell which element a post came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from crawler.guard import DocumentError
from crawler.models import RawPost


class ExtractError(DocumentError):
    """A page that cannot be read at all (not a bad post: those are skipped)."""


@dataclass(slots=True)
class Found:
    """One extracted post and the HTML element it was read from (None for JSON-LD only)."""

    post: RawPost
    element: etree._Element | None = None
