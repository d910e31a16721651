"""The rows the store answers with, spelled once: an update (`UpdateRow`, and in a list
`ListedUpdateRow`, with its rank or the other sources of its story) and a revision
(`RevisionRow`). The queries build them here; the shell's outputs and the API's models are
derived from these types.

Times are aware UTC datetimes; the outputs turn them into ISO 8601 strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

from storage.models import Revision, Source, Update


class UpdateRow(TypedDict):
    id: int
    source: str  # the source's name
    url: str | None
    headline: str
    body: str
    published_at: datetime | None
    updated_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    revisions: int
    highlighted: bool
    story: int | None


class ListedUpdateRow(UpdateRow, total=False):
    rank: float  # when searching: higher is better (not comparable across databases)
    sources: list[str]  # when collapsed: the other sources of the story


class RevisionRow(TypedDict):
    number: int
    headline: str
    body: str
    updated_at: datetime | None
    seen_at: datetime


UPDATE_FIELDS: tuple[str, ...] = tuple(UpdateRow.__annotations__)
# Row fields the models name otherwise; `source` is the name of the update's Source.
_ATTRIBUTES = {"story": "story_id"}


def update_row(u: Update, source: str) -> UpdateRow:
    """The row of an update loaded as an object, `source` its source's name."""
    row = {f: source if f == "source" else getattr(u, _ATTRIBUTES.get(f, f)) for f in UPDATE_FIELDS}
    return cast(UpdateRow, row)


def update_row_columns() -> list[Any]:
    """The columns to select (from updates joined with sources) for update rows, labelled
    with the row's field names."""
    return [
        (Source.name if f == "source" else getattr(Update, _ATTRIBUTES.get(f, f))).label(f)
        for f in UPDATE_FIELDS
    ]


def revision_row(r: Revision, current: Update) -> RevisionRow:
    """A revision of `current`; the current version's text is stored in the update alone."""
    row = {f: getattr(r, f) for f in RevisionRow.__annotations__}
    if r.headline is None or r.body is None:
        row["headline"], row["body"] = current.headline, current.body
    return cast(RevisionRow, row)
