"""schema.org `LiveBlogPosting` in microdata (itemscope/itemprop) → posts and coverage times.

Owns reading microdata straight from the lxml tree: an item's properties are the `itemprop`
elements below it that do not belong to a nested `itemscope`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from lxml import etree

from crawler.daterange import EARLIEST_LIVE
from crawler.dates import parse_datetime
from crawler.extract import Found
from crawler.guard import Guard
from crawler.models import RawPost
from crawler.text import clean_inline, html_to_text
from crawler.urls import canonical_url, live_blog_url

_NON_BODY_PROPS = ("headline", "name", "datePublished", "dateModified", "author", "publisher")


@dataclass(slots=True)
class MicrodataBlog:
    """What the microdata of one page says about its live blog."""

    found: list[Found] = field(default_factory=list)
    is_liveblog: bool = False
    coverage_start: datetime | None = None
    coverage_end: datetime | None = None
    ended: bool = False


def _has_token(value: str | None, token: str) -> bool:
    return bool(value) and token in value.split()


# Properties whose nearest itemscope ancestor is the item itself (`$scope`).
_OWN_PROPS = etree.XPath(".//*[@itemprop][count(ancestor::*[@itemscope][1] | $scope) = 1]")


def properties(scope: etree._Element) -> dict[str, list[etree._Element]]:
    """The item's own properties: itemprop elements not inside a nested itemscope."""
    props: dict[str, list[etree._Element]] = {}
    for el in _OWN_PROPS(scope, scope=scope):
        for name in el.get("itemprop", "").split():
            props.setdefault(name, []).append(el)
    return props


def prop_text(el: etree._Element) -> str:
    """The value of a property as text (meta content, time datetime, link href, or text)."""
    for attr in ("content", "datetime"):
        value = el.get(attr)
        if value is not None:
            return value.strip()
    if el.tag in ("a", "link", "area") and el.get("href"):
        return el.get("href", "").strip()
    return clean_inline("".join(el.itertext()))


def _first(props: dict[str, list[etree._Element]], *names: str) -> etree._Element | None:
    """The first element of the first property present (elements are never truth-tested)."""
    for name in names:
        found = props.get(name)
        if found:
            return found[0]
    return None


def _time(
    props: dict[str, list[etree._Element]], name: str, tz: str, default_date: date | None
) -> datetime | None:
    el = _first(props, name)
    return parse_datetime(prop_text(el), tz, default_date=default_date) if el is not None else None


def _key(item: etree._Element, props: dict[str, list[etree._Element]], page: str) -> str | None:
    if item.get("id"):
        return f"{page}#{item.get('id', '').strip()}"
    if item.get("itemid"):
        return canonical_url(item.get("itemid", ""), page)
    url = _first(props, "url")
    if url is not None and prop_text(url):
        return canonical_url(prop_text(url), page)
    return None


def read_update(
    item: etree._Element, page: str, tz: str, default_date: date | None = None
) -> RawPost:
    """One `liveBlogUpdate` item → RawPost (body from articleBody, else the item's text)."""
    props = properties(item)
    headline = _first(props, "headline", "name")
    body = _first(props, "articleBody", "text")
    if body is not None:
        text = html_to_text(body) if body.get("content") is None else body.get("content", "")
    else:
        skip = {el for name in _NON_BODY_PROPS for el in props.get(name, ())}
        text = html_to_text(item, skip=skip)
    key = _key(item, props, page)
    return RawPost(
        headline=prop_text(headline) if headline is not None else "",
        body=text,
        published_at=_time(props, "datePublished", tz, default_date),
        updated_at=_time(props, "dateModified", tz, default_date),
        url=key if key and key.startswith(("http://", "https://")) else page,
        key=key,
    )


def _blog_scopes(root: etree._Element) -> list[etree._Element]:
    # the elements of "//*[@itemscope][…]", found by the attributes: faster
    return root.xpath("//@itemscope/parent::*[contains(@itemtype, 'LiveBlogPosting')]")


def _updates(scopes: Iterable[etree._Element]) -> list[etree._Element]:
    out: list[etree._Element] = []
    seen: set[etree._Element] = set()
    # the elements of "//*[@itemprop][…]", found by the attributes: faster
    query = ".//*/@itemprop[contains(concat(' ', normalize-space(.), ' '), ' liveBlogUpdate ')]/.."
    for scope in scopes:
        for el in scope.xpath(query):
            if el not in seen:
                seen.add(el)
                out.append(el)
    return out


def extract_microdata(
    root: etree._Element,
    page_url: str,
    *,
    timezone: str = "UTC",
    now: datetime | None = None,
    default_date: date | None = None,
    with_posts: bool = True,
    guard: Guard | None = None,
) -> MicrodataBlog:
    """Posts of the page's microdata LiveBlogPosting (or of stray liveBlogUpdate items).

    With `with_posts=False` only the declaration and the coverage times are read. An item
    that fails to read is skipped (told by `guard`), the others kept.
    """
    guard = guard or Guard(page_url)
    result = MicrodataBlog()
    page = live_blog_url(page_url)
    scopes = _blog_scopes(root)
    result.is_liveblog = bool(scopes)
    for scope in scopes:
        props = properties(scope)
        result.coverage_start = result.coverage_start or _time(
            props, "coverageStartTime", timezone, None
        )
        result.coverage_end = result.coverage_end or _time(props, "coverageEndTime", timezone, None)
    for item in _updates(scopes or [root]) if with_posts else ():
        post = guard.run(
            "microdata: an update",
            lambda i=item: read_update(i, page, timezone, default_date),
            None,
        )
        if post is not None and (post.headline or post.body):
            result.found.append(Found(post, item))
    moment = now or datetime.now(UTC)
    end = result.coverage_end
    result.ended = end is not None and EARLIEST_LIVE <= end <= moment  # earlier: unset
    return result
