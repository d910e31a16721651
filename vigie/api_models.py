"""The response models of the HTTP API, derived from the rows the store and the shell answer
with (storage/rows.py, vigie/rows.py): a field added to a row is in the API and its OpenAPI
schema, with its type, without being spelled again. Times travel as ISO 8601 strings in UTC
(vigie.output.plain); a field a row may lack is null when absent."""

from __future__ import annotations

import functools
import operator
from datetime import datetime
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, create_model

from storage.rows import ListedUpdateRow
from vigie.rows import DiffedRevision, SourceRow


def json_type(hint: Any) -> Any:
    """The type of a row field as the API sends it: a datetime is its ISO 8601 string."""
    if hint is datetime:
        return str
    if get_origin(hint) in (Union, UnionType):
        return functools.reduce(operator.or_, (json_type(arg) for arg in get_args(hint)))
    return hint


def model_of(row: Any, name: str) -> type[BaseModel]:
    """A pydantic model with the fields of a row TypedDict, in its order; its optional keys
    (total=False) default to None."""
    optional = row.__optional_keys__
    fields: dict[str, Any] = {}
    for field, hint in get_type_hints(row).items():
        wire = json_type(hint)
        fields[field] = (wire | None, None) if field in optional else (wire, ...)
    return create_model(name, **fields)


UpdateOut = model_of(ListedUpdateRow, "UpdateOut")
RevisionOut = model_of(DiffedRevision, "RevisionOut")
SourceOut = model_of(SourceRow, "SourceOut")
UpdateDetail = create_model(
    "UpdateDetail",
    __base__=UpdateOut,
    history=(list[RevisionOut], ...),  # type: ignore[valid-type]
    sightings=(list[UpdateOut], ...),  # type: ignore[valid-type]
)


class UpdatePage(BaseModel):
    updates: list[UpdateOut]  # type: ignore[valid-type]
    limit: int
    next_cursor: str | None
    next: str | None  # the URL of the next page, None on the last one


class StoryOut(BaseModel):
    story: int
    updates: list[UpdateOut]  # type: ignore[valid-type]
