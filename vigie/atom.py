"""Atom feeds out: updates as an Atom 1.0 document (built with feedgen) that a feed reader
can follow, also for live blogs that publish no feed.

An entry's id names the update and its revision (tag:vigie,2026:update:42:2), so a reader
that keys on ids shows an edited update again; `updated` is the update's last change, for
readers that watch it instead. Content is the body as HTML paragraphs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.feed import FeedGenerator

ID_PREFIX = "tag:vigie,2026:"
TITLE_CHARS = 90
# Characters XML 1.0 cannot carry; a scraped body may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What the feed says about itself."""

    id: str
    title: str
    self_url: str
    alternate_url: str | None = None
    subtitle: str | None = None
    author: str = "vigie"


def _clean(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def entry_id(row: dict[str, Any]) -> str:
    """Stable for one revision of one update; a new revision gets a new id."""
    return f"{ID_PREFIX}update:{row['id']}:{row['revisions']}"


def last_change(row: dict[str, Any]) -> datetime:
    """When the update last changed: its last edit, else its publication, else first seen."""
    known = [t for t in (row.get("updated_at"), row.get("published_at")) if t is not None]
    return max(known) if known else row["first_seen_at"]


def entry_title(row: dict[str, Any]) -> str:
    """The headline, else the start of the body (closing posts often have no headline)."""
    headline = " ".join(_clean(row.get("headline")).split())
    if headline:
        return headline
    body = " ".join(_clean(row.get("body")).split())
    if len(body) > TITLE_CHARS:
        body = body[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return body or "(no text)"


def body_html(body: str) -> str:
    """Plain-text paragraphs (separated by a blank line) as escaped HTML paragraphs."""
    paragraphs = [p.strip() for p in _clean(body).split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br/>')}</p>" for p in paragraphs)


def build_feed(
    info: FeedInfo,
    rows: Iterable[dict[str, Any]],
    link_of: Callable[[dict[str, Any]], str] | None = None,
) -> bytes:
    """An Atom document of the rows, in the order given (newest first).

    `link_of(row)` gives an entry's link when the update has no URL of its own.
    """
    fg = FeedGenerator()
    fg.id(info.id)
    fg.title(_clean(info.title))
    fg.author({"name": info.author})
    fg.link(href=info.self_url, rel="self", type="application/atom+xml")
    if info.alternate_url:
        fg.link(href=info.alternate_url, rel="alternate")
    if info.subtitle:
        fg.subtitle(_clean(info.subtitle))
    fg.generator("vigie", uri="https://github.com/vigie-news/vigie")
    newest: datetime | None = None
    for row in rows:
        changed = last_change(row)
        newest = changed if newest is None else max(newest, changed)
        fe = fg.add_entry(order="append")
        fe.id(entry_id(row))
        fe.title(entry_title(row))
        link = row.get("url") or (link_of(row) if link_of else None)
        if link:
            fe.link(href=link, rel="alternate")
        fe.updated(changed)
        if row.get("published_at"):
            fe.published(row["published_at"])
        fe.author({"name": row["source"]})
        fe.content(body_html(row.get("body") or ""), type="html")
        if row.get("highlighted"):
            fe.category(term="highlighted", label="Key moment")
    fg.updated(newest or datetime.now(UTC))
    return fg.atom_str(pretty=True)
