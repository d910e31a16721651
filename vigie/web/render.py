"""Pages out: the Jinja2 environment (autoescape on for every template, undefined names
an error), what every page is given (language, its words, URLs), and the headers of
every page (a strict Content-Security-Policy: no inline script or style, nothing from
elsewhere; no sniffing, no referrer, no framing).

Untrusted text reaches the templates as plain strings, and only ever as plain strings:
nothing in vigie/web marks text as safe HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from vigie import __version__
from vigie.web import format as fmt
from vigie.web.i18n import (
    COOKIE,
    LANGUAGES,
    NAMES,
    has_message,
    pick_language,
    plural_forms,
    translator,
)

TEMPLATES = Path(__file__).parent / "templates"
STATIC_URL = "/static/web"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
    "Vary": "Accept, Accept-Language, Cookie",
}
LANG_COOKIE_AGE = 365 * 86400

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(fmt.FILTERS)
ENV.globals.update(fmt.GLOBALS, has_message=has_message)


def language(request: Request) -> str:
    return pick_language(
        request.query_params, request.cookies, request.headers.get("accept-language", "")
    )


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL (path and query) with some parameters set, or removed (None)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            items.append((key, str(v)))
    root = request.scope.get("root_path", "")
    query = urlencode(items)
    return f"{root}{request.url.path}" + (f"?{query}" if query else "")


def context(request: Request, lang: str) -> dict[str, Any]:
    """What every template is given besides its own data."""
    root = request.scope.get("root_path", "")
    return {
        "lang": lang,
        "t": translator(lang),
        "languages": [(code, NAMES[code], url_with(request, lang=code)) for code in LANGUAGES],
        "root": root,
        "static": f"{root}{STATIC_URL}",
        "version": __version__,
        "path": request.url.path,
        "json_url": url_with(request, format="json"),
        "new_forms": plural_forms(lang, "live.new"),
    }


def page(
    request: Request,
    template: str,
    data: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page from its template and data, with the page headers (and the language
    remembered when the reader chose one with ?lang=)."""
    lang = language(request)
    html = ENV.get_template(template).render(context(request, lang) | data)
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS | (headers or {}))
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            COOKIE, lang, max_age=LANG_COOKIE_AGE, httponly=True, samesite="lax", path="/"
        )
    return response


def fragment(template: str, lang: str, data: dict[str, Any]) -> str:
    """A piece of a page (a timeline row) rendered alone, for the live updates."""
    macro = ENV.get_template(template)
    return macro.render({"lang": lang, "t": translator(lang)} | data)
