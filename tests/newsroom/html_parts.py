"""Building blocks shared by the newsroom's HTML pages: the page shell and its chrome.

Everything here is what a real news page wraps around the posts and what extractors must drop:
cookie banner, navigation, share bars, footer, and the embeds found inside post bodies (tweets,
photo credits, video players, article cards, the teaser of other lives).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from html import escape
from urllib.parse import quote, urlsplit

from tests.newsroom.blogtext import Chrome, Post, load_page

SITE_NAME = "Le Phare Info"
PAGE_TITLE = "EN DIRECT - Tempête Ysolde : l’Ouest en vigilance rouge, des rafales à 170 km/h"
KEY_MOMENTS_TITLE = "Les éléments marquants"
STREAM_TITLE = "Minute par minute"
PATHS = {
    "jsonld": "/live/jsonld",
    "microdata": "/live/microdata",
    "plain": "/live/plain",
    "paged": "/live/paged",
    "rss": "/feeds/rss.xml",
    "atom": "/feeds/atom.xml",
    "rdf": "/feeds/rdf.xml",
}
FEED_PAGE = "jsonld"  # the page feed items link to (its posts carry id="post-N")


def page_url(base_url: str, kind: str) -> str:
    """The absolute URL of one of the newsroom's resources ("jsonld", "rss", ...)."""
    return base_url.rstrip("/") + PATHS[kind]


def esc(text: str) -> str:
    """HTML-escape text and attribute values (quotes included)."""
    return escape(text, quote=True)


def slug(text: str) -> str:
    """ "Tempête Ysolde : la digue …" → "tempete-ysolde-la-digue-…"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


@cache
def intro() -> str:
    """The page's standfirst (the text's intro paragraph)."""
    return load_page().intro


@cache
def signature() -> str:
    """The closing signature ("La rédaction de LePhareInfo"): page chrome, not a post."""
    return load_page().signature


def document(
    *,
    title: str,
    canonical: str,
    main: str,
    head_extra: str = "",
    main_attrs: str = ' class="live"',
) -> str:
    """A full page: head with title, canonical and og tags; cookie banner, nav, main, footer."""
    description = esc(intro())
    site = "{0.scheme}://{0.netloc}".format(urlsplit(canonical))
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} | {SITE_NAME}</title>
<meta name="description" content="{description}">
<link rel="canonical" href="{esc(canonical)}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:title" content="{esc(title)}">
<meta property="og:description" content="{description}">
<meta property="og:url" content="{esc(canonical)}">
<meta property="og:image" content="{esc(site)}/images/og-live.jpg">
<meta name="twitter:card" content="summary_large_image">
{head_extra}<style>.cookie-banner{{position:fixed;bottom:0}} .share-bar{{display:flex}}</style>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "live"}});</script>
</head>
<body>
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookies">
<p>Nous utilisons des cookies pour mesurer l’audience et personnaliser les publicités.</p>
<button type="button" class="accept">Accepter et fermer</button>
<button type="button" class="refuse">Continuer sans accepter</button>
</div>
<header class="site-header">
<a class="logo" href="/">{SITE_NAME}</a>
<nav class="main-nav" aria-label="Menu principal"><ul>
<li><a href="/">Accueil</a></li><li><a href="/actualite/">Actualité</a></li>
<li><a href="/meteo/">Météo</a></li><li><a href="/politique/">Politique</a></li>
<li><a href="/sport/">Sport</a></li><li><a href="/direct/">Les directs</a></li>
</ul></nav>
</header>
<main{main_attrs}>
{main}
</main>
<footer class="site-footer">
<p>© {SITE_NAME} 2026 – Tous droits réservés</p>
<ul><li><a href="/mentions-legales/">Mentions légales</a></li>
<li><a href="/cookies/">Gestion des cookies</a></li><li><a href="/contact/">Contact</a></li></ul>
</footer>
</body>
</html>
"""


def share_bar(url: str) -> str:
    """The buttons under every post."""
    shared = quote(url, safe="")
    return (
        f'<div class="share-bar" data-url="{esc(url)}">'
        '<button type="button" class="share">Partager</button>'
        '<button type="button" class="copy-link">Copier le lien</button>'
        f'<a class="share-x" href="https://twitter.com/intent/tweet?url={shared}">X</a>'
        f'<a class="share-fb" href="https://www.facebook.com/sharer.php?u={shared}">Facebook</a>'
        "</div>"
    )


def chrome_html(c: Chrome, base_url: str) -> str:
    """One embed, shaped as real pages show it."""
    if c.kind == "tweet":
        handle, pic = esc(c.attrs["handle"]), esc(c.attrs["pic"])
        pic_id = pic.rsplit("/", 1)[-1]
        return (
            '<blockquote class="twitter-tweet"><p lang="und" dir="ltr">'
            f'{esc(c.text)} <a href="https://t.co/{pic_id}">{pic}</a></p>'
            f"— {esc(c.attrs['author'])} (@{handle}) "
            f'<a href="https://twitter.com/{handle}/status/{pic_id}">{esc(c.attrs["date"])}</a>'
            '</blockquote><script async src="https://platform.twitter.com/widgets.js"></script>'
        )
    if c.kind == "credit":
        return (
            f'<figure class="media"><img src="{base_url}/images/{slug(c.text)}.jpg" '
            f'alt="Photo d’illustration" width="800" height="450">'
            f'<figcaption><span class="credit">{esc(c.text)}</span></figcaption></figure>'
        )
    if c.kind == "video":
        return (
            f'<div class="video-player" data-video="{slug(c.text)}">'
            f'<div class="video-title">{esc(c.text)}</div>'
            f"<span>Source : {esc(c.attrs.get('source', SITE_NAME))}</span>"
            f'<img class="play" src="{base_url}/images/play.svg" alt="Logo lecture"></div>'
        )
    if c.kind == "read_also":
        return (
            f'<aside class="read-also"><span>{esc(c.attrs.get("label", "Lire aussi"))}</span>'
            f'<a href="{base_url}/meteo/{slug(c.text)}.html">{esc(c.text)}</a></aside>'
        )
    if c.kind == "related":
        return (
            f'<aside class="read-also related"><span>{esc(c.text)}</span>'
            f'<a href="{base_url}/{slug(c.text)}/article-1.html">'
            f"<time>{esc(c.attrs['published'])}</time></a></aside>"
        )
    if c.kind == "teaser":
        return (
            f'<div class="teaser-lives"><span>{esc(c.text)}</span><ul>'
            f'<li><a href="{base_url}/direct/politique.html">EN DIRECT - Politique</a></li>'
            f'<li><a href="{base_url}/direct/crues.html">EN DIRECT - Crues du Sud-Ouest</a></li>'
            "</ul></div>"
        )
    raise ValueError(f"newsroom: unknown chrome kind {c.kind!r}")


def body_html(post: Post, base_url: str) -> str:
    """The post's paragraphs with its chrome interleaved where the page had it."""
    parts: list[str] = []
    for i in range(len(post.paragraphs) + 1):
        parts.extend(chrome_html(c, base_url) for c in post.chrome if c.position == i)
        if i < len(post.paragraphs):
            parts.append(f"<p>{esc(post.paragraphs[i])}</p>")
    # Chrome placed after the last paragraph of an older version still shows, at the end.
    parts.extend(chrome_html(c, base_url) for c in post.chrome if c.position > len(post.paragraphs))
    return "".join(parts)


def paragraphs_html(post: Post) -> str:
    """The body alone as HTML paragraphs (what feeds carry)."""
    return "".join(f"<p>{esc(p)}</p>" for p in post.paragraphs)
