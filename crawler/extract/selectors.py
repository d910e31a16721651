"""`[sources.selectors]` → posts: CSS or XPath expressions chosen by the source's config.

Owns evaluating the configured expressions over the page's lxml tree. An expression starting
with "/", "./", "(", "@" (or "..") is XPath, anything else CSS, translated to XPath the way
parsel does (its `::text` and `::attr(x)` included). Expressions are compiled once and cached.
Expressions other than `post` are evaluated inside each post element.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.dates import parse_date_only, parse_datetime, zone
from crawler.extract import ExtractError, Found
from crawler.guard import Guard
from crawler.models import RawPost, Selectors
from crawler.relative import parse_ago
from crawler.text import clean_inline, html_to_text
from crawler.urls import canonical_url, is_absolute, live_blog_url

XPATH_STARTS = ("/", "./", "(", "@", "..")
_CSS = HTMLTranslator()


def is_xpath(expression: str) -> bool:
    """True when the expression is XPath rather than CSS."""
    return expression.lstrip().startswith(XPATH_STARTS)


@lru_cache(maxsize=256)
def compile_expression(expression: str) -> etree.XPath:
    """The compiled XPath of a CSS or XPath expression; ExtractError when it is not valid."""
    try:
        xpath = expression.strip() if is_xpath(expression) else _CSS.css_to_xpath(expression)
        return etree.XPath(xpath)
    except (SelectorError, etree.XPathError, ValueError) as exc:
        raise ExtractError(f"selectors: invalid expression {expression!r}: {exc}") from exc


def check_expression(expression: str) -> str | None:
    """Why an expression is not valid (for config validation), or None when it is."""
    try:
        compile_expression(expression)
    except ExtractError as exc:
        return str(exc)
    return None


def select(context: etree._Element, expression: str) -> list[Any]:
    """Matches of an expression inside `context`: elements and/or strings."""
    try:
        found = compile_expression(expression)(context)
    except etree.XPathError as exc:
        raise ExtractError(f"selectors: cannot evaluate {expression!r}: {exc}") from exc
    return found if isinstance(found, list) else [found]


def _elements(found: list[Any]) -> list[etree._Element]:
    return [x for x in found if isinstance(x, etree._Element)]


def _strings(found: list[Any]) -> list[str]:
    """Every match as text: strings as they are, elements as their text with spaced blocks."""
    return [" ".join(x.itertext()) if isinstance(x, etree._Element) else str(x) for x in found]


def _datetime_attr(elements: list[etree._Element]) -> str | None:
    """A machine-readable time on the matched element or a `<time>` inside it."""
    for el in elements:
        for cand in (el, *el.iter("time")):
            value = cand.get("datetime") or (cand.get("content") if cand is el else None)
            if value:
                return value
    return None


def _published(
    post: etree._Element,
    spec: Selectors,
    tz: str,
    default_date: date | None,
    now: datetime | None,
    languages: tuple[str, ...] = (),
) -> tuple[datetime | None, bool]:
    """The post's time, and whether it is approximate (read from a relative text)."""
    found = select(post, spec.published) if spec.published else list(post.iter("time"))
    value = _datetime_attr(_elements(found))
    if value:
        parsed = parse_datetime(value, tz, default_date=default_date)
        if parsed is not None:
            return parsed, False
    text = clean_inline(" ".join(_strings(found)))
    ago = parse_ago(text)
    if ago is not None:  # "5 min ago": against the fetch, approximate
        return ago.before(now or datetime.now(UTC), zone(tz)), True
    parsed = parse_datetime(text, tz, default_date=default_date, languages=languages)
    # A clock alone took the page's date: a time later than now belongs to the day before.
    if parsed and now and parse_date_only(text) is None and parsed > now + timedelta(hours=1):
        parsed -= timedelta(days=1)
    return parsed, False


def _key(post: etree._Element, spec: Selectors, page: str) -> str | None:
    if not spec.id:
        return None
    values = [v.strip() for v in _strings(select(post, spec.id)) if v.strip()]
    if not values:
        return None
    value = values[0]
    if is_absolute(value) or value.startswith(("/", "#", "?")):
        return canonical_url(value, page)
    return f"{page}#{value}"


def read_post(
    post: etree._Element,
    spec: Selectors,
    page: str,
    *,
    timezone: str = "UTC",
    default_date: date | None = None,
    now: datetime | None = None,
    languages: tuple[str, ...] = (),
) -> RawPost:
    """One post element → RawPost (a missing headline is "", a missing body the rest)."""
    headline_found = select(post, spec.headline)[:1] if spec.headline else []
    headline = clean_inline(" ".join(_strings(headline_found)))
    if spec.body:
        body_found = select(post, spec.body)
        parts = [
            html_to_text(x) if isinstance(x, etree._Element) else clean_inline(str(x))
            for x in body_found
        ]
        body = "\n\n".join(p for p in parts if p)
    else:
        skip = set(_elements(headline_found))
        if spec.published:
            skip.update(_elements(select(post, spec.published)))
        body = html_to_text(post, skip=skip)
    key = _key(post, spec, page)
    published, approximate = _published(post, spec, timezone, default_date, now, languages)
    return RawPost(
        headline=headline,
        body=body,
        published_at=published,
        url=key or page,
        key=key,
        time_approximate=approximate,
    )


def extract_selectors(
    root: etree._Element,
    page_url: str,
    spec: Selectors,
    *,
    timezone: str = "UTC",
    default_date: date | None = None,
    now: datetime | None = None,
    languages: tuple[str, ...] = (),
    guard: Guard | None = None,
) -> list[Found]:
    """Every element matched by `spec.post` that holds a headline or a body, in page order.

    A post that fails to read is skipped (told by `guard`); an invalid expression
    (ExtractError) fails the page."""
    guard = guard or Guard(page_url)
    page = live_blog_url(page_url)
    found = []
    for post in _elements(select(root, spec.post)):
        raw = guard.run(
            "selectors: a post",
            lambda p=post: read_post(
                p,
                spec,
                page,
                timezone=timezone,
                default_date=default_date,
                now=now,
                languages=languages,
            ),
            None,
        )
        if raw is not None and (raw.headline or raw.body):
            found.append(Found(raw, post))
    return found
