"""One HTML page → `PageExtraction`: picks the extraction path, marks key moments.

Owns the order of the paths (configured selectors; else structured data, JSON-LD and
microdata, merged with the page's HTML posts by merge.py; else the generic detector of
detect.py), the day clock-only times belong to, the page's own titles (a
headline equal to one names the blog, not a post), telling the posts inside the key-moments
block, pagination (rel="next") and end of coverage. It rewrites no key and merges no copies:
the posts go out as the page shows them, key-moments copies included.

Each path and each later step runs guarded (crawler.guard): one that fails on a hostile page
is skipped with a warning and the others still give their posts. A `<base href>` or a next
link that is no http(s) URL is ignored with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from lxml import etree

from crawler.daterange import edge_refusal
from crawler.dates import parse_date_only, parse_datetime, zone
from crawler.encoding import decode
from crawler.extract import Found
from crawler.extract.days import suspect
from crawler.extract.embedded import embedded_posts
from crawler.extract.fields import clean_headlines
from crawler.extract.highlights import Highlights, find_highlights, mark, summary_lists
from crawler.extract.html_posts import HtmlPosts, detect_posts
from crawler.extract.jsonld import LiveBlog, extract_jsonld
from crawler.extract.merge import merge_structured
from crawler.extract.microdata import MicrodataBlog, extract_microdata
from crawler.extract.selectors import extract_selectors
from crawler.extract.state import state_values
from crawler.extract.zones import PageZone, infer_zone
from crawler.guard import Guard
from crawler.markup import gather_stray, parse_markup
from crawler.models import PageExtraction, RawPost, Selectors
from crawler.text import clean_inline
from crawler.urls import first_next_url, live_blog_url, refusal, web_url

_PARSER = etree.HTMLParser(
    recover=True, remove_comments=True, remove_pis=True, huge_tree=True, encoding="utf-8"
)


def parse_html(text: str) -> etree._Element:
    """The lxml tree of a page (plain etree elements: faster than lxml.html's)."""
    data = text.encode("utf-8", errors="replace").strip()  # libxml2 replaces control chars
    root = parse_markup(data, _PARSER) if data else None
    if root is None:
        return etree.fromstring(b"<html></html>", _PARSER)
    gather_stray(root)
    return root


def page_date(
    root: etree._Element,
    url: str,
    tz: str,
    now: datetime,
    declared: Sequence[datetime] = (),
) -> date:
    """The day clock-only times belong to: from the heading, title, URL, page metadata or the
    page's JSON-LD dates (`declared`), else today in the source's timezone. A declared date
    the output edge would refuse (crawler.daterange) tells no day."""
    for tag in ("h1", "title"):
        el = next(root.iter(tag), None)
        found = parse_date_only("".join(el.itertext())) if el is not None else None
        if found:
            return found
    found = parse_date_only(url)
    if found:
        return found
    for prop in ("article:modified_time", "og:updated_time", "article:published_time"):
        value = root.xpath(f"string(//meta[@property='{prop}' or @name='{prop}']/@content)")
        when = parse_datetime(value.strip(), tz) if value else None
        if when is not None and edge_refusal(when, now, feed=False) is None:
            return when.astimezone(zone(tz)).date()
    for when in declared:
        if edge_refusal(when, now, feed=False) is None:
            return when.astimezone(zone(tz)).date()
    return now.astimezone(zone(tz)).date()


_EARLY = timedelta(days=7)  # posts may predate the page's published date by a few days
_LATE = timedelta(hours=2)  # and a server's clock may run a little ahead
_TITLE_XPATHS = ("string(//meta[@property='og:title']/@content)", "string(//h1)", "string(//title)")


def _titles(root: etree._Element, blog_headline: str) -> list[str]:
    """The page's own titles: a headline equal to one of them names the blog, not a post."""
    found = [blog_headline]
    for xpath in (
        "string(//meta[@property='og:title']/@content)",
        "string(//h1)",
        "string(//title)",
    ):
        found.append(clean_inline(root.xpath(xpath)))
    return [t for t in found if t]


def _next_url(root: etree._Element, base: str, warnings: list[str]) -> str | None:
    """The first rel="next" link that is an http(s) URL; the first refused one is told in
    `warnings`."""
    hrefs = (
        el.get("href", "")
        for el in root.xpath("//link[@rel][@href] | //a[@rel][@href]")
        if "next" in el.get("rel", "").lower().split() and el.get("href", "").strip()
    )
    return first_next_url(hrefs, base, warnings)


def _base(root: etree._Element, url: str, warnings: list[str]) -> str:
    """The URL relative links resolve against: `<base href>` when it is an http(s) URL."""
    href = root.xpath("string(//base/@href)")
    if not href.strip():
        return url
    found = web_url(href, url)
    if found is None:
        warnings.append(f"url: <base href={href[:40]!r}> ignored: {refusal(href, url)}")
    return found or url


def _mark_copies(found: list[Found], highlights: Highlights) -> None:
    """Tell the posts found inside the key-moments block (copies, mostly, of stream posts:
    which stream post each repeats is storage's decision, storage/dedup_page.py)."""
    for f in found:
        if highlights.contains(f.element):
            f.post.in_key_moments = f.post.highlighted = True


def _bounds(
    root: etree._Element, tz: str, now: datetime, starts: Sequence[datetime | None]
) -> tuple[datetime | None, datetime]:
    """(earliest, latest) plausible post times: a week before the page's own earliest date
    (`article:published_time`, JSON-LD dates, coverage start), and a little after the fetch."""
    value = root.xpath("string(//meta[@property='article:published_time']/@content)").strip()
    dates = [d for d in (parse_datetime(value, tz) if value else None, *starts) if d is not None]
    dates = [d for d in dates if d <= now + _LATE]
    return (min(dates) - _EARLY if dates else None), now + _LATE


def _embedded(root: etree._Element, page: str, tz: str, found: int) -> list[RawPost]:
    """The posts of the page's embedded state, when it holds more than the `found` others."""
    values = state_values(root)
    posts = embedded_posts(values, page, timezone=tz) if values else []
    return posts if len(posts) > found else []


def extract_page(
    html: str | bytes,
    url: str,
    *,
    timezone: str | None = None,
    selectors: Selectors | None = None,
    now: datetime | None = None,
    encoding: str | None = None,
    language: str | None = None,
) -> PageExtraction:
    """Cut one live-blog page into posts, in page order, key-moments copies included.

    `timezone` is the source's; None takes it from the page (zones.py). `encoding` is the
    HTTP header's charset for bytes; `language` (the source's) helps the date parser with
    free-text times; `now` (the response's Date, else the fetch time) decides whether
    coverage has ended and anchors relative times ("5 min ago").
    """
    languages = (language,) if language else ()
    result = PageExtraction()
    now = now or datetime.now(UTC)
    if isinstance(html, bytes):
        decoded = decode(html, encoding)
        html = decoded.text
        result.warnings.extend(decoded.warnings)
    root = parse_html(html)
    guard = Guard(url)
    base = _base(root, url, result.warnings)
    page = live_blog_url(url)
    zones = infer_zone(root, url, configured=timezone, language=language)
    tz = zones.name
    result.timezone, result.timezone_from = tz, zones.why
    if zones.warning:
        result.warnings.append(zones.warning)

    blog = guard.run(
        "jsonld", lambda: extract_jsonld(root, page, timezone=tz, now=now, guard=guard), LiveBlog()
    )
    today = now.astimezone(zone(tz)).date()
    day = guard.run("page date", lambda: page_date(root, url, tz, now, blog.page_dates), today)
    micro = guard.run(
        "microdata",
        lambda: extract_microdata(
            root,
            page,
            timezone=tz,
            now=now,
            default_date=day,
            with_posts=selectors is None,
            guard=guard,
        ),
        MicrodataBlog(),
    )
    result.warnings.extend(blog.warnings)
    result.is_liveblog = blog.found or micro.is_liveblog
    result.ended = blog.ended or micro.ended

    if selectors is not None:
        found = extract_selectors(
            root,
            page,
            selectors,
            timezone=tz,
            default_date=day,
            now=now,
            languages=languages,
            guard=guard,
        )
        result.path = "selectors"
    else:
        found, result.path = _without_selectors(
            root, page, blog, micro, zones, day, now, guard, result.warnings
        )

    elements = [f.element for f in found if f.element is not None]
    highlights = guard.run(
        "highlights", lambda: find_highlights(root, page, elements), Highlights()
    )
    pairs = [(f.post, f.element) for f in found]
    guard.run("highlights", lambda: mark(pairs, highlights), None)
    guard.run("summary lists", lambda: mark(pairs, summary_lists(root, pairs)), None)
    guard.run("key-moments copies", lambda: _mark_copies(found, highlights), None)
    result.posts = [f.post for f in found]
    result.next_url = guard.run("pagination", lambda: _next_url(root, base, result.warnings), None)
    result.warnings.extend(guard.warnings())
    return result


def _without_selectors(
    root: etree._Element,
    page: str,
    blog: LiveBlog,
    micro: MicrodataBlog,
    zones: PageZone,
    day: date,
    now: datetime,
    guard: Guard,
    warnings: list[str],
) -> tuple[list[Found], str]:
    """The posts of a page without configured selectors, and the path that found them:
    structured data merged with the HTML posts, else the detector, else embedded state."""
    tz = zones.name
    start = blog.coverage_start or micro.coverage_start
    earliest, latest = guard.run(
        "page dates", lambda: _bounds(root, tz, now, [start, *blog.page_dates]), (None, now)
    )
    posts = HtmlPosts(
        root, page, timezone=tz, day=day, now=now, start=start, zones=zones,
        earliest=earliest, latest=latest, guard=guard,
    )  # fmt: skip
    titles = _titles(root, blog.headline)
    found, path = [], ""
    updates = [p for p in blog.posts if p.headline or p.body or p.key or p.published_at]
    if updates or micro.found:  # empty stubs ({"@type": "BlogPosting"}) name nothing
        merged = guard.run(
            "merge with the HTML posts",
            lambda: merge_structured(updates, micro.found, posts, root, page, titles=titles),
            None,
        )
        if merged is None:  # the structured posts alone, as they are
            found = [Found(p) for p in updates] + micro.found
            path = "jsonld" if updates else "microdata"
        else:
            found = [f for f in merged.found if f.post.headline or f.post.body]
            path = merged.path if found else ""
    if not found and (detected := guard.run("detector", lambda: detect_posts(posts), [])):
        found = [Found(r.post, r.element) for r in detected]
        guard.run("headlines", lambda: clean_headlines([f.post for f in found], titles), None)
        path = "detected"
    embedded = guard.run("embedded state", lambda: _embedded(root, page, tz, len(found)), [])
    if embedded:  # a client-side page: more posts in its state than in its HTML
        found, path = [Found(p) for p in embedded], "embedded"
        guard.run("headlines", lambda: clean_headlines(embedded, titles), None)
    if not found and (blog.found or micro.is_liveblog):
        path = "jsonld" if blog.found else "microdata"
    off = [f.post for f in found if suspect(f.post.published_at, earliest, latest)]
    if off:  # a structured time far off the page's own dates is no time
        first = off[0].published_at.isoformat() if off[0].published_at else ""
        warnings.append(
            f"dates: post times far off the page's own dates left empty ({len(off)}, first:"
            f" {first})"
        )
    for post in off:
        post.published_at, post.time_approximate = None, False
    return found, path
