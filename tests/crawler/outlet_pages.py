"""Page shells in the styles of real outlets, for the tests of tests/crawler/test_outlets_*.py.

Our own markup and text (no publisher's): a header with navigation and a cookie banner,
scripts (analytics, a config blob), ad slots, a related-articles rail with times, a footer
with link columns. The shapes under test are put inside with `shell(body, ...)`. Sizes are
those of real article pages (tens of kilobytes of chrome around the posts).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # the fetch; pages are of 10 March 2026

_SECTIONS = {
    "en": ["News", "UK", "World", "Politics", "Business", "Sport", "Culture", "Opinion"],
    "fr": ["Actualité", "France", "Monde", "Politique", "Économie", "Sport", "Culture"],
    "de": ["Nachrichten", "Deutschland", "Welt", "Politik", "Wirtschaft", "Sport", "Kultur"],
}
_RELATED = {
    "en": ("Most read", "hours ago"),
    "fr": ("Les plus lus", "il y a {n} heures"),
    "de": ("Meistgelesen", "vor {n} Stunden"),
}
_COOKIE = {
    "en": "We use cookies to improve your experience. Accept all cookies or manage settings.",
    "fr": "Nous utilisons des cookies pour améliorer votre expérience. Accepter ou paramétrer.",
    "de": "Wir verwenden Cookies, um Ihr Erlebnis zu verbessern. Alle akzeptieren.",
}


def _nav(lang: str, host: str) -> str:
    items = []
    for section in _SECTIONS[lang]:
        slug = section.lower()
        sub = "".join(f"<li><a href=/{slug}/{i}>{section} {i}</a></li>" for i in range(8))
        items.append(
            f'<li class="nav__item"><a class="nav__link" href="https://{host}/{slug}">{section}'
            f'</a><ul class="nav__sub">{sub}</ul></li>'
        )
    return (
        '<header class="site-header"><nav class="nav" aria-label="main">'
        f"<ul>{''.join(items)}</ul></nav></header>"
    )


def _related(lang: str, host: str) -> str:
    title, ago = _RELATED[lang]
    items = "".join(
        f'<li class="rail__item"><a href="https://{host}/story-{i}.html">'
        f'<span class="rail__title">Another story on the front page number {i}</span></a>'
        f'<span class="rail__time">{ago.format(n=i + 1) if "{n}" in ago else f"{i + 1} {ago}"}'
        f"</span></li>"
        for i in range(6)
    )
    return f'<aside class="rail"><h2>{title}</h2><ol>{items}</ol></aside>'


def _footer(host: str) -> str:
    cols = "".join(
        f'<div class="footer__col"><h4>Column {c}</h4><ul>'
        + "".join(
            f'<li><a href="https://{host}/info/{c}-{i}">Link {c}.{i}</a></li>' for i in range(10)
        )
        + "</ul></div>"
        for c in range(4)
    )
    return (
        f'<footer class="site-footer">{cols}<p class="footer__legal">© 2026 {host}. '
        "All rights reserved.</p></footer>"
    )


def _scripts() -> str:
    config = {
        "ads": {"slots": [f"slot-{i}" for i in range(40)], "refresh": 30},
        "analytics": {"id": "UA-000000-1", "dimensions": {str(i): f"d{i}" for i in range(60)}},
        "features": {f"flag_{i}": i % 2 == 0 for i in range(80)},
    }
    return (
        f"<script>window.siteConfig = {json.dumps(config)};</script>"
        "<script>(function(){var s=document.createElement('script');s.async=true;"
        "s.src='https://cdn.example/analytics.js';document.head.appendChild(s);})();</script>"
    )


def shell(
    body: str,
    *,
    lang: str = "en",
    html_lang: str | None = None,
    host: str = "news.example",
    title: str = "Live updates",
    head: str = "",
    tail: str = "",
) -> str:
    """A full page around `body` (the article column)."""
    html_lang = html_lang or lang
    ads = '<div class="ad-slot" id="ad-top"><span>Advertisement</span></div>'
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        f'<meta name="viewport" content="width=device-width"><link rel="canonical" '
        f'href="https://{host}/live">{head}{_scripts()}</head><body>'
        f'<div class="cookie-banner" id="consent"><p>{_COOKIE[lang]}</p><button>OK</button></div>'
        f"{_nav(lang, host)}{ads}"
        f'<main class="layout"><article class="article"><h1>{title}</h1>{body}</article>'
        f"{_related(lang, host)}</main>{ads.replace('ad-top', 'ad-bottom')}"
        f"{_footer(host)}{tail}</body></html>"
    )


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
