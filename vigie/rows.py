"""Rows the CLI and the HTTP API both answer with: the fields of an update, the configured
sources with their crawl state, and an update's revisions with word diffs."""

from __future__ import annotations

import itertools
from typing import Any

from vigie.config import Config
from vigie.diff import word_diff

UPDATE_COLUMNS = (
    "id",
    "source",
    "url",
    "headline",
    "body",
    "published_at",
    "updated_at",
    "first_seen_at",
    "last_seen_at",
    "revisions",
    "highlighted",
    "story",
)


def update_columns(*, searched: bool = False, collapsed: bool = False) -> tuple[str, ...]:
    """The columns of an update row, plus `rank` when searching and `sources` when collapsed."""
    extra = (("rank",) if searched else ()) + (("sources",) if collapsed else ())
    return UPDATE_COLUMNS + extra


def source_rows(cfg: Config, states: dict[str, dict]) -> list[dict[str, Any]]:
    """Each configured source with its crawl state from the store (defaults when never run)."""
    rows = []
    for s in cfg.sources:
        st = states.get(s.name, {})
        rows.append(
            {
                "name": s.name,
                "url": s.url,
                "kind": s.kind,
                "interval": cfg.interval_of(s),
                "enabled": s.enabled,
                "last_crawl_at": st.get("last_crawl_at"),
                "last_status": st.get("last_status"),
                "last_error": st.get("last_error"),
                "next_run_at": st.get("next_run_at") if s.enabled else None,
                "updates": st.get("updates", 0),
                "ended": bool(st.get("ended")),
                "gone": bool(st.get("gone")),
                "failures": st.get("failures", 0),
                "backoff_until": st.get("backoff_until"),
                "current_interval": st.get("current_interval"),
                "last_worker": st.get("last_worker"),
            }
        )
    return rows


def history_with_diffs(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Revisions (oldest first), each after the first with a `diff` of what changed:
    {"headline": ..., "body": ...} in [-removed-] {+added+} form, only the fields edited."""
    out = [dict(history[0])] if history else []
    for prev, rev in itertools.pairwise(history):
        diff = {
            part: word_diff(prev[part], rev[part])
            for part in ("headline", "body")
            if prev[part] != rev[part]
        }
        out.append(dict(rev) | {"diff": diff})
    return out
