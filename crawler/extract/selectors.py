"""`[sources.selectors]` → posts: CSS or XPath expressions chosen by the source's config.

Owns evaluating the configured expressions with parsel over the page's lxml tree. An expression
starting with "/", "./", "(", "@" (or "..") is XPath, anything else CSS (parsel's `::text` and
`::attr(x)` included). Expressions other than `post` are evaluated inside each post element.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from lxml import etree
from parsel import Selector, SelectorList

from crawler.dates import parse_date_only, parse_datetime
from crawler.extract import ExtractError, Found
from crawler.models import RawPost, Selectors
from crawler.text import clean_inline, html_to_text
from crawler.urls import canonical_url, is_absolute, without_fragment

XPATH_STARTS = ("/", "./", "(", "@", "..")


def is_xpath(expression: str) -> bool:
    """True when the expression is XPath rather than CSS."""
    return expression.lstrip().startswith(XPATH_STARTS)


def select(sel: Selector, expression: str) -> SelectorList[Selector]:
    """Evaluate a CSS or XPath expression; ExtractError when it is not valid."""
    try:
        return sel.xpath(expression) if is_xpath(expression) else sel.css(expression)
    except (ValueError, etree.XPathError) as exc:  # parsel raises ValueError for bad XPath/CSS
        raise ExtractError(f"selectors: invalid expression {expression!r}: {exc}") from exc


def _elements(found: SelectorList[Selector]) -> list[etree._Element]:
    return [s.root for s in found if isinstance(s.root, etree._Element)]


def _strings(found: SelectorList[Selector]) -> list[str]:
    """Every match as text: strings as they are, elements as their text with spaced blocks."""
    out = []
    for s in found:
        if isinstance(s.root, etree._Element):
            out.append(" ".join(s.root.itertext()))
        else:
            out.append(str(s.root))
    return out


def _datetime_attr(elements: list[etree._Element]) -> str | None:
    """A machine-readable time on the matched element or a `<time>` inside it."""
    for el in elements:
        for cand in (el, *el.iter("time")):
            value = cand.get("datetime") or (cand.get("content") if cand is el else None)
            if value:
                return value
    return None


def _published(
    post: Selector, spec: Selectors, tz: str, default_date: date | None, now: datetime | None
) -> datetime | None:
    found = select(post, spec.published) if spec.published else post.xpath(".//time")
    value = _datetime_attr(_elements(found))
    if value:
        parsed = parse_datetime(value, tz, default_date=default_date)
        if parsed is not None:
            return parsed
    text = clean_inline(" ".join(_strings(found)))
    parsed = parse_datetime(text, tz, default_date=default_date)
    # A clock alone took the page's date: a time later than now belongs to the day before.
    if parsed and now and parse_date_only(text) is None and parsed > now + timedelta(hours=1):
        parsed -= timedelta(days=1)
    return parsed


def _key(post: Selector, spec: Selectors, page: str) -> str | None:
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
    post: Selector,
    spec: Selectors,
    page: str,
    *,
    timezone: str = "UTC",
    default_date: date | None = None,
    now: datetime | None = None,
) -> RawPost:
    """One post element → RawPost (a missing headline is "", a missing body the rest)."""
    headline_found = select(post, spec.headline) if spec.headline else SelectorList()
    headline = clean_inline(" ".join(_strings(headline_found[:1])))
    if spec.body:
        body_found = select(post, spec.body)
        parts = [html_to_text(el) for el in _elements(body_found)]
        parts += [clean_inline(s.root) for s in body_found if isinstance(s.root, str)]
        body = "\n\n".join(p for p in parts if p)
    else:
        skip = set(_elements(headline_found))
        if spec.published:
            skip.update(_elements(select(post, spec.published)))
        body = html_to_text(post.root, skip=skip)
    key = _key(post, spec, page)
    return RawPost(
        headline=headline,
        body=body,
        published_at=_published(post, spec, timezone, default_date, now),
        url=key or page,
        key=key,
    )


def extract_selectors(
    root: etree._Element,
    page_url: str,
    spec: Selectors,
    *,
    timezone: str = "UTC",
    default_date: date | None = None,
    now: datetime | None = None,
) -> list[Found]:
    """Every element matched by `spec.post` that holds a headline or a body, in page order."""
    page = without_fragment(canonical_url(page_url))
    found = []
    for post in select(Selector(root=root), spec.post):
        if not isinstance(post.root, etree._Element):
            continue
        raw = read_post(post, spec, page, timezone=timezone, default_date=default_date, now=now)
        if raw.headline or raw.body:
            found.append(Found(raw, post.root))
    return found
