"""Render a page state as the live blog's RSS 2.0, Atom 1.0 and RSS 1.0 (RDF) feeds.

Both carry every post of the state, newest first, the body as escaped HTML paragraphs (no
chrome). RSS item links carry tracking parameters before the `#post-N` fragment, and posts whose
number is divisible by 5 have no guid (their identity falls back to the link). Atom entries have
stable `urn:newsroom:post-N` ids and an `updated` that moves when a post is edited.
"""

from __future__ import annotations

from email.utils import format_datetime
from html import escape

from tests.newsroom.html_parts import (
    FEED_PAGE,
    PAGE_TITLE,
    SITE_NAME,
    intro,
    page_url,
    paragraphs_html,
    signature,
)
from tests.newsroom.timeline import State

TRACKING_QUERY = "utm_source=rss&utm_medium=feed&xtor=RSS-3"
GUIDLESS_EVERY = 5  # posts whose number is a multiple of this have no <guid>


def _x(text: str) -> str:
    """Escape text for an XML element or attribute."""
    return escape(text, quote=True)


def rss_link(base_url: str, n: int) -> str:
    """An item's link as the feed gives it: tracking parameters, then the fragment."""
    return f"{page_url(base_url, FEED_PAGE)}?{TRACKING_QUERY}#post-{n}"


def rss_guid(n: int) -> str | None:
    """An item's guid, or None for the posts published without one."""
    return None if n % GUIDLESS_EVERY == 0 else f"phare-live-post-{n}"


def render_rss(state: State, base_url: str) -> str:
    """RSS 2.0: `<item>` per post, RFC 822 dates with +0100, guids except for every 5th post."""
    items = []
    for p in state.stream:
        title = f"<title>{_x(p.headline)}</title>" if p.headline else ""
        guid = rss_guid(p.n)
        guid_xml = f'<guid isPermaLink="false">{guid}</guid>' if guid else ""
        items.append(
            f"<item>{title}<link>{_x(rss_link(base_url, p.n))}</link>"
            f"<description>{_x(paragraphs_html(p))}</description>"
            f"<pubDate>{format_datetime(p.published_at)}</pubDate>{guid_xml}</item>"
        )
    page = page_url(base_url, FEED_PAGE)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{_x(PAGE_TITLE)}</title>
<link>{_x(page)}</link>
<description>{_x(intro())}</description>
<language>fr-FR</language>
<lastBuildDate>{format_datetime(state.as_of)}</lastBuildDate>
<atom:link href="{_x(page_url(base_url, "rss"))}" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
</channel>
</rss>
"""


def render_atom(state: State, base_url: str) -> str:
    """Atom 1.0: `urn:newsroom:post-N` ids, published/updated with offsets, HTML content."""
    page = page_url(base_url, FEED_PAGE)
    entries = [
        f"<entry><id>urn:newsroom:post-{p.n}</id><title>{_x(p.headline)}</title>"
        f'<link rel="alternate" type="text/html" href="{_x(page)}#post-{p.n}"/>'
        f"<published>{p.published_at.isoformat()}</published>"
        f"<updated>{p.updated_at.isoformat()}</updated>"
        f'<content type="html">{_x(paragraphs_html(p))}</content></entry>'
        for p in state.stream
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
<id>urn:newsroom:live</id>
<title>{_x(PAGE_TITLE)}</title>
<subtitle>{_x(intro())}</subtitle>
<updated>{state.as_of.isoformat()}</updated>
<link rel="self" type="application/atom+xml" href="{_x(page_url(base_url, "atom"))}"/>
<link rel="alternate" type="text/html" href="{_x(page)}"/>
<author><name>{_x(signature())}</name></author>
<generator>{SITE_NAME}</generator>
{chr(10).join(entries)}
</feed>
"""


def render_rdf(state: State, base_url: str) -> str:
    """RSS 1.0 (RDF): a summary feed, each item's description the post's first paragraph only,
    plain text, `dc:date` with offset, identity by `rdf:about`."""
    page = page_url(base_url, FEED_PAGE)
    about = [f'<rdf:li rdf:resource="{_x(page)}#post-{p.n}"/>' for p in state.stream]
    items = [
        f'<item rdf:about="{_x(page)}#post-{p.n}"><title>{_x(p.headline)}</title>'
        f"<link>{_x(page)}#post-{p.n}</link>"
        f"<description>{_x(p.paragraphs[0] if p.paragraphs else '')}</description>"
        f"<dc:date>{p.published_at.isoformat()}</dc:date></item>"
        for p in state.stream
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{_x(page_url(base_url, "rdf"))}">
<title>{_x(PAGE_TITLE)}</title>
<link>{_x(page)}</link>
<description>{_x(intro())}</description>
<items><rdf:Seq>{"".join(about)}</rdf:Seq></items>
</channel>
{chr(10).join(items)}
</rdf:RDF>
"""
