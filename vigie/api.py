"""The read-only HTTP API of `vigie serve`: JSON endpoints mirroring the CLI (/updates,
/search, /updates/{id}, /sources, /stories/{id}), the timeline with an index of them at /,
OpenAPI docs (/docs, with Swagger UI served from the package: it works offline;
/openapi.json) and Atom feeds out (/feeds/{source}.atom, /feeds/search.atom?q=...).
The same URLs are web pages for browsers (vigie/web: a request asking for text/html gets
the page, every other one the JSON, as before the pages existed).

One Store per app, one read-only session per request (it never takes SQLite's write lock
nor writes on PostgreSQL). With `[api] token` set, every data endpoint asks for it: as a
bearer token, or as the password of HTTP Basic auth (what most feed readers can send).
Bad input (a malformed or out-of-range parameter, an unknown source) is a 400 naming the
parameter and the reason, never a 500; limits are capped rather than refused.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage.changes import latest_revision_id
from storage.db import Store
from storage.filters import MAX_ID, QueryError, UpdateFilter
from storage.queries import find_updates, list_updates
from storage.search import MAX_QUERY_CHARS
from storage.sources import source_names
from vigie import __version__
from vigie.alerts_api import add_alert_routes
from vigie.api_models import SourceOut, StoryOut, UpdateDetail, UpdatePage
from vigie.atom import ID_PREFIX, FeedInfo, build_feed
from vigie.config import Config
from vigie.config_values import shown
from vigie.docs import add_docs
from vigie.filters import ParamError, check_sources
from vigie.health import METRICS_TYPE as METRICS
from vigie.health import health, metrics
from vigie.selection import (
    Sources,
    page_json,
    search_selection,
    update_selection,
)
from vigie.web import add_web
from vigie.web.timeline import DEFAULT_LIMIT as TIMELINE_LIMIT
from vigie.web.timeline import timeline
from vigie.web.views import sources_data, story_detail, update_detail

FEED_ENTRIES = 50
ATOM = "application/atom+xml"
CHALLENGE = 'Bearer realm="vigie", Basic realm="vigie"'


Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Selection = Annotated[UpdateFilter, Depends(update_selection)]
Searched = Annotated[UpdateFilter, Depends(search_selection)]


def _authorizer(token: str | None) -> Any:
    expected = token.encode() if token else None

    def authorize(request: Request) -> None:
        if expected is None:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        given = value.strip().encode()
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(given, validate=True).partition(b":")[2]
            except (binascii.Error, ValueError):
                given = b""
        elif scheme.lower() != "bearer":
            given = b""
        if not given or not secrets.compare_digest(given, expected):
            raise HTTPException(
                401, "a valid token is required", headers={"WWW-Authenticate": CHALLENGE}
            )

    return authorize


def create_app(config: Config, store: Store | None = None) -> FastAPI:
    """The API over the config's store (or `store`, which the caller then owns)."""
    owned = store is None
    db = store if store is not None else Store(config.storage.url, create=False)
    token = config.api.token.get_secret_value() if config.api.token else None
    names = {s.name: s for s in config.sources}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.close()

    app = FastAPI(
        title="vigie",
        version=__version__,
        summary="Read-only access to the updates vigie stored, as JSON and Atom feeds.",
        lifespan=lifespan,
        dependencies=[Depends(_authorizer(token))],
        docs_url=None,  # add_docs: Swagger UI from the package, not from a CDN
        redoc_url=None,
    )
    add_docs(app)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        messages = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            messages.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(messages)}, status_code=400)

    @app.exception_handler(QueryError)
    async def bad_query(_request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(ParamError)
    async def bad_param(_request: Request, exc: ParamError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(SQLAlchemyError)
    async def store_down(_request: Request, _exc: SQLAlchemyError) -> JSONResponse:
        return JSONResponse({"detail": "store: the database cannot be read now"}, 503)

    def known(session: Session, names: list[str] | None) -> None:
        check_sources(config, session, names or (), "source")

    @app.get("/", include_in_schema=False)
    def index(
        request: Request,
        source: Sources = None,
        cursor: Annotated[str | None, Query(description="next_cursor of a page")] = None,
        limit: Annotated[int, Query(ge=1)] = TIMELINE_LIMIT,
    ) -> dict[str, Any]:
        """What this server answers, and the timeline (the JSON of the page at /): the
        newest updates, one row per story (`copies`), and where to follow it live."""
        with db.read_session() as session:
            known(session, source)
            after = latest_revision_id(session)  # before the rows: nothing falls between
            page = timeline(session, source or (), cursor=cursor, limit=limit)
        live = request.url_for("live").include_query_params(after=after)
        return {
            "name": "vigie",
            "version": __version__,
            "docs": str(request.url_for("docs")),
            "openapi": str(request.url_for("openapi")),
            "endpoints": sorted(
                {route.path for route in app.routes if getattr(route, "include_in_schema", 0)}
            ),
            "live": str(live.include_query_params(source=source) if source else live),
            "updates": page.rows,
            "next_cursor": page.next_cursor,
            "next": (
                str(request.url.include_query_params(cursor=page.next_cursor))
                if page.next_cursor
                else None
            ),
        }

    def run_page(request: Request, f: UpdateFilter) -> dict[str, Any]:
        with db.read_session() as session:
            known(session, list(f.sources))
            page = find_updates(session, f)
        return page_json(request, f, page)

    @app.get("/updates", response_model=UpdatePage, response_model_exclude_unset=True)
    def updates(request: Request, f: Selection) -> dict[str, Any]:
        """Stored updates, newest first (best match first when searching), a page at a time."""
        return run_page(request, f)

    @app.get("/search", response_model=UpdatePage, response_model_exclude_unset=True)
    def search(request: Request, f: Searched) -> dict[str, Any]:
        """The JSON of the search page: what /updates?search=q answers (without `q`, the
        selection unsearched)."""
        return run_page(request, f)

    @app.get("/updates/{update_id}", response_model=UpdateDetail, response_model_exclude_unset=True)
    def update(update_id: Id) -> dict[str, Any]:
        """One update with its revisions (word diffs) and its copies in other sources."""
        with db.read_session() as session:
            row = update_detail(session, update_id)
        if row is None:
            raise HTTPException(404, f"no update with id {update_id}")
        return row

    @app.get("/sources", response_model=list[SourceOut])
    def sources() -> list[dict[str, Any]]:
        """The configured sources with their crawl state and their arrivals per hour."""
        with db.read_session() as session:
            return sources_data(config, session)

    @app.get("/health", responses={503: {"description": "Unhealthy: see `problems`"}})
    def health_check() -> JSONResponse:
        """Database reachable, daemon or cluster processes alive (heartbeat ages), sources
        failing, the queue of due polls; 503 when unhealthy."""
        code, body = health(config, db)
        return JSONResponse(jsonable_encoder(body), status_code=code)

    @app.get("/metrics", response_class=Response, responses={200: {"content": {METRICS: {}}}})
    def prometheus() -> Response:
        """Prometheus metrics: sources by status, the queue, processes and heartbeats."""
        return Response(content=metrics(config, db), media_type=METRICS)

    @app.get("/stories/{story_id}", response_model=StoryOut, response_model_exclude_unset=True)
    def story(story_id: Id) -> dict[str, Any]:
        """The copies of one news item across sources, newest first."""
        with db.read_session() as session:
            found = story_detail(session, story_id)
        if found is None:
            raise HTTPException(404, f"no story with id {story_id}")
        return found

    def atom(body: bytes) -> Response:
        return Response(content=body, media_type=ATOM)

    def api_link(request: Request) -> Any:
        return lambda row: str(request.url_for("update", update_id=row["id"]))

    @app.get(
        "/feeds/search.atom", response_class=Response, responses={200: {"content": {ATOM: {}}}}
    )
    def search_feed(
        request: Request,
        q: Annotated[
            str,
            Query(
                min_length=1, max_length=MAX_QUERY_CHARS, description='Words, "phrases", -excluded'
            ),
        ],
        source: Sources = None,
    ) -> Response:
        """The newest updates matching a search, as an Atom feed."""
        f = UpdateFilter(sources=source or (), search=q, order="newest", limit=FEED_ENTRIES)
        with db.read_session() as session:
            known(session, source)
            rows = list_updates(session, f)
        info = FeedInfo(
            id=f"{ID_PREFIX}search:{quote(q)}:{quote(','.join(sorted(source or [])))}",
            title=f"vigie: {q}",
            subtitle=f"Updates matching {q}",
            self_url=str(request.url),
        )
        return atom(build_feed(info, rows, api_link(request)))

    @app.get(
        "/feeds/{source}.atom", response_class=Response, responses={200: {"content": {ATOM: {}}}}
    )
    def source_feed(request: Request, source: str) -> Response:
        """The newest updates of one source, as an Atom feed."""
        with db.read_session() as session:
            # Compared here, not in SQL: a name with a NUL would fail on PostgreSQL.
            if source not in names and source not in source_names(session):
                raise HTTPException(404, f"no source named {shown(source)}")
            rows = list_updates(session, UpdateFilter(sources=[source], limit=FEED_ENTRIES))
        spec = names.get(source)
        info = FeedInfo(
            id=f"{ID_PREFIX}source:{source}",
            title=source,
            subtitle=f"Updates of {spec.url}" if spec else None,
            self_url=str(request.url),
            alternate_url=spec.url if spec else None,
        )
        return atom(build_feed(info, rows, api_link(request)))

    add_web(app, config, db)
    add_alert_routes(app, config, db)
    return app
