"""The command line: a thin shell over the library. Exit codes: 0 ok, 1 runtime, 2 usage/config."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from vigie.config import Config, ConfigError, load_config, parse_time
from vigie.logs import LEVELS, setup_logging
from vigie.output import FORMATS, write_rows, write_table, write_update
from vigie.rows import source_rows, update_columns

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
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


class State:
    config_file: str | None = None


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"vigie: {message}", err=True)
    return typer.Exit(code)


def config() -> Config:
    try:
        return load_config(State.config_file)
    except ConfigError as exc:
        raise fail(f"config error: {exc}", 2) from None


def open_store(cfg: Config, *, upgrade: bool = True) -> Any:
    from storage.db import Store, StoreError

    try:
        return Store(cfg.storage.url, upgrade=upgrade)
    except StoreError as exc:
        raise fail(str(exc), 1) from None


def parse_when(value: str | None, option: str) -> datetime | None:
    """ISO 8601 (naive means local time) or a duration back from now ("2h", "30m")."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if fmt not in allowed:
        raise typer.BadParameter(f"choose one of {', '.join(allowed)}", param_hint="--format")
    return fmt


@app.callback()
def main_options(
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
) -> None:
    """Run the daemon until SIGTERM/SIGINT (or crawl everything once with --once)."""
    cfg = config()
    store = open_store(cfg)
    if once:
        _crawl(cfg, store, cfg.enabled_sources(), once=True)
        return
    from crawler.reactor import run as run_reactor
    from scheduler.daemon import Daemon

    try:
        run_reactor(lambda: Daemon(cfg, store).run())
    finally:
        store.close()


@app.command()
def crawl(names: Annotated[list[str], typer.Argument(help="Source names")]) -> None:
    """Crawl the named sources now."""
    cfg = config()
    known = {s.name: s for s in cfg.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise fail(f"unknown source {', '.join(unknown)} (known: {', '.join(known)})", 2)
    store = open_store(cfg)
    _crawl(cfg, store, [known[n] for n in dict.fromkeys(names)])


def _crawl(cfg: Config, store: Any, sources: list[Any], *, once: bool = False) -> None:
    """Crawl sources now. `once` (run --once) acts as a worker: it skips ended sources and
    those another worker (a running daemon) holds; `crawl NAME` crawls what it is told."""
    from crawler.reactor import run as run_reactor
    from crawler.runner import CrawlService
    from scheduler.jobs import Poller
    from storage import leases

    async def crawl_all() -> list[Any]:
        service = CrawlService(cfg.crawler)
        await service.start()
        poller = Poller(cfg, store, service, owner=leases.worker_id() if once else None)
        try:
            return await poller.poll_many(sources, skip_finished=once)
        finally:
            poller.close()
            await service.stop()

    try:
        reports = run_reactor(crawl_all)
    finally:
        store.close()
    if sys.stdout.isatty():
        rows = [
            {
                "source": r.source,
                "status": r.status,
                "new": r.new,
                "changed": r.changed,
                "unchanged": r.unchanged,
                "error": r.error,
            }
            for r in reports
        ]
        write_table(rows, ("source", "status", "new", "changed", "unchanged", "error"))


SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Source name (repeatable)")
]
SinceOpt = Annotated[str | None, typer.Option(help="ISO 8601 or a duration back from now (2h)")]
UntilOpt = Annotated[str | None, typer.Option(help="ISO 8601 or a duration back from now")]
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
    search: str | None,
    highlighted: bool,
    edited: bool,
    collapse: bool,
    **rest: Any,
) -> Any:
    from storage.queries import UpdateFilter

    return UpdateFilter(
        sources=source or (),
        since=parse_when(since, "--since"),
        until=parse_when(until, "--until"),
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
    search: SearchOpt = None,
    highlighted: HighlightedOpt = False,
    edited: EditedOpt = False,
    collapse: CollapseOpt = False,
    order: Annotated[
        str | None, typer.Option(help="newest or rank (default: rank when searching)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many")] = 100,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after the previous page (its 'next cursor')")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or csv")] = "table",
) -> None:
    """List stored updates, newest first (best match first when searching).

    When more rows follow, the cursor of the next page is printed on stderr.
    """
    from storage.queries import QueryError, find_updates

    check_format(fmt)
    filt = update_filter(
        source,
        since,
        until,
        search,
        highlighted,
        edited,
        collapse,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    store = open_store(config())
    try:
        with store.read_session() as session:
            page = find_updates(session, filt)
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
    search: SearchOpt = None,
    highlighted: HighlightedOpt = False,
    edited: EditedOpt = False,
    collapse: CollapseOpt = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many")] = None,
) -> None:
    """Export a selection of updates (all by default), streamed: memory stays flat."""
    from storage.queries import QueryError, iter_updates

    check_format(fmt, EXPORT_FORMATS)
    filt = update_filter(
        source, since, until, search, highlighted, edited, collapse, order="newest", limit=limit
    )
    columns = update_columns(searched=search is not None, collapsed=collapse)
    store = open_store(config())
    try:
        with (
            store.read_session() as session,
            output.open("w", encoding="utf-8", newline="") if output else _stdout() as out,
        ):
            write_rows(iter_updates(session, filt), fmt, columns=columns, out=out)
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
    update_id: Annotated[int, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """One update with its revisions and its sightings in other sources."""
    import json

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
        typer.echo(json.dumps(plain(row), ensure_ascii=False, indent=2))
    else:
        write_update(row)


@app.command()
def sources(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Configured sources with their crawl state."""
    from storage.queries import sources_overview

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
    import os

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
    report = run_probe(spec, cfg.crawler)
    typer.echo(render(report, fmt))
    if not report.ok:
        raise fail(report.message, 1)


@app.command()
def check(
    probe_url: Annotated[
        str | None,
        typer.Option("--probe", metavar="URL", help="Validate the config, then probe this URL"),
    ] = None,
) -> None:
    """Validate the config, reach the database and print the plan (or probe one URL)."""
    from storage.db import safe_url, schema_revision

    cfg = config()
    if probe_url is not None:
        typer.echo(f"config: {Path(cfg.path or '').resolve()} is valid")
        _probe(probe_url, None, None, "table", cfg)
        return
    store = open_store(cfg, upgrade=False)
    try:
        current, head = schema_revision(store.engine)
    finally:
        store.close()
    typer.echo(f"config: {Path(cfg.path or '').resolve()} is valid")
    schema = "up to date" if current == head else f"at {current or 'empty'}, will upgrade to {head}"
    typer.echo(f"store: {safe_url(cfg.storage.url)} reachable, schema {schema}")
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
