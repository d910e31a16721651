"""The commands that crawl: `run` (the daemon, or every enabled source once), `crawl NAME...`,
`probe URL` (nothing stored) and `check` (the config, the database and the plan, or a
probe). `run --once`, `crawl` and `probe` crawl through vigie.crawl_once; only `run` and
`crawl` may create the database."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigie.shell import State, check_format, config, fail, open_store
from vigie.terminal import safe

if TYPE_CHECKING:  # the crawler and the config are imported by the commands that run
    from vigie.config import Config
    from vigie.crawl_once import Summary

PROBE_FORMATS = ("table", "json")
PLAN_COLUMNS = ("name", "kind", "interval", "enabled", "timezone", "url")


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
    from vigie.crawl_once import poll_now
    from vigie.running import check_role, run_daemon

    cfg = config()
    check_role(cfg, role, once=once)
    with open_store(cfg, create=True) as store:
        if not once:
            run_daemon(cfg, store, role)
            return
        summary = poll_now(cfg, store, cfg.enabled_sources(), once=True)
    _finish(summary)


def crawl(
    names: Annotated[list[str], typer.Argument(metavar="NAME", help="Source names")],
) -> None:
    """Crawl the named sources now (ended ones too).

    Ends with a one-line summary on stderr, and exits 1 when every source failed.
    """
    from vigie.crawl_once import poll_now

    cfg = config()
    known = {s.name: s for s in cfg.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(known) or "none: the config has no source"
        raise fail(f"unknown source {', '.join(map(repr, unknown))} (known: {listed})", 2)
    with open_store(cfg, create=True) as store:
        summary = poll_now(cfg, store, [known[n] for n in dict.fromkeys(names)])
    _finish(summary)


def _finish(summary: Summary) -> None:
    typer.echo(summary.line, err=True)
    if summary.all_failed:
        raise typer.Exit(1)


def probe(
    url: Annotated[str, typer.Argument(metavar="URL", help="The live-blog page or feed to try")],
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
    from vigie.config import DEFAULT_CONFIG, Config

    explicit = State.config_file is not None or os.environ.get("VIGIE_CONFIG")
    if not explicit and not Path(DEFAULT_CONFIG).exists():
        return Config()
    return config(channels=False)


def _probe(url: str, kind: str | None, timezone: str | None, fmt: str, cfg: Config) -> None:
    """Crawl the URL's one page as its source would be (nothing stored) and print the probe;
    exit 1 when it gave no posts."""
    from crawler.probe import Probe, probe_spec, render
    from vigie.crawl_once import crawl_once
    from vigie.output import printable_json

    check_format(fmt, PROBE_FORMATS)
    try:
        spec = probe_spec(url, [cfg.spec(s) for s in cfg.sources], kind=kind, timezone=timezone)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    result = crawl_once(
        cfg.crawler, lambda service: service.crawl(spec, full=True, had_posts=False)
    )
    report = Probe(spec, result)
    text = render(report, fmt)
    typer.echo(printable_json(text) if fmt == "json" else safe(text))
    if not report.ok:
        raise fail(report.message, 1)


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
    from vigie.output import write_table

    cfg = config()
    typer.echo(f"config: {Path(cfg.path or '').resolve()} is valid")
    if probe_url is not None:
        _probe(probe_url, None, None, "table", cfg)
        return
    problem = _check_store(cfg)
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
    title = f"{len(cfg.enabled_sources())} of {len(cfg.sources)} sources enabled"
    write_table(rows, PLAN_COLUMNS, title=title)
    if setup := cfg.alert_setup():
        channels = len(setup.all_channels())
        typer.echo(
            f"alerts: {len(setup.channels)} watches, {channels} channels (vigie alerts list)"
        )
    if problem:
        raise fail(problem, 1)


def _check_store(cfg: Config) -> str | None:
    """Print that the store is reachable and the state of its schema (opened without
    creating or upgrading anything); else return why it is not."""
    from storage.db import MissingDatabase, Store, StoreError, safe_url, schema_revision
    from vigie.config import STORAGE_URL_ENV

    try:
        store = Store(cfg.storage.url, upgrade=False, create=False)
    except MissingDatabase as exc:
        return f"store: {exc.path} does not exist yet: `vigie run` or `vigie crawl` creates it"
    except StoreError as exc:
        return str(exc)
    with closing(store):
        current, head = schema_revision(store.engine)
    schema = "up to date" if current == head else f"at {current or 'empty'}, will upgrade to {head}"
    origin = f" (from {STORAGE_URL_ENV})" if os.environ.get(STORAGE_URL_ENV) else ""
    typer.echo(f"store: {safe_url(cfg.storage.url)}{origin} reachable, schema {schema}")
    return None
