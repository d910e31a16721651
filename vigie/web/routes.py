"""The pages and the live stream. Each page is a route that matches only a request that
wants HTML (vigie/web/negotiate.py), put ahead of the API route at the same URL, which
answers everyone else; both read their data from the same functions (views.py,
timeline.py) and go through the same token check and parameter checks."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import Scope

from storage.changes import Change, latest_revision_id
from storage.db import Store
from storage.filters import MAX_ID, UpdateFilter
from storage.queries import find_updates
from storage.sources import source_names
from vigie.config import Config
from vigie.filters import check_sources
from vigie.selection import Sources, search_selection
from vigie.web import views
from vigie.web.format import title
from vigie.web.highlight import Marker
from vigie.web.i18n import LANGUAGES
from vigie.web.live import Busy, ChangeFeed, Event
from vigie.web.negotiate import wants_html
from vigie.web.render import fragment, language, page, url_with
from vigie.web.timeline import DEFAULT_LIMIT, rows_for_changes, timeline

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SEARCH_PARAMS = ("q", "since", "until", "seen_since", "order", "cursor")


def _true(value: str | None) -> bool:
    """A boolean parameter as FastAPI reads it."""
    return (value or "").strip().lower() in ("1", "true", "on", "yes")


class PageRoute(APIRoute):
    """A route for browsers: it matches only requests that want HTML."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not wants_html(scope):
            return Match.NONE, {}
        return super().matches(scope)


class Redirect(Exception):
    """Send the browser elsewhere (a handler in vigie/web/__init__.py answers 303)."""

    def __init__(self, url: str) -> None:
        self.url = url


def drop_blank(request: Request) -> None:
    """A form sends its empty fields (since=&until=): the same search without them."""
    items = request.query_params.multi_items()
    if any(k in SEARCH_PARAMS and not v.strip() for k, v in items):
        kept = {k: [v for kk, v in items if kk == k and v.strip()] for k, _ in items}
        raise Redirect(url_with(request, **{k: v or None for k, v in kept.items()}))


class Web:
    """The pages of one app: its config, its store, its change feed."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.zones = views.zones(config)
        self.feed = ChangeFeed(store, self.render_changes)

    def sources(self, session: Session) -> list[str]:
        """Every source a reader can pick: the configured ones, then the stored ones."""
        configured = [s.name for s in self.config.sources]
        return configured + [n for n in source_names(session) if n not in configured]

    def known(self, session: Session, names: Sequence[str] | None) -> None:
        check_sources(self.config, session, names or (), "source")

    # --- live ------------------------------------------------------------------------------

    def render_changes(
        self, session: Session, changes: Sequence[Change], key: Hashable
    ) -> list[Event]:
        """The live events of a kind of page, key (sources, language, root path)."""
        sources, lang, root = key  # type: ignore[misc]
        events = []
        for change, row in rows_for_changes(session, changes, sources):
            html = fragment("_row.html", lang, {"row": row, "zones": self.zones, "root": root})
            data = {
                "kind": "new" if change.new else "edited",
                "update": change.update_id,
                "revision": change.number,
                "row": row,
                "html": html,
            }
            events.append(Event(change.revision_id, "update", json.dumps(data)))
        return events

    # --- routes ------------------------------------------------------------------------------

    def router(self) -> APIRouter:
        pages = APIRouter(route_class=PageRoute, include_in_schema=False)
        web = self

        @pages.get("/")
        def timeline_page(
            request: Request,
            source: Sources = None,
            cursor: Annotated[str | None, Query()] = None,
            limit: Annotated[int, Query(ge=1)] = DEFAULT_LIMIT,
        ) -> Response:
            with web.store.read_session() as session:
                web.known(session, source)
                after = latest_revision_id(session)
                found = timeline(session, source or (), cursor=cursor, limit=limit)
                names = web.sources(session)
            live = None
            if cursor is None:  # an older page is not live
                query = [("source", s) for s in source or ()]
                query += [("after", str(after)), ("lang", language(request))]
                live = f"{request.scope.get('root_path', '')}/live?{urlencode(query)}"
            return page(
                request,
                "timeline.html",
                {
                    "page_name": "timeline",
                    "rows": found.rows,
                    "zones": web.zones,
                    "sources": names,
                    "chosen": source or [],
                    "older": url_with(request, cursor=found.next_cursor)
                    if found.next_cursor
                    else None,
                    "newest": url_with(request, cursor=None) if cursor else None,
                    "live_url": live,
                },
            )

        @pages.get("/updates")
        def updates_page(request: Request) -> Response:
            """The list of updates for people is the search page."""
            items = [
                ("q" if k == "search" else k, v) for k, v in request.query_params.multi_items()
            ]
            query = urlencode(items)
            target = f"{request.scope.get('root_path', '')}/search" + (f"?{query}" if query else "")
            return RedirectResponse(target, status_code=303)

        @pages.get("/search", dependencies=[Depends(drop_blank)])
        def search_page(
            request: Request, f: Annotated[UpdateFilter, Depends(search_selection)]
        ) -> Response:
            return web.search_page(request, f)

        @pages.get("/updates/{update_id}")
        def update_page(request: Request, update_id: Id) -> Response:
            with web.store.read_session() as session:
                row = views.update_detail(session, update_id)
            if row is None:
                raise HTTPException(404, f"no update with id {update_id}")
            return page(
                request,
                "update.html",
                {
                    "page_name": "update",
                    "row": row,
                    "changes": views.revision_changes(row["history"]),
                    "zones": web.zones,
                },
            )

        @pages.get("/stories/{story_id}")
        def story_page(request: Request, story_id: Id) -> Response:
            with web.store.read_session() as session:
                found = views.story_detail(session, story_id)
            if found is None:
                raise HTTPException(404, f"no story with id {story_id}")
            return page(
                request,
                "story.html",
                {
                    "page_name": "story",
                    "story": story_id,
                    "copies": views.story_copies(found),
                    "zones": web.zones,
                },
            )

        @pages.get("/sources")
        def sources_page(request: Request) -> Response:
            with web.store.read_session() as session:
                rows = views.sources_data(web.config, session)
            shown = [r | {"status": views.source_status(r), "chart": views.chart(r)} for r in rows]
            return page(
                request,
                "sources.html",
                {"page_name": "sources", "rows": shown, "zones": web.zones},
            )

        return pages

    def search_page(
        self, request: Request, f: UpdateFilter | None, error: str | None = None
    ) -> Response:
        """The search page: its form filled from the URL, and the results of `f` (none
        when the form has nothing to look for, or when `error` says what is wrong)."""
        params = request.query_params
        asked = any(params.get(k) for k in (*SEARCH_PARAMS, "source", "highlighted", "edited"))
        rows: list[dict[str, Any]] = []
        after = None
        with self.store.read_session() as session:
            names = self.sources(session)
            if f is not None and error is None and asked:
                self.known(session, list(f.sources))
                found = find_updates(session, f)
                rows, after = found.rows, found.next_cursor
        form = {k: params.get(k, "") for k in ("since", "until", "seen_since", "order")}
        form |= {k: _true(params.get(k)) for k in ("highlighted", "edited")}
        form["filtered"] = any(
            form[k] for k in ("since", "until", "seen_since", "highlighted", "edited")
        ) or bool(params.getlist("source"))
        marker = Marker(f.search if f else None)
        results = [
            r | {"title_pieces": marker.pieces(title(r)), "snippet": marker.snippet(r["body"])}
            for r in rows
        ]
        return page(
            request,
            "search.html",
            {
                "page_name": "search",
                "q": params.get("q", ""),
                "form": form,
                "chosen": params.getlist("source"),
                "sources": names,
                "asked": asked,
                "results": results,
                "zones": self.zones,
                "next": url_with(request, cursor=after) if after else None,
                "first": url_with(request, cursor=None) if params.get("cursor") else None,
                "error": error,
            },
            status=400 if error else 200,
        )

    def live_router(self) -> APIRouter:
        router = APIRouter()
        web = self

        @router.get(
            "/live",
            name="live",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}},
        )
        async def live(
            request: Request,
            source: Sources = None,
            after: Annotated[
                int | None, Query(ge=0, le=MAX_ID, description="The last revision id known")
            ] = None,
            lang: Annotated[str | None, Query(description="en or fr, for the `html`")] = None,
            last_event_id: Annotated[str | None, Header()] = None,
        ) -> StreamingResponse:
            """New and edited updates as server-sent events (`update`: kind, update,
            revision, the timeline row as JSON and as HTML), after revision `after` (or
            Last-Event-ID); `stale` when too much was missed to send it all."""
            with web.store.read_session() as session:
                web.known(session, source)
            resumed = after
            if last_event_id and last_event_id.strip().isdigit():
                resumed = max(resumed or 0, min(int(last_event_id), MAX_ID))
            chosen = lang if lang in LANGUAGES else language(request)
            key = (tuple(sorted(set(source or ()))), chosen, request.scope.get("root_path", ""))
            try:
                events = await web.feed.stream(key, resumed)
            except Busy as exc:
                raise HTTPException(503, str(exc)) from None
            return StreamingResponse(
                events,
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )

        return router
