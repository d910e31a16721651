"""The selection parameters the CLI and the API share, checked at the edge: times (ISO 8601
or "2h" back from now), source names (known to the config or the store), searches. A bad one
is a `ParamError` naming the parameter and the reason: exit 2 on the CLI, 400 in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where they are used: ParamError stays light (no pydantic, no store)
    from sqlalchemy.orm import Session

    from vigie.config import Config

MAX_LISTED = 20  # known source names listed in an error, at most


class ParamError(ValueError):
    """A parameter that cannot be used: which one (CLI spelling), and why."""

    def __init__(self, param: str, reason: str) -> None:
        self.param, self.reason = param, reason
        super().__init__(f"{param}: {reason}")


def parse_when(value: str | None, param: str) -> datetime | None:
    """A time parameter (`--since`, `seen_since`...), aware and in UTC."""
    if value is None:
        return None
    from vigie.config_values import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        raise ParamError(param, str(exc)) from None


def check_search(value: str | None, param: str) -> str | None:
    """A search the index reads whole (longer ones would be cut, their end ignored)."""
    from storage.search import MAX_QUERY_CHARS

    if value is not None and len(value) > MAX_QUERY_CHARS:
        raise ParamError(param, f"at most {MAX_QUERY_CHARS} characters, got {len(value)}")
    return value


def check_sources(config: Config, session: Session, names: Sequence[str], param: str) -> None:
    """Every name is a configured source or one the store holds; else a ParamError listing
    the known ones (a typo must not look like a source without updates)."""
    configured = [s.name for s in config.sources]
    wanted = [n for n in dict.fromkeys(names) if n not in configured]
    if not wanted:
        return
    from storage.sources import source_names
    from vigie.config_values import shown

    stored = source_names(session)
    unknown = [n for n in wanted if n not in stored]
    if not unknown:
        return
    known = sorted(set(configured) | set(stored))
    listed = ", ".join(known[:MAX_LISTED]) + (", …" if len(known) > MAX_LISTED else "")
    which = ", ".join(shown(n) for n in unknown[:5]) + (", …" if len(unknown) > 5 else "")
    raise ParamError(
        param,
        f"unknown source {which} (known: {listed or 'none: the config has no source'})",
    )
