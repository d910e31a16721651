"""Rows printed for people (rich tables) and for programs (json, jsonl, csv)."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "jsonl", "csv")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, never naive."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row with JSON-friendly values (datetimes as ISO strings)."""
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


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
            out.write(json.dumps(plain(row), ensure_ascii=False) + "\n")
    elif fmt == "json":
        json.dump([plain(r) for r in rows], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in plain(row).items()})
    else:
        write_table(list(rows), table_columns or columns, title=title, out=out)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _short(value: Any, width: int = 70) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else ""
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def write_table(
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    # Piped tables keep their full width instead of folding at 80 columns.
    console = Console(file=out, soft_wrap=False, width=None if out.isatty() else 200)
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(_short(row.get(c)) for c in columns))
    console.print(table)
    if not rows:
        console.print("(nothing)")


def write_update(row: dict[str, Any], out: TextIO | None = None) -> None:
    """One update for people: fields, text, revisions as word diffs, sightings."""
    from vigie.diff import word_diff

    console = Console(file=out or sys.stdout, highlight=False)
    console.print(
        f"[bold]#{row['id']}[/bold] {row['source']}  {row['headline'] or '(no headline)'}"
    )
    for key in ("url", "published_at", "updated_at", "first_seen_at", "last_seen_at"):
        if row.get(key):
            console.print(
                f"  {key}: {iso(row[key]) if isinstance(row[key], datetime) else row[key]}"
            )
    flags = [f"revisions: {row['revisions']}"]
    if row["highlighted"]:
        flags.append("highlighted")
    if row["story"] is not None:
        flags.append(f"story: {row['story']}")
    console.print("  " + ", ".join(flags))
    console.print()
    console.print(row["body"], markup=False)
    history = row.get("history", [])
    for prev, rev in itertools.pairwise(history):
        console.print()
        console.print(f"[bold]revision {rev['number']}[/bold] seen {iso(rev['seen_at'])}")
        if prev["headline"] != rev["headline"]:
            console.print("  headline: " + word_diff(prev["headline"], rev["headline"]))
        if prev["body"] != rev["body"]:
            console.print("  body: " + word_diff(prev["body"], rev["body"]))
    if row.get("sightings"):
        console.print()
        console.print("[bold]also seen in[/bold]")
        for s in row["sightings"]:
            console.print(
                f"  #{s['id']} {s['source']}  {_short(s['headline'])}  {s['url'] or ''}",
                markup=False,
            )
