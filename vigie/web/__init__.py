"""The web pages of `vigie serve`: the live timeline (/), search (/search), one update
(/updates/{id}), a story's copies side by side (/stories/{id}) and the sources' health
(/sources), at the API's own URLs: a request that wants HTML gets the page, every other
one the API's JSON (vigie/web/negotiate.py).

Server-rendered (Jinja2 templates, templates/), a small script and a stylesheet
(static/) shipped in the package: nothing comes from elsewhere, so the pages work
offline and behind a firewall. New and edited updates reach open pages as server-sent
events from one watcher of the store per process (live.py). Pages ask for the API token
like the API does; a browser gives it as the password of HTTP Basic auth (it asks once,
then sends it with every request); the static files are public.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storage.db import Store
from vigie.config import Config

STATIC = Path(__file__).parent / "static"
BASIC_CHALLENGE = 'Basic realm="vigie", charset="UTF-8"'
UNTOUCHED = ("/static/", "/docs", "/openapi.json", "/feeds/", "/live")


class StaticAssets(StaticFiles):
    """The pages' script, styles and icon: public, never sniffed, revalidated."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


class ServerTiming:
    """`Server-Timing: app;dur=…, cpu;dur=…` on pages: the time from the request to the
    page, and the CPU time the process spent meanwhile (the request's own cost when it
    is alone, whatever else loads the machine), for the browser's developer tools and
    the benchmarks (bench/web.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu = time.perf_counter(), time.process_time()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    spent = (time.perf_counter() - started) * 1000
                    used = (time.process_time() - cpu) * 1000
                    timing = f"app;dur={spent:.1f}, cpu;dur={used:.1f}"
                    headers.append((b"server-timing", timing.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed)


def _html_errors(app: FastAPI, web: Any) -> None:
    """Every error handler of the app, answering browsers with a page: the same status
    and message as the JSON one (its `detail`), and a Basic auth challenge for a 401."""
    from vigie.web.negotiate import wants_html
    from vigie.web.render import page

    def for_browsers(handler: Callable[..., Any]) -> Callable[..., Any]:
        async def handle(request: Request, exc: Exception) -> Response:
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
            path = request.url.path
            if not wants_html(request.scope) or path.startswith(UNTOUCHED):
                return response
            try:
                detail = json.loads(bytes(response.body))["detail"]
            except (ValueError, KeyError, TypeError, AttributeError):
                detail = ""
            status = response.status_code
            if path == "/search" and status == 400:
                return web.search_page(request, None, str(detail))
            headers = {}
            if status == 401:
                headers["WWW-Authenticate"] = BASIC_CHALLENGE
            elif "allow" in response.headers:
                headers["Allow"] = response.headers["allow"]
            data = {"page_name": "error", "status": status, "detail": str(detail)}
            return page(request, "error.html", data, status=status, headers=headers)

        return handle

    for key, handler in list(app.exception_handlers.items()):
        if key not in (500, Exception):
            app.exception_handlers[key] = for_browsers(handler)


def add_web(app: FastAPI, config: Config, store: Store) -> None:
    """The pages, their assets and the live stream on an API app (after its routes and
    error handlers: the pages go in front of the API routes at the same URLs)."""
    from vigie.web.routes import Redirect, Web

    web = Web(config, store)
    before = len(app.router.routes)
    app.include_router(web.router())
    pages = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[:0] = pages
    app.include_router(web.live_router())
    app.mount("/static/web", StaticAssets(directory=STATIC), name="web-static")
    app.add_middleware(ServerTiming)

    _html_errors(app, web)

    async def redirect(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Redirect)
        return RedirectResponse(exc.url, status_code=303)

    app.add_exception_handler(Redirect, redirect)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            try:
                yield state
            finally:
                await web.feed.close()

    app.router.lifespan_context = lifespan
    app.state.web = web
