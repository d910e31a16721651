"""The selection of `GET /updates` (and of `/search`, its twin for people): its query
parameters read into an UpdateFilter, as one FastAPI dependency, and a page of it as the
JSON the API answers. Bad values are 400s naming the parameter (see vigie/api.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request

from storage.filters import Page, UpdateFilter
from storage.search import MAX_QUERY_CHARS
from vigie.filters import ParamError, parse_when
from vigie.output import plain

MAX_LIMIT = 1000  # rows per page, whatever the client asks
DEFAULT_LIMIT = 100
SEARCH_HELP = 'Words, "phrases", -excluded'

Sources = Annotated[list[str] | None, Query(description="Source name (repeatable)")]


def _when(value: str | None, name: str) -> datetime | None:
    try:
        return parse_when(value, name)
    except ParamError as exc:
        raise HTTPException(400, str(exc)) from None


def selection(
    source: Sources = None,
    since: Annotated[
        str | None, Query(description="Published at or after: ISO 8601 or a duration (2h)")
    ] = None,
    until: Annotated[
        str | None, Query(description="Published at or before: ISO 8601 or a duration")
    ] = None,
    seen_since: Annotated[
        str | None,
        Query(description="Arrived (first seen by vigie) at or after: ISO 8601 or 2h"),
    ] = None,
    highlighted: Annotated[bool, Query(description="Key moments only")] = False,
    edited: Annotated[bool, Query(description="Edited updates only")] = False,
    collapse: Annotated[bool, Query(description="One row per story")] = False,
    order: Annotated[str | None, Query(description="newest or rank")] = None,
    limit: Annotated[int, Query(ge=1, description=f"At most {MAX_LIMIT}")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="next_cursor of a page")] = None,
) -> UpdateFilter:
    """Every parameter of the selection but the search."""
    return UpdateFilter(
        sources=source or (),
        since=_when(since, "since"),
        until=_when(until, "until"),
        seen_since=_when(seen_since, "seen_since"),
        highlighted=True if highlighted else None,
        edited=True if edited else None,
        collapse=collapse,
        order=order,
        cursor=cursor,
        limit=min(limit, MAX_LIMIT),
    )


Selection = Annotated[UpdateFilter, Depends(selection)]


def update_selection(
    f: Selection,
    search: Annotated[
        str | None, Query(max_length=MAX_QUERY_CHARS, description=SEARCH_HELP)
    ] = None,
) -> UpdateFilter:
    """`/updates`: the selection, searched with `search`."""
    f.search = search
    return f


def search_selection(
    f: Selection,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS, description=SEARCH_HELP)] = None,
) -> UpdateFilter:
    """`/search`: the selection, searched with `q` (none when empty)."""
    f.search = q if q and q.strip() else None
    return f


def page_json(request: Request, f: UpdateFilter, page: Page) -> dict[str, Any]:
    """A page of updates as the API answers it, with the URL of the next one."""
    after = page.next_cursor
    return {
        "updates": [plain(r) for r in page.rows],
        "limit": f.limit,
        "next_cursor": after,
        "next": str(request.url.include_query_params(cursor=after)) if after else None,
    }
