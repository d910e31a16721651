"""Keyset cursors: where a page of updates ends, as an opaque string the next page starts
after. A cursor names its order, the sort key and id of the page's last row, and in rank
order the id bounds of that row's slice (storage/search.py); one that is not ours, or of
another order, is a QueryError."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime
from typing import Any

from storage.filters import QueryError, is_id

MAX_CURSOR = 400  # characters: ours are under 100


def encode_cursor(
    order: str, key: datetime | float, update_id: int, ranked: tuple[int | None, ...] = ()
) -> str:
    """An opaque cursor: base64url of [order, sort key, id] of the last row of a page, and
    in rank order the [low, high) id bounds of that row's slice (storage/search.py)."""
    value = key.astimezone(UTC).isoformat() if isinstance(key, datetime) else float(key)
    raw = json.dumps([order, value, update_id, *ranked], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor_slice(cursor: str, order: str) -> tuple[datetime | float, int, list[Any]]:
    """The (sort key, id) a cursor resumes after, and the bounds of its rank slice ([] when
    it has none); QueryError when it is not one of ours or not of this order."""
    try:
        if len(cursor) > MAX_CURSOR or not cursor.isascii():
            raise ValueError("not one of ours")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, update_id, *rest = json.loads(raw)
        if kind == "newest":
            key: datetime | float = datetime.fromisoformat(value)
            if key.tzinfo is None:
                raise ValueError("naive time")
            key = key.astimezone(UTC)
            if rest:
                raise ValueError("slice")
        elif kind == "rank":
            key = float(value)
            if not math.isfinite(key):
                raise ValueError("rank")
            if rest and (len(rest) != 2 or not all(v is None or is_id(v) for v in rest)):
                raise ValueError("slice")
        else:
            raise ValueError(kind)
        if not is_id(update_id):
            raise ValueError("id")
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError, RecursionError):
        raise QueryError(f"invalid cursor {cursor[:40]!r}") from None
    if kind != order:
        raise QueryError(f"this cursor continues a list in {kind} order, not {order}")
    return key, update_id, rest


def decode_cursor(cursor: str, order: str) -> tuple[datetime | float, int]:
    """The (sort key, id) a cursor resumes after; QueryError when it is not one of ours."""
    key, update_id, _ = decode_cursor_slice(cursor, order)
    return key, update_id
