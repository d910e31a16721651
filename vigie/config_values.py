"""The values people write in a config or on a command line, parsed and bounded: durations
("30s", "5m", "1h30m" or seconds), sizes ("8MB"), percentages ("10%"), times (ISO 8601 or
"2h" back from now) and database URLs. Each parser raises ValueError saying why, with the
value quoted and cut when long (`shown`); `Duration`, `Size` and `Percent` are the pydantic
types the config's models use.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

MIN_DURATION = 1.0  # seconds: intervals, timeouts and the like
MAX_DURATION = 30 * 86400.0
MAX_SIZE = 1024**3
SUPPORTED_DATABASES = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.I)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {None: 1, "b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2}
_SIZE_UNITS |= {"gb": 1024**3, "gib": 1024**3}


def shown(value: Any, width: int = 40) -> str:
    """A value quoted for an error message, cut when long (a pasted page, 100 KB of junk)."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_duration(value: Any) -> float:
    """Seconds from 30, "30s", "5m", "1h30m", "1.5h" or "250ms"."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an integer beyond any float
            raise ValueError(f"duration too long: {shown(value)}") from None
        if not math.isfinite(seconds):
            raise ValueError(f"duration must be a finite number, got {value!r}")
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(f"invalid duration {shown(value)} (use 30s, 5m, 1h or seconds)")
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise ValueError(f"invalid duration {shown(value)} (use 30s, 5m, 1h or seconds)")
    if not math.isfinite(seconds):
        raise ValueError(f"duration too long: {shown(value)}")
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {shown(value)}")
    return seconds


def bounded_duration(seconds: float) -> float:
    """A config duration: from MIN_DURATION (1 s) to MAX_DURATION (30 days)."""
    if seconds < MIN_DURATION:
        raise ValueError(f"must be at least 1s, got {seconds:g}s")
    if seconds > MAX_DURATION:
        raise ValueError(f"must be at most 30 days, got {seconds:g}s")
    return seconds


def parse_time(value: str, *, now: datetime | None = None) -> datetime:
    """An aware UTC datetime from ISO 8601 (naive means local time) or a duration back from
    now ("2h", "30m"); ValueError, saying why, otherwise (a time out of range included)."""
    try:
        seconds = parse_duration(value)
    except ValueError:
        pass
    else:
        try:
            return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
        except OverflowError:
            raise ValueError(f"{shown(value)} goes back before the year 1") from None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{shown(value)} is neither ISO 8601 nor a duration like 2h") from None
    try:
        return (when if when.tzinfo else when.astimezone()).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{shown(value)} is out of the range of times") from None


def parse_size(value: Any) -> int:
    """Bytes from 1048576, "8MB", "512KB" (binary units: 1 MB = 1024 * 1024 bytes)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid size {value!r}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (m := _SIZE.match(value)):
        unit = m.group(2).lower() if m.group(2) else None
        number = float(m.group(1)) * _SIZE_UNITS[unit]
        if not math.isfinite(number):
            raise ValueError(f"size too large: {shown(value)}")
        size = int(number)
    else:
        raise ValueError(f"invalid size {shown(value)} (use bytes or 512KB, 8MB, 1GB)")
    if size <= 0:
        raise ValueError(f"size must be positive, got {shown(value)}")
    if size > MAX_SIZE:
        raise ValueError(f"size must be at most 1GB, got {shown(value)}")
    return size


def parse_percent(value: Any) -> float:
    """A fraction from "10%", 0.1 or 10 (read as percent when above 1)."""
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            fraction = float(value.strip()[:-1]) / 100
        elif isinstance(value, int | float) and not isinstance(value, bool):
            fraction = value / 100 if value > 1 else float(value)
        else:
            raise ValueError
    except (ValueError, OverflowError):
        raise ValueError(f'invalid percentage {shown(value)} (use "10%")') from None
    if not 0 <= fraction <= 1:  # NaN fails this too
        raise ValueError(f"percentage must be between 0% and 100%, got {shown(value)}")
    return fraction


def retention(seconds: float) -> float:
    """How long records are kept: from an hour to ten years."""
    if seconds < 3600:
        raise ValueError(f"must be at least 1h, got {seconds:g}s")
    if seconds > 3650 * 86400:
        raise ValueError(f"must be at most 3650d, got {seconds:g}s")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(bounded_duration)]
Retention = Annotated[float, BeforeValidator(parse_duration), AfterValidator(retention)]
Size = Annotated[int, BeforeValidator(parse_size)]
Percent = Annotated[float, BeforeValidator(parse_percent)]


def database_url(url: str) -> str:
    """A storage URL vigie can use: SQLite, or PostgreSQL through psycopg 3
    (`postgresql://` and `postgres://` mean that too)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL: {shown(url)} (use {SUPPORTED_DATABASES})") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(
        f"unsupported database {parsed.drivername!r} (supported: {SUPPORTED_DATABASES})"
    )
