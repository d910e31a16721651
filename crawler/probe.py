"""`vigie probe URL`: fetch one page once and show what vigie would extract, and by which path.

For setting up a source. `probe_spec` gives the source to crawl; the shell has the crawl
service fetch it (Scrapy, with the config's user agent, robots.txt, timeout and size limit)
and extract it as a source of that kind would be (`crawler.documents.extract_document`,
pagination not followed); nothing is stored. `Probe` holds what the crawl gave, `render` shows it.
When the URL is one of the configured sources, that source's kind, timezone, language and
selectors are used unless the command line says otherwise. The output names the path the
posts came from and the zone their clocks were read in, with why ("configured", "the page
says 'All times are UK'", "the outlet's country (domain .fr)", ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from crawler.dates import zone
from crawler.models import CrawlResult, RawPost, SourceSpec
from crawler.urls import canonical_url, without_fragment

KINDS = ("auto", "liveblog", "feed")
PATHS = {
    "jsonld": "schema.org LiveBlogPosting in JSON-LD, completed from the page's HTML posts",
    "microdata": "schema.org LiveBlogPosting in microdata, completed from the HTML posts",
    "structured": "JSON-LD and microdata together, completed from the HTML posts",
    "selectors": "the source's [sources.selectors]",
    "detected": "the generic detector: repeated blocks, or time-prefixed lines and what follows"
    " each, with a time; no schema.org",
    "embedded": "posts in the page's embedded application state (Next.js, Nuxt, Apollo, ...)",
    "feed": "an RSS, Atom or RDF feed",
}
_FIRST_WORDS = 12


@dataclass(slots=True)
class Probe:
    """One probe: the source as probed and what the crawl gave."""

    spec: SourceSpec
    result: CrawlResult

    @property
    def ok(self) -> bool:
        return self.result.ok and bool(self.result.posts)

    @property
    def message(self) -> str:
        """Why nothing was found (the crawl's error, or why an empty page is not a success)."""
        if self.result.error:
            return self.result.error
        if not self.result.posts:
            return "page: no posts found (the page declares a live blog without updates yet)"
        return ""


def probe_spec(
    url: str,
    sources: Sequence[SourceSpec] = (),
    *,
    kind: str | None = None,
    timezone: str | None = None,
) -> SourceSpec:
    """The source to probe: the configured one with this URL, else a new one; one page only.

    Raises ValueError for a URL that is not http(s), an unknown kind or timezone."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (use {', '.join(KINDS)})")
    if timezone is not None:
        zone(timezone)  # ValueError when unknown
    wanted = without_fragment(canonical_url(url))
    known = next((s for s in sources if without_fragment(canonical_url(s.url)) == wanted), None)
    spec = known or SourceSpec(name="probe", url=url)
    return replace(
        spec,
        url=url,
        kind=kind or spec.kind,
        timezone=timezone or spec.timezone,
        max_pages=1,
    )


def _local(when: datetime | None, tz: str, timespec: str = "minutes") -> str:
    return when.astimezone(zone(tz)).isoformat(timespec=timespec) if when else ""


def first_words(post: RawPost, count: int = _FIRST_WORDS) -> str:
    words = post.body.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def zone_of(report: Probe) -> tuple[str, str]:
    """(zone, why) of the probed page's clocks: configured, else what the page gave."""
    if report.spec.timezone:
        return report.spec.timezone, "configured"
    if report.result.timezone:
        return report.result.timezone, report.result.timezone_from
    return "UTC", "no page read"


def _when(post: RawPost, tz: str, timespec: str) -> str:
    text = _local(post.published_at, tz, timespec)
    return f"~{text}" if text and post.time_approximate else text


def as_dict(report: Probe) -> dict[str, object]:
    """The probe as JSON-friendly data (times in UTC, like the API's; `timezone` is the zone
    the page's clocks were read in, `timezone_from` why)."""
    r = report.result
    tz, why = zone_of(report)
    return {
        "url": report.spec.url,
        "kind": report.spec.kind,
        "timezone": tz,
        "timezone_from": why,
        "status": r.status,
        "http_status": r.http_status,
        "path": r.path or None,
        "path_means": PATHS.get(r.path),
        "error": None if report.ok else report.message,
        "ended": r.ended,
        "count": len(r.posts),
        "posts": [
            {
                "published_at": _local(p.published_at, "UTC", "seconds") or None,
                "time_approximate": p.time_approximate,
                "updated_at": _local(p.updated_at, "UTC", "seconds") or None,
                "headline": p.headline,
                "first_words": first_words(p),
                "body": p.body,
                "url": p.url,
                "key": p.key,
                "highlighted": p.highlighted,
            }
            for p in r.posts
        ],
    }


def render(report: Probe, fmt: str = "table") -> str:
    """The probe for people ("table") or programs ("json")."""
    if fmt == "json":
        return json.dumps(as_dict(report), ensure_ascii=False, indent=2)
    r = report.result
    tz, why = zone_of(report)
    lines = [
        f"url:   {report.spec.url}",
        f"kind:  {report.spec.kind}, times without an offset read in {tz}",
        f"zone:  {tz} ({why})",
        f"fetch: {r.status}" + (f" (HTTP {r.http_status})" if r.http_status else ""),
        f"path:  {r.path or '-'}" + (f" ({PATHS[r.path]})" if r.path in PATHS else ""),
        f"posts: {len(r.posts)}" + (" (the live blog has ended)" if r.ended else ""),
    ]
    if not report.ok:
        lines.append(f"error: {report.message}")
    for p in r.posts:
        mark = "*" if p.highlighted else " "
        when = (_when(p, tz, "minutes") or "(no time)").ljust(22)
        headline = p.headline or "(no headline)"
        lines.append(f"{mark} {when}  {headline}")
        if p.body:
            lines.append(f"    {first_words(p)}")
    if any(p.highlighted for p in r.posts):
        lines.append("* shown among the key moments")
    if any(p.time_approximate for p in r.posts):
        lines.append('~ approximate: read from a relative time ("5 min ago")')
    return "\n".join(lines)
