"""From a downloaded document to posts: feed or page, by the source's kind and the bytes.

`kind = "auto"` looks at the document: a feed when it is one, else a live-blog page.
A page from which nothing could be extracted, and that does not declare itself a live blog,
is an error ("no posts found"), never an empty success. Whatever a document yields goes
through the crawler's output edge (crawler.sanitize), and the dates refused on the way
(crawler.daterange) are told in one warning.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crawler import daterange
from crawler.encoding import header_charset
from crawler.extract.page import extract_page
from crawler.feeds import FeedError, looks_like_feed, parse_feed
from crawler.models import PageExtraction, SourceSpec
from crawler.sanitize import clean_extraction


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
    """Posts of one document, cleaned; raises FeedError, ExtractError or NoPostsError when
    there are none to have. `now` is when the server rendered it (its Date header, else the
    fetch time); post times more than 2 days after it are refused."""
    now = now or datetime.now(UTC)
    as_feed = spec.kind == "feed" or (spec.kind == "auto" and looks_like_feed(body, content_type))
    if spec.kind == "liveblog" and looks_like_feed(body, content_type) and not spec.selectors:
        raise FeedError('page: expected a live-blog page but got a feed (use kind = "feed")')
    with daterange.collecting() as refused:
        if as_feed:
            tz = spec.timezone or "UTC"  # feed dates carry their offset (RFC 822, RFC 3339)
            found = parse_feed(body, url, timezone=tz, content_type=content_type)
        else:
            found = _page(body, url, spec, content_type, now)
    note = daterange.summary(refused)
    if note:
        found.warnings.append(note)
    clean_extraction(found, url, now=now, feed=as_feed)
    if not as_feed:
        _check_found(found, spec, had_posts)
    return found


def _page(
    body: bytes, url: str, spec: SourceSpec, content_type: str | None, now: datetime
) -> PageExtraction:
    return extract_page(
        body,
        url,
        timezone=spec.timezone,
        selectors=spec.selectors,
        now=now,
        language=spec.language,
        encoding=header_charset(content_type),
    )


def _check_found(page: PageExtraction, spec: SourceSpec, had_posts: bool) -> None:
    # An empty LiveBlogPosting is a blog that has not started: fine, unless it had posts.
    if page.posts or (page.is_liveblog and not had_posts):
        return
    if spec.selectors:
        message = (
            f"page: no posts found: selector post = {spec.selectors.post!r} matched nothing"
            " (page structure changed?)"
        )
    elif had_posts:
        message = "page: no posts found: page structure changed?"
    else:
        message = (
            "page: no posts found: no LiveBlogPosting data and no recognisable post list"
            " (add [sources.selectors])"
        )
    failed = next((w for w in page.warnings if "skipped after an error" in w), None)
    raise NoPostsError(f"{message}; {failed}" if failed else message)
