"""Rows the CLI and the HTTP API both answer with: the fields of an update (spelled in
storage/rows.py), the configured sources with their crawl state, and an update's revisions
with word diffs."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from storage.rows import UPDATE_FIELDS, RevisionRow
from vigie.config import Config
from vigie.diff import word_diff


class SourceRow(TypedDict):
    """A configured source with its crawl state (defaults when it never ran)."""

    name: str
    url: str
    kind: str
    interval: float  # seconds
    enabled: bool
    last_crawl_at: datetime | None
    last_status: str | None
    last_error: str | None
    next_run_at: datetime | None
    updates: int
    ended: bool
    gone: bool
    failures: int
    backoff_until: datetime | None
    current_interval: float | None  # seconds
    last_worker: str | None  # whose poll was saved last (cluster mode: its worker_name)


SOURCE_FIELDS: tuple[str, ...] = tuple(SourceRow.__annotations__)


class DiffedRevision(RevisionRow, total=False):
    diff: dict[str, str]  # from the previous revision: [-removed-] {+added+}, fields edited


def update_columns(*, searched: bool = False, collapsed: bool = False) -> tuple[str, ...]:
    """The columns of an update row, plus `rank` when searching and `sources` when collapsed."""
    extra = (("rank",) if searched else ()) + (("sources",) if collapsed else ())
    return UPDATE_FIELDS + extra


def source_rows(cfg: Config, states: Mapping[str, Mapping[str, Any]]) -> list[SourceRow]:
    """Each configured source with its crawl state from the store (defaults when never run)."""
    rows: list[SourceRow] = []
    for s in cfg.sources:
        st = states.get(s.name, {})
        rows.append(
            SourceRow(
                name=s.name,
                url=s.url,
                kind=s.kind,
                interval=cfg.interval_of(s),
                enabled=s.enabled,
                last_crawl_at=st.get("last_crawl_at"),
                last_status=st.get("last_status"),
                last_error=st.get("last_error"),
                next_run_at=st.get("next_run_at") if s.enabled else None,
                updates=st.get("updates", 0),
                ended=bool(st.get("ended")),
                gone=bool(st.get("gone")),
                failures=st.get("failures", 0),
                backoff_until=st.get("backoff_until"),
                current_interval=st.get("current_interval"),
                last_worker=st.get("last_worker"),
            )
        )
    return rows


def history_with_diffs(history: list[RevisionRow]) -> list[DiffedRevision]:
    """Revisions (oldest first), each after the first with a `diff` of what changed:
    {"headline": ..., "body": ...} in [-removed-] {+added+} form, only the fields edited."""
    out: list[DiffedRevision] = [DiffedRevision(**history[0])] if history else []
    for prev, rev in itertools.pairwise(history):
        diff = {
            part: word_diff(prev[part], rev[part])
            for part in ("headline", "body")
            if prev[part] != rev[part]
        }
        out.append(DiffedRevision(**rev, diff=diff))
    return out
