"""The command line: a thin shell over the library. Exit codes: 0 ok, 1 runtime, 2 usage/config."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from vigie.config import Config, ConfigError, load_config, parse_duration
from vigie.logs import LEVELS, setup_logging
from vigie.output import FORMATS, write_rows, write_table, write_update

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="vigie watches live blogs and feeds, and stores every update once.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

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
UPDATE_TABLE = ("id", "source", "published_at", "headline", "revisions", "highlighted", "story")
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
        return datetime.now(UTC) - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither ISO 8601 nor a duration like 2h", param_hint=option
        ) from None
    return when if when.tzinfo else when.astimezone()


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
        try:
            owner = leases.worker_id() if once else None
            poller = Poller(cfg, store, service, owner=owner)
            return await poller.poll_many(sources, skip_finished=once)
        finally:
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


@app.command()
def updates(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Source name (repeatable)")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="ISO 8601 or a duration back from now (2h)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 or a duration back from now")] = None,
    highlighted: Annotated[bool, typer.Option("--highlighted", help="Key moments only")] = False,
    edited: Annotated[bool, typer.Option("--edited", help="Edited updates only")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many")] = 100,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or csv")] = "table",
) -> None:
    """List stored updates, newest first."""
    from storage.queries import UpdateFilter, list_updates

    check_format(fmt)
    filt = UpdateFilter(
        sources=source or (),
        since=parse_when(since, "--since"),
        until=parse_when(until, "--until"),
        highlighted=True if highlighted else None,
        edited=True if edited else None,
        limit=limit,
    )
    store = open_store(config())
    try:
        with store.session() as session:
            rows = list_updates(session, filt)
    finally:
        store.close()
    write_rows(rows, fmt, columns=UPDATE_COLUMNS, table_columns=UPDATE_TABLE)


@app.command()
def show(
    update_id: Annotated[int, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """One update with its revisions and its sightings in other sources."""
    import json

    from storage.queries import get_update
    from vigie.output import plain

    check_format(fmt, ("table", "json"))
    store = open_store(config())
    try:
        with store.session() as session:
            row = get_update(session, update_id)
    finally:
        store.close()
    if row is None:
        raise fail(f"no update with id {update_id}", 1)
    if fmt == "json":
        row["history"] = [plain(r) for r in row["history"]]
        row["sightings"] = [plain(r) for r in row["sightings"]]
        typer.echo(json.dumps(plain(row), ensure_ascii=False, indent=2))
    else:
        write_update(row)


def source_rows(cfg: Config, states: dict[str, dict]) -> list[dict[str, Any]]:
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
            }
        )
    return rows


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
        with store.session() as session:
            states = sources_overview(session, [s.name for s in cfg.sources])
    finally:
        store.close()
    write_rows(source_rows(cfg, states), fmt, columns=SOURCE_COLUMNS, table_columns=SOURCE_TABLE)


@app.command()
def check() -> None:
    """Validate the config, reach the database and print the plan."""
    from storage.db import safe_url, schema_revision

    cfg = config()
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
            "timezone": s.timezone,
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
