"""The command line: a thin shell over the library, its commands one function each.

Exit codes (vigie/shell.py turns errors into them): 0 ok; 1 runtime failure (database
unreachable or missing for a command that only reads, every source of `run --once`/`crawl`
failed, an unknown update id); 2 usage or config error (a bad parameter, an unknown source
name). Nothing ends in a traceback: an unexpected error is one line (the traceback at
--log-level debug).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from storage.filters import MAX_ID
from vigie.config import STORAGE_URL_ENV, Config
from vigie.crawl_now import Summary, crawl_now
from vigie.filters import ParamError
from vigie.logs import LEVELS, setup_logging
from vigie.output import dumps, write_rows, write_table, write_update
from vigie.rows import source_rows, update_columns
from vigie.shell import State, bad_param, check_format, config, fail, open_store
from vigie.terminal import safe

log = logging.getLogger("vigie.cli")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="vigie watches live blogs and feeds, and stores every update once.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

UPDATE_TABLE = ("id", "source", "published_at", "headline", "revisions", "highlighted", "story")
EXPORT_FORMATS = ("jsonl", "csv")
SOURCE_COLUMNS = (
    "name",
    "url",
    "kind",
    "interval",
    "enabled",
    "last_crawl_at",
    "last_status",
    "last_error",
    "next_run_at",
    "updates",
    "ended",
    "gone",
    "failures",
    "backoff_until",
    "current_interval",
    "last_worker",
)
WORKER_COLUMNS = (
    "name",
    "role",
    "host",
    "pid",
    "live",
    "active_scheduler",
    "running",
    "polls",
    "errors",
    "heartbeat_age",
    "heartbeat_at",
    "started_at",
    "version",
)
WORKER_TABLE = (
    "name",
    "role",
    "live",
    "active_scheduler",
    "running",
    "polls",
    "errors",
    "heartbeat_age",
)
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


def _print_version(value: bool) -> None:
    if value:
        from vigie import __version__

        typer.echo(f"vigie {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version"),
    ] = False,
    config_file: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Config file [env VIGIE_CONFIG; ./config.toml]"),
    ] = None,
    log_level: Annotated[str, typer.Option(help=f"One of {', '.join(LEVELS)}")] = "info",
    log_format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    if log_level.lower() not in LEVELS:
        raise typer.BadParameter(f"choose one of {', '.join(LEVELS)}", param_hint="--log-level")
    if log_format not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--log-format")
    State.config_file = config_file
    setup_logging(log_level.lower(), log_format)


@app.command()
def run(
    once: Annotated[
        bool, typer.Option("--once", help="Crawl every enabled source once, then exit")
    ] = False,
    role: Annotated[
        str | None,
        typer.Option(help="With [cluster]: scheduler, worker or all (the default)"),
    ] = None,
) -> None:
    """Run the daemon until SIGTERM/SIGINT (or crawl everything once with --once).

    --once ends with a one-line summary on stderr, and exits 1 when every source failed.
    With [cluster] in the config, run one process of a cluster in its --role.
    """
    from vigie.running import check_role, run_daemon

    cfg = config()
    check_role(cfg, role, once=once)
    store = open_store(cfg, create=True)
    if once:
        _finish(crawl_now(cfg, store, cfg.enabled_sources(), once=True))
        return
    try:
        run_daemon(cfg, store, role)
    finally:
        store.close()


@app.command()
def crawl(names: Annotated[list[str], typer.Argument(help="Source names")]) -> None:
    """Crawl the named sources now (ended ones too).

    Ends with a one-line summary on stderr, and exits 1 when every source failed.
    """
    cfg = config()
    known = {s.name: s for s in cfg.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(known) or "none: the config has no source"
        raise fail(f"unknown source {', '.join(map(repr, unknown))} (known: {listed})", 2)
    store = open_store(cfg, create=True)
    _finish(crawl_now(cfg, store, [known[n] for n in dict.fromkeys(names)]))


def _finish(summary: Summary) -> None:
    typer.echo(summary.line, err=True)
    if summary.all_failed:
        raise typer.Exit(1)


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
) -> Any:
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


@app.command()
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
    from storage.filters import QueryError
    from storage.queries import find_updates
    from vigie.filters import check_sources

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
    cfg = config()
    store = open_store(cfg)
    try:
        with store.read_session() as session:
            check_sources(cfg, session, filt.sources, "--source")
            page = find_updates(session, filt)
    except ParamError as exc:
        raise bad_param(exc) from None
    except QueryError as exc:
        raise fail(str(exc), 2) from None
    finally:
        store.close()
    columns = update_columns(searched=search is not None, collapsed=collapse)
    table = UPDATE_TABLE + (("sources",) if collapse else ())
    write_rows(page.rows, fmt, columns=columns, table_columns=table)
    if page.next_cursor:
        typer.echo(f"next cursor: {page.next_cursor}", err=True)


@app.command()
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
    from storage.filters import QueryError
    from storage.queries import iter_updates
    from vigie.filters import check_sources

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
    cfg = config()
    store = open_store(cfg)
    try:
        with store.read_session() as session:
            check_sources(cfg, session, filt.sources, "--source")
            with output.open("w", encoding="utf-8", newline="") if output else _stdout() as out:
                write_rows(iter_updates(session, filt), fmt, columns=columns, out=out)
    except ParamError as exc:
        raise bad_param(exc) from None
    except QueryError as exc:
        raise fail(str(exc), 2) from None
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            _quiet_stdout()
            return
        raise fail(f"export: {exc}", 1) from None
    finally:
        store.close()


def _stdout() -> Any:
    """stdout as a context manager that is not closed at the end."""
    from contextlib import nullcontext

    return nullcontext(sys.stdout)


def _quiet_stdout() -> None:
    """The reader went away (`vigie export | head`): drop what is left, quietly."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@app.command()
def reindex() -> None:
    """Rebuild the full-text search index from the stored updates."""
    import time

    from storage.search import rebuild_index

    store = open_store(config())
    started = time.monotonic()
    try:
        with store.session() as session:
            count = rebuild_index(session)
    finally:
        store.close()
    typer.echo(f"reindexed {count} updates in {time.monotonic() - started:.1f}s")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [api.host]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on [api.port]")
    ] = None,
) -> None:
    """Serve the read-only HTTP API and Atom feeds (docs at /docs) until SIGTERM/SIGINT."""
    import ipaddress

    import uvicorn

    from vigie.api import create_app

    cfg = config()
    host = host or cfg.api.host
    port = port or cfg.api.port
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and cfg.api.token is None:
        typer.echo(
            f"vigie: warning: serving on {host} without [api] token: "
            "anyone who reaches this port can read the store",
            err=True,
        )
    store = open_store(cfg)
    try:
        uvicorn.run(create_app(cfg, store), host=host, port=port, log_config=None)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise fail(f"serve: cannot serve on {host}:{port}", 1) from None
    finally:
        store.close()


@app.command()
def show(
    update_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """One update with its revisions and its sightings in other sources."""
    from storage.queries import get_update
    from vigie.output import plain
    from vigie.rows import history_with_diffs

    check_format(fmt, ("table", "json"))
    store = open_store(config())
    try:
        with store.read_session() as session:
            row = get_update(session, update_id)
    finally:
        store.close()
    if row is None:
        raise fail(f"no update with id {update_id}", 1)
    if fmt == "json":
        row["history"] = [plain(r) for r in history_with_diffs(row["history"])]
        row["sightings"] = [plain(r) for r in row["sightings"]]
        typer.echo(dumps(plain(row), indent=2))
    else:
        write_update(row)


@app.command()
def sources(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Configured sources with their crawl state."""
    from storage.sources import sources_overview

    check_format(fmt, ("table", "json"))
    cfg = config()
    store = open_store(cfg)
    try:
        with store.read_session() as session:
            states = sources_overview(session, [s.name for s in cfg.sources])
    finally:
        store.close()
    write_rows(source_rows(cfg, states), fmt, columns=SOURCE_COLUMNS, table_columns=SOURCE_TABLE)


@app.command()
def workers(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    every: Annotated[bool, typer.Option("--all", help="Dead ones too (up to a day)")] = False,
) -> None:
    """The cluster's processes (or the daemon): role, load and last heartbeat."""
    from vigie.running import worker_rows

    check_format(fmt, ("table", "json"))
    store = open_store(config())
    try:
        rows = worker_rows(store, every=every)
    finally:
        store.close()
    write_rows(rows, fmt, columns=WORKER_COLUMNS, table_columns=WORKER_TABLE)


@app.command()
def probe(
    url: Annotated[str, typer.Argument(help="The live-blog page or feed to try")],
    kind: Annotated[
        str | None, typer.Option(help="auto, liveblog or feed (default: the source's, or auto)")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="For times printed without an offset (default: the source's, else the page's)"
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Fetch one page once and show what vigie would extract from it, and how (nothing stored)."""
    _probe(url, kind, timezone, fmt, _probe_config())


def _probe_config() -> Config:
    """The config when there is one (its crawler settings, its sources), else the defaults."""
    from vigie.config import DEFAULT_CONFIG

    explicit = State.config_file is not None or os.environ.get("VIGIE_CONFIG")
    if not explicit and not Path(DEFAULT_CONFIG).exists():
        return Config()
    return config()


def _probe(url: str, kind: str | None, timezone: str | None, fmt: str, cfg: Config) -> None:
    from crawler.probe import probe as run_probe
    from crawler.probe import probe_spec, render

    check_format(fmt, ("table", "json"))
    try:
        spec = probe_spec(url, [cfg.spec(s) for s in cfg.sources], kind=kind, timezone=timezone)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    from vigie.output import printable_json

    report = run_probe(spec, cfg.crawler)
    text = render(report, fmt)
    typer.echo(printable_json(text) if fmt == "json" else safe(text))
    if not report.ok:
        raise fail(report.message, 1)


@app.command()
def check(
    probe_url: Annotated[
        str | None,
        typer.Option("--probe", metavar="URL", help="Validate the config, then probe this URL"),
    ] = None,
) -> None:
    """Validate the config, reach the database and print the plan (or probe one URL).

    Exits 1 when the database cannot be reached or does not exist yet (`vigie run` or
    `vigie crawl` creates it), after printing the plan.
    """
    from storage.db import MissingDatabase, Store, StoreError, safe_url, schema_revision

    cfg = config()
    typer.echo(f"config: {Path(cfg.path or '').resolve()} is valid")
    if probe_url is not None:
        _probe(probe_url, None, None, "table", cfg)
        return
    problem = None
    try:
        store = Store(cfg.storage.url, upgrade=False, create=False)
    except MissingDatabase as exc:
        problem = f"store: {exc.path} does not exist yet: `vigie run` or `vigie crawl` creates it"
    except StoreError as exc:
        problem = str(exc)
    else:
        try:
            current, head = schema_revision(store.engine)
        finally:
            store.close()
        schema = (
            "up to date" if current == head else f"at {current or 'empty'}, will upgrade to {head}"
        )
        origin = f" (from {STORAGE_URL_ENV})" if os.environ.get(STORAGE_URL_ENV) else ""
        typer.echo(f"store: {safe_url(cfg.storage.url)}{origin} reachable, schema {schema}")
    rows = [
        {
            "name": s.name,
            "kind": s.kind,
            "interval": f"{cfg.interval_of(s):g}s",
            "enabled": s.enabled,
            "timezone": s.timezone or "from the page",
            "url": s.url,
        }
        for s in cfg.sources
    ]
    write_table(
        rows,
        ("name", "kind", "interval", "enabled", "timezone", "url"),
        title=f"{len(cfg.enabled_sources())} of {len(cfg.sources)} sources enabled",
    )
    if problem:
        raise fail(problem, 1)


def main() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except SQLAlchemyError as exc:
        log.debug("store error", exc_info=True)
        typer.echo(f"vigie: store: {safe(str(exc).splitlines()[0], newlines=False)}", err=True)
        sys.exit(1)
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        reason = safe(f"{type(exc).__name__}: {exc}", newlines=False)[:500]
        typer.echo(
            f"vigie: internal error: {reason} (--log-level debug shows the traceback)", err=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
