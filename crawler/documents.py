"""From a downloaded document to posts: feed or page, by the source's kind and the bytes.

`kind = "auto"` looks at the document: a feed when it is one, else a live-blog page.
A page from which nothing could be extracted, and that does not declare itself a live blog,
is an error ("no posts found"), never an empty success.
"""

from __future__ import annotations

from datetime import datetime

from crawler.encoding import decode_page, header_charset
from crawler.extract.page import extract_page
from crawler.feeds import FeedError, looks_like_feed, parse_feed
from crawler.models import PageExtraction, SourceSpec


class NoPostsError(Exception):
    """A page where no extraction path found any post."""


def extract_document(
    body: bytes,
    url: str,
    spec: SourceSpec,
    *,
    content_type: str | None = None,
    now: datetime | None = None,
    had_posts: bool = False,
) -> PageExtraction:
    """Posts of one document; raises FeedError, ExtractError or NoPostsError when there are
    none to have. `now` is when the server rendered it (its Date header, else the fetch time)."""
    as_feed = spec.kind == "feed" or (spec.kind == "auto" and looks_like_feed(body, content_type))
    if as_feed:
        tz = spec.timezone or "UTC"  # feed dates carry their offset (RFC 822, RFC 3339)
        return parse_feed(body, url, timezone=tz, content_type=content_type)
    if spec.kind == "liveblog" and looks_like_feed(body, content_type) and not spec.selectors:
        raise FeedError('page: expected a live-blog page but got a feed (use kind = "feed")')
    text, _, warnings = decode_page(body, header_charset(content_type))
    page = extract_page(
        text,
        url,
        timezone=spec.timezone,
        selectors=spec.selectors,
        now=now,
        language=spec.language,
    )
    page.warnings[:0] = warnings
    # An empty LiveBlogPosting is a blog that has not started: fine, unless it had posts.
    if not page.posts and (had_posts or not page.is_liveblog):
        if spec.selectors:
            raise NoPostsError(
                f"page: no posts found: selector post = {spec.selectors.post!r} matched nothing"
                " (page structure changed?)"
            )
        if had_posts:
            raise NoPostsError("page: no posts found: page structure changed?")
        raise NoPostsError(
            "page: no posts found: no LiveBlogPosting data and no recognisable post list"
            " (add [sources.selectors])"
        )
    return page
