"""Render a page state as the shapes real live blogs use: JSON-LD, microdata, plain, paged.

Pure functions: (state, base_url) → the document as `str`. The markup skeletons are a contract
with the extractor authors (see the newsroom brief); chrome sits around and inside the posts.
The feeds live in `feeds.py` and are re-exported here.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

from tests.newsroom.blogtext import Post
from tests.newsroom.feeds import render_atom, render_rdf, render_rss
from tests.newsroom.html_parts import (
    KEY_MOMENTS_TITLE,
    PAGE_TITLE,
    STREAM_TITLE,
    body_html,
    document,
    esc,
    intro,
    page_url,
    share_bar,
    signature,
)
from tests.newsroom.timeline import State, utc_iso

__all__ = [
    "PageNotFound",
    "page_count",
    "render_atom",
    "render_jsonld",
    "render_microdata",
    "render_paged",
    "render_plain",
    "render_rdf",
    "render_rss",
]


class PageNotFound(LookupError):
    """A `render_paged` page number outside 1..page_count."""


def coverage_start(state: State) -> datetime:
    """When the live blog started: its first post (06:02 Paris for the fixture)."""
    return min((p.published_at for p in state.posts), default=state.as_of)


def coverage_end(state: State) -> datetime | None:
    """When the live blog ended: its last post, once the state says it has ended."""
    return max(p.published_at for p in state.posts) if state.ended and state.posts else None


def _head_extra(base_url: str, state: State) -> str:
    refresh = "" if state.ended else '<meta http-equiv="refresh" content="300">\n'
    rss, atom = page_url(base_url, "rss"), page_url(base_url, "atom")
    return (
        f'{refresh}<link rel="alternate" type="application/rss+xml" href="{esc(rss)}">\n'
        f'<link rel="alternate" type="application/atom+xml" href="{esc(atom)}">\n'
    )


def _json_script(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>\n'


def _page_header(headline_attrs: str = ' class="live-title"') -> str:
    return f'<h1{headline_attrs}>{esc(PAGE_TITLE)}</h1>\n<p class="chapo">{esc(intro())}</p>\n'


def _signature() -> str:
    return f'<p class="signature">{esc(signature())}</p>'


# --- JSON-LD -------------------------------------------------------------------------------


def _jsonld_data(state: State, url: str) -> dict[str, object]:
    updates = []
    for p in state.stream:
        item: dict[str, object] = {"@type": "BlogPosting", "@id": f"{url}#post-{p.n}"}
        item["url"] = item["@id"]
        if p.headline:
            item["headline"] = p.headline
        item |= {
            "articleBody": p.body,
            "datePublished": p.published_at.isoformat(),
            "dateModified": p.updated_at.isoformat(),
        }
        updates.append(item)
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": url,
        "url": url,
        "headline": PAGE_TITLE,
        "description": intro(),
        "inLanguage": "fr-FR",
        "coverageStartTime": coverage_start(state).isoformat(),
    }
    end = coverage_end(state)
    if end is not None:
        data["coverageEndTime"] = end.isoformat()
    data["dateModified"] = state.as_of.isoformat()
    data["liveBlogUpdate"] = updates
    return data


def _breadcrumbs(base_url: str, url: str) -> dict[str, object]:
    names = [
        ("Accueil", base_url.rstrip("/") + "/"),
        ("Météo", base_url + "/meteo/"),
    ]
    items = [
        {"@type": "ListItem", "position": i, "name": n, "item": u}
        for i, (n, u) in enumerate([*names, (PAGE_TITLE, url)], start=1)
    ]
    return {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}


def render_jsonld(state: State, base_url: str) -> str:
    """Structured data in JSON-LD; the HTML posts carry ids, key moments are links only."""
    url = page_url(base_url, "jsonld")
    head = _json_script(_jsonld_data(state, url)) + _json_script(_breadcrumbs(base_url, url))
    parts = [_page_header()]
    if state.highlights:
        links = "".join(
            f'<li><a href="#post-{p.n}">{esc(p.headline)}</a></li>' for p in state.highlights
        )
        parts.append(
            f'<section class="key-events"><h2>{KEY_MOMENTS_TITLE}</h2><ul>{links}</ul></section>\n'
        )
    parts.append(f'<section class="live-stream"><h2>{STREAM_TITLE}</h2>\n')
    for p in state.stream:
        title = f'<h2 class="post-title">{esc(p.headline)}</h2>' if p.headline else ""
        parts.append(
            f'<article class="post" id="post-{p.n}">{title}'
            f'<time datetime="{p.published_at.isoformat()}">{p.time_text}</time>'
            f'<div class="post-content">{body_html(p, base_url)}</div>'
            f"{share_bar(f'{url}#post-{p.n}')}</article>\n"
        )
    parts.append("</section>\n" + _signature())
    return document(
        title=PAGE_TITLE,
        canonical=url,
        main="".join(parts),
        head_extra=_head_extra(base_url, state) + head,
    )


# --- microdata -----------------------------------------------------------------------------


def _md_article(p: Post, base_url: str, url: str, element_id: str) -> str:
    title = f'<h2 itemprop="headline">{esc(p.headline)}</h2>' if p.headline else ""
    modified = (
        f'<meta itemprop="dateModified" content="{utc_iso(p.modified_at)}">'
        if p.modified_at
        else ""
    )
    return (
        f'<article id="{element_id}" itemprop="liveBlogUpdate" itemscope '
        f'itemtype="https://schema.org/BlogPosting">{title}'
        f'<time itemprop="datePublished" datetime="{utc_iso(p.published_at)}">{p.time_text}</time>'
        f'{modified}<div itemprop="articleBody">{body_html(p, base_url)}</div>'
        f"{share_bar(f'{url}#post-{p.n}')}</article>\n"
    )


def _md_main(state: State, base_url: str, url: str, posts: list[Post], first: bool) -> str:
    parts = [_page_header(' itemprop="headline"')]
    end = coverage_end(state)
    if end is not None:
        parts.append(f'<meta itemprop="coverageEndTime" content="{utc_iso(end)}">\n')
    if first and state.highlights:
        parts.append(f'<section class="highlights"><h2>{KEY_MOMENTS_TITLE}</h2>\n')
        parts.extend(_md_article(p, base_url, url, f"post-{p.n}-hl") for p in state.highlights)
        parts.append("</section>\n")
    parts.append(f'<section class="stream"><h2>{STREAM_TITLE}</h2>\n')
    parts.extend(_md_article(p, base_url, url, f"post-{p.n}") for p in posts)
    parts.append("</section>\n")
    return "".join(parts)


_MD_ATTRS = ' class="live" itemscope itemtype="https://schema.org/LiveBlogPosting"'


def render_microdata(state: State, base_url: str) -> str:
    """Microdata; the key-moments block holds full copies (ids `post-N-hl`); times in UTC."""
    url = page_url(base_url, "microdata")
    main = _md_main(state, base_url, url, state.stream, first=True) + _signature()
    return document(
        title=PAGE_TITLE,
        canonical=url,
        main=main,
        main_attrs=_MD_ATTRS,
        head_extra=_head_extra(base_url, state),
    )


def page_count(state: State, per_page: int = 10) -> int:
    """How many pages `render_paged` splits the stream into (at least one)."""
    return max(1, math.ceil(len(state.posts) / per_page))


def render_paged(state: State, base_url: str, page: int, per_page: int = 10) -> str:
    """The microdata page split into pages (`?page=2`…), newest first, linked by rel="next"."""
    pages = page_count(state, per_page)
    if not 1 <= page <= pages:
        raise PageNotFound(f"newsroom: no page {page} (1..{pages})")
    base = page_url(base_url, "paged")
    url = base if page == 1 else f"{base}?page={page}"
    posts = state.stream[(page - 1) * per_page : page * per_page]
    head, nav = _head_extra(base_url, state), []
    if page > 1:
        prev_url = base if page == 2 else f"{base}?page={page - 1}"
        head += f'<link rel="prev" href="{esc(prev_url)}">\n'
        nav.append(f'<a rel="prev" href="{esc(prev_url)}">Plus récents</a>')
    if page < pages:
        head += f'<link rel="next" href="{esc(base)}?page={page + 1}">\n'
        nav.append(f'<a rel="next" href="{esc(base)}?page={page + 1}">Plus anciens</a>')
    main = _md_main(state, base_url, url, posts, first=page == 1)
    main += f'<nav class="pagination">{" ".join(nav)}</nav>\n' + _signature()
    return document(
        title=f"{PAGE_TITLE} - page {page}" if page > 1 else PAGE_TITLE,
        canonical=url,
        main=main,
        main_attrs=_MD_ATTRS,
        head_extra=head,
    )


# --- plain (like the TF1 page the text format comes from: no structured data, no ids) ------


def _plain_entry(p: Post, base_url: str, url: str) -> str:
    title = f'<h3 class="entry-title">{esc(p.headline)}</h3>' if p.headline else ""
    return (
        f'<div class="entry">{title}<div class="entry-when"><span class="entry-time">'
        f'{p.time_text}</span> <span class="entry-date">{esc(p.date_text)}</span></div>'
        f'<div class="entry-text">{body_html(p, base_url)}</div>{share_bar(url)}</div>\n'
    )


def render_plain(state: State, base_url: str) -> str:
    """No structured data, no post ids: key-moments copies then the minute-by-minute stream."""
    url = page_url(base_url, "plain")
    parts = [_page_header()]
    if state.highlights:
        parts.append(f'<section class="elements-marquants"><h2>{KEY_MOMENTS_TITLE}</h2>\n')
        parts.extend(_plain_entry(p, base_url, url) for p in state.highlights)
        parts.append("</section>\n")
    parts.append(f'<section class="minute-par-minute"><h2>{STREAM_TITLE}</h2>\n')
    parts.extend(_plain_entry(p, base_url, url) for p in state.stream)
    parts.append("</section>\n" + _signature())
    return document(title=PAGE_TITLE, canonical=url, main="".join(parts))
