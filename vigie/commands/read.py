"""The commands that read the store: `updates`, `show`, `sources` and `export`, with the
selection options `updates` and `export` share. Parameters are checked before the store is
opened; the store is only read (no write lock on SQLite)."""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from storage.ids import MAX_ID
from vigie.filters import ParamError
from vigie.output import dumps, write_rows, write_update
from vigie.shell import bad_param, check_format, config, fail, open_store

if TYPE_CHECKING:
    from storage.filters import UpdateFilter

UPDATE_TABLE = ("id", "source", "published_at", "headline", "revisions", "highlighted", "story")
SOURCE_TABLE = (
    "name",
    "kind",
    "interval",
    "enabled",
    "last_status",
    "updates",
    "next_run_at",
    "ended",
    "last_error",
)
EXPORT_FORMATS = ("jsonl", "csv")

SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Source name (repeatable)")
]
SinceOpt = Annotated[
    str | None,
    typer.Option(help="Published at or after: ISO 8601 or a duration back from now (2h)"),
]
UntilOpt = Annotated[
    str | None, typer.Option(help="Published at or before: ISO 8601 or a duration back")
]
SeenSinceOpt = Annotated[
    str | None,
    typer.Option("--seen-since", help="Arrived (first seen by vigie) at or after: ISO 8601 or 2h"),
]
SearchOpt = Annotated[
    str | None,
    typer.Option(help='Full-text search: words (all of them), "a phrase", -excluded'),
]
HighlightedOpt = Annotated[bool, typer.Option("--highlighted", help="Key moments only")]
EditedOpt = Annotated[bool, typer.Option("--edited", help="Edited updates only")]
CollapseOpt = Annotated[
    bool, typer.Option("--collapse", help="One row per story, with the other sources")
]


def update_filter(
    source: list[str] | None,
    since: str | None,
    until: str | None,
    seen_since: str | None,
    search: str | None,
    highlighted: bool,
    edited: bool,
    collapse: bool,
    **rest: Any,
) -> UpdateFilter:
    """The selection of the options `updates` and `export` share; a bad one exits 2."""
    from storage.filters import UpdateFilter
    from vigie.filters import check_search, parse_when

    try:
        times = {
            "since": parse_when(since, "--since"),
            "until": parse_when(until, "--until"),
            "seen_since": parse_when(seen_since, "--seen-since"),
        }
        check_search(search, "--search")
    except ParamError as exc:
        raise bad_param(exc) from None
    return UpdateFilter(
        sources=source or (),
        **times,
        search=search,
        highlighted=True if highlighted else None,
        edited=True if edited else None,
        collapse=collapse,
        **rest,
    )


def updates(
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    seen_since: SeenSinceOpt = None,
    search: SearchOpt = None,
    highlighted: HighlightedOpt = False,
    edited: EditedOpt = False,
    collapse: CollapseOpt = False,
    order: Annotated[
        str | None, typer.Option(help="newest or rank (default: rank when searching)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_ID, help="At most this many")] = 100,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after the previous page (its 'next cursor')")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or csv")] = "table",
) -> None:
    """List stored updates, newest first (best match first when searching).

    When more rows follow, the cursor of the next page is printed on stderr.
    """
    from storage.queries import find_updates
    from vigie.filters import check_sources
    from vigie.rows import update_columns

    check_format(fmt)
    filt = update_filter(
        source,
        since,
        until,
        seen_since,
        search,
        highlighted,
        edited,
        collapse,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    cfg = config(channels=False)
    with open_store(cfg) as store, store.read_session() as session:
        check_sources(cfg, session, filt.sources, "--source")
        page = find_updates(session, filt)
    columns = update_columns(searched=search is not None, collapsed=collapse)
    table = UPDATE_TABLE + (("sources",) if collapse else ())
    write_rows(page.rows, fmt, columns=columns, table_columns=table)
    if page.next_cursor:
        typer.echo(f"next cursor: {page.next_cursor}", err=True)


def show(
    update_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """One update with its revisions and its sightings in other sources."""
    from storage.queries import get_update
    from vigie.output import plain
    from vigie.rows import history_with_diffs

    check_format(fmt, ("table", "json"))
    with open_store(config(channels=False)) as store, store.read_session() as session:
        row = get_update(session, update_id)
    if row is None:
        raise fail(f"no update with id {update_id}", 1)
    if fmt == "json":
        row["history"] = [plain(r) for r in history_with_diffs(row["history"])]
        row["sightings"] = [plain(r) for r in row["sightings"]]
        typer.echo(dumps(plain(row), indent=2))
    else:
        write_update(row)


def sources(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Configured sources with their crawl state."""
    from storage.sources import sources_overview
    from vigie.rows import SOURCE_FIELDS, source_rows

    check_format(fmt, ("table", "json"))
    cfg = config(channels=False)
    with open_store(cfg) as store, store.read_session() as session:
        states = sources_overview(session, [s.name for s in cfg.sources])
    write_rows(source_rows(cfg, states), fmt, columns=SOURCE_FIELDS, table_columns=SOURCE_TABLE)


def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout")
    ] = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    seen_since: SeenSinceOpt = None,
    search: SearchOpt = None,
    highlighted: HighlightedOpt = False,
    edited: EditedOpt = False,
    collapse: CollapseOpt = False,
    limit: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="At most this many")] = None,
) -> None:
    """Export a selection of updates (all by default), streamed: memory stays flat."""
    from storage.queries import iter_updates
    from vigie.filters import check_sources
    from vigie.rows import update_columns

    check_format(fmt, EXPORT_FORMATS)
    filt = update_filter(
        source,
        since,
        until,
        seen_since,
        search,
        highlighted,
        edited,
        collapse,
        order="newest",
        limit=limit,
    )
    columns = update_columns(searched=search is not None, collapsed=collapse)
    cfg = config(channels=False)
    with open_store(cfg) as store, store.read_session() as session:
        check_sources(cfg, session, filt.sources, "--source")
        try:
            with _opened(output) as out:
                write_rows(iter_updates(session, filt), fmt, columns=columns, out=out)
        except BrokenPipeError:
            _quiet_stdout()
        except OSError as exc:
            raise fail(f"export: {exc}", 1) from None


def _opened(output: Path | None) -> AbstractContextManager[TextIO]:
    """The file to write to, else stdout (which stays open at the end)."""
    return output.open("w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout)


def _quiet_stdout() -> None:
    """The reader went away (`vigie export | head`): drop what is left, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
