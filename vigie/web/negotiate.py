"""Which answer a request gets at a URL that is both a page and an API resource.

`?format=json` forces JSON and `?format=html` the page; otherwise the page goes to a
client that asks for HTML at least as much as for JSON (browsers send `text/html` first),
and JSON to everyone else (`*/*`, no Accept, `application/json`, `text/event-stream`), so
API clients are answered as before the pages existed. The choice is kept in the scope: a
request is weighed once, however many routes look at it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import Scope

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
JSON_TYPES = frozenset({"application/json"})
SCOPE_KEY = "vigie.wants_html"
MAX_ACCEPT = 2000  # characters of an Accept header read


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def prefers_html(accept: str) -> bool:
    """Whether an Accept header asks for HTML at least as much as for JSON."""
    html = json = 0.0
    for part in accept[:MAX_ACCEPT].split(","):
        media, _, params = part.partition(";")
        media = media.strip().lower()
        if media in HTML_TYPES:
            html = max(html, _quality(params))
        elif media in JSON_TYPES:
            json = max(json, _quality(params))
    return html > 0 and html >= json


def wants_html(scope: Scope) -> bool:
    """Whether this request gets the page (see the module docstring)."""
    if SCOPE_KEY in scope:
        return bool(scope[SCOPE_KEY])
    choice = None
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "format" and value in ("json", "html"):
            choice = value == "html"
    if choice is None:
        accept = b", ".join(v for k, v in scope.get("headers", ()) if k == b"accept")
        choice = prefers_html(accept.decode("latin-1"))
    scope[SCOPE_KEY] = choice
    return choice
