"""The command line: the typer app (`vigie`, `python -m vigie`), its global options, and
the entry point that keeps every failure to one line. The commands live in vigie/commands/
by concern; vigie/shell.py has what they share.

Exit codes (vigie/shell.py turns errors into them): 0 ok; 1 runtime failure (database
unreachable or missing for a command that only reads, every source of `run --once`/`crawl`
failed, an unknown update id); 2 usage or config error (a bad parameter, an unknown source
name). Nothing ends in a traceback: an unexpected error is one line (the traceback at
--log-level debug).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from vigie.commands import alerts, cluster, crawl, read, serve
from vigie.logs import LEVELS, setup_logging
from vigie.shell import State
from vigie.terminal import safe

log = logging.getLogger("vigie.cli")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="vigie watches live blogs and feeds, and stores every update once.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# In the order of `vigie --help` and of the README's command list.
COMMANDS = (
    crawl.run,
    crawl.crawl,
    read.updates,
    read.show,
    read.sources,
    cluster.workers,
    read.export,
    serve.serve,
    serve.reindex,
    crawl.check,
    crawl.probe,
)
for command in COMMANDS:
    app.command()(command)
app.add_typer(alerts.app, name="alerts")  # list, test, history


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
        typer.Option("--config", "-c", help=r"Config file \[env VIGIE_CONFIG; ./config.toml]"),
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _is_store_error(exc):
            log.debug("store error", exc_info=True)
            line = safe(str(exc).splitlines()[0], newlines=False)
            typer.echo(f"vigie: store: {line}", err=True)
            sys.exit(1)
        log.debug("internal error", exc_info=True)
        reason = safe(f"{type(exc).__name__}: {exc}", newlines=False)[:500]
        typer.echo(
            f"vigie: internal error: {reason} (--log-level debug shows the traceback)", err=True
        )
        sys.exit(1)


def _is_store_error(exc: Exception) -> bool:
    # Only a command that loaded SQLAlchemy can raise its errors: one that did not (--help,
    # a usage error) is not made to import it.
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)


if __name__ == "__main__":
    main()
