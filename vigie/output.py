"""Rows printed for people (rich tables) and for programs (json, jsonl, csv)."""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vigie.terminal import plain_text, safe

FORMATS = ("table", "json", "jsonl", "csv")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, never naive."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with JSON-friendly values (datetimes as ISO strings)."""
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


# Characters JSON may carry raw that a terminal could obey (DEL, C1 controls, line and
# paragraph separators, bidi controls) or that cannot be encoded (lone surrogates): written
# as \\uXXXX escapes, which decode to the same string.
_JSON_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def printable_json(text: str) -> str:
    """A JSON document with the characters of _JSON_RAW written as escapes (the same data)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps(value: Any, **options: Any) -> str:
    """JSON as faithful as `json.dumps` and safe to print: no raw control character."""
    return printable_json(json.dumps(value, ensure_ascii=False, **options))


def write_rows(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    *,
    columns: Sequence[str],
    table_columns: Sequence[str] | None = None,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    if fmt == "jsonl":
        for row in rows:
            out.write(dumps(plain(row)) + "\n")
    elif fmt == "json":
        out.write(dumps([plain(r) for r in rows], indent=2) + "\n")
    elif fmt == "csv":
        # To a file or a pipe, the data as stored; to a terminal, its controls made visible.
        shown = safe if out.isatty() else None
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v, shown) for k, v in plain(row).items()})
    else:
        write_table(list(rows), table_columns or columns, title=title, out=out)


def _cell(value: Any, shown: Callable[[str], str] | None = None) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return dumps(value)
    if isinstance(value, str) and shown is not None:
        return shown(value)
    return "" if value is None else value


TEXT_WIDTH = 70  # characters of a text cell (a headline, an error) in a table
PIPED_WIDTH = 10**7  # piped tables are as wide as their rows: nothing wrapped or cut
SECONDS = frozenset({"interval", "current_interval"})


def when(value: datetime) -> str:
    """A time for people, in the local zone and naming it: 2026-01-06 20:08 CET."""
    local = value.astimezone()
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or local.strftime('%z')}"


def is_url_column(column: str) -> bool:
    return column == "url" or column.endswith("_url")


def shorten(text: str, width: int = TEXT_WIDTH) -> str:
    """One line of at most `width` characters, whitespace runs as one space."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _table_cell(row: dict[str, Any], column: str) -> Text:
    """A table cell from untrusted data: made safe, on one line, never read as markup."""
    value = row.get(column)
    if value is None or value == "":
        if column == "headline" and row.get("body"):
            # Closing posts often have no headline: show how the body starts instead.
            return plain_text(shorten(safe(row["body"], newlines=False), 40), style="italic")
        return Text("")
    if isinstance(value, datetime):
        return Text(when(value))
    if isinstance(value, bool):
        return Text("yes" if value else "")
    if isinstance(value, float) and column in SECONDS:
        return Text(f"{value:g}s")
    if isinstance(value, list | tuple | set):
        value = ", ".join(str(v) for v in value)
    text = safe(value, newlines=False)
    return Text(text if is_url_column(column) else shorten(text))


def write_table(
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    tty = out.isatty()
    # Piped tables keep their full width: no URL folded over two lines, nothing cut.
    console = Console(file=out, soft_wrap=False, width=None if tty else PIPED_WIDTH)
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        url = is_url_column(col)
        table.add_column(col, overflow="fold", no_wrap=url and not tty)
    for row in rows:
        table.add_row(*(_table_cell(row, c) for c in columns))
    console.print(table)
    if not rows:
        console.print("(nothing)")


def write_update(row: dict[str, Any], out: TextIO | None = None) -> None:
    """One update for people: fields, text, revisions as word diffs, sightings; every piece
    of it from the page made safe for the terminal and never read as markup."""
    from vigie.diff import word_diff_text

    console = Console(file=out or sys.stdout, highlight=False, emoji=False)
    headline = safe(row["headline"], newlines=False) if row["headline"] else None
    console.print(
        Text.assemble(
            (f"#{row['id']}", "bold"),
            " ",
            safe(row["source"], newlines=False),
            "  ",
            headline or ("(no headline)", "italic"),
        )
    )
    for key in ("url", "published_at", "updated_at", "first_seen_at", "last_seen_at"):
        value = row.get(key)
        if value:
            shown = iso(value) if isinstance(value, datetime) else safe(value, newlines=False)
            console.print(Text(f"  {key}: {shown}"))
    flags = [f"revisions: {row['revisions']}"]
    if row["highlighted"]:
        flags.append("highlighted")
    if row["story"] is not None:
        flags.append(f"story: {row['story']}")
    console.print(Text("  " + ", ".join(flags)))
    console.print()
    console.print(plain_text(row["body"]))
    history = row.get("history", [])
    for prev, rev in itertools.pairwise(history):
        console.print()
        console.print(
            Text.assemble((f"revision {rev['number']}", "bold"), f" seen {iso(rev['seen_at'])}")
        )
        for part in ("headline", "body"):
            if prev[part] != rev[part]:
                console.print(Text(f"  {part}: ") + word_diff_text(prev[part], rev[part]))
    if row.get("sightings"):
        console.print()
        console.print(Text("also seen in", style="bold"))
        for s in row["sightings"]:
            line = f"  #{s['id']} {s['source']}  {shorten(s['headline'] or '')}  {s['url'] or ''}"
            console.print(Text(safe(line, newlines=False)))
