"""`vigie alerts list | test NAME | history`: the watches of the config and what they
sent. Channels are shown masked; nothing here prints a secret."""

from __future__ import annotations

from typing import Annotated

import typer

from vigie.shell import check_format, config, fail, open_store
from vigie.terminal import safe

# vigie.alerts_view and the store are imported by the commands that use them: `vigie
# --help` and the other commands load neither (nor apprise, which sending loads).

app = typer.Typer(
    no_args_is_help=True,
    help="Alerts: the watches of the config (alerts, health_alerts) and what they sent.",
)
MAX_HISTORY = 10_000


@app.command("list")
def list_watches(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """The watches, their channels (masked), last message sent, deliveries pending and failed."""
    from storage.alert_history import watch_stats
    from vigie.alerts_view import WATCH_COLUMNS, WATCH_TABLE, watch_names, watch_rows
    from vigie.output import write_rows

    check_format(fmt, ("table", "json"))
    cfg = config()
    if not watch_names(cfg):
        raise fail("no [[alerts]] or [health_alerts] in the config", 1)
    with open_store(cfg) as store, store.read_session() as session:
        stats = watch_stats(session)
    write_rows(watch_rows(cfg, stats), fmt, columns=WATCH_COLUMNS, table_columns=WATCH_TABLE)


@app.command()
def test(name: Annotated[str, typer.Argument(help="The watch's name (or health)")]) -> None:
    """Send a test message through every channel of a watch, now; exit 1 if one fails."""
    from vigie.alerts_view import send_test, watch_names

    cfg = config()
    if name not in watch_names(cfg):
        known = ", ".join(watch_names(cfg)) or "none"
        raise fail(f"no watch named {name!r} (the config has: {known})", 2)
    failed = 0
    for label, error in send_test(cfg, name):
        if error is None:
            typer.echo(f"sent: {safe(label, newlines=False)}")
        else:
            failed += 1
            typer.echo(f"failed: {safe(label, newlines=False)}: {safe(error, newlines=False)}")
    if failed:
        raise typer.Exit(1)


@app.command()
def history(
    watch: Annotated[str | None, typer.Option("--watch", "-w", help="One watch only")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_HISTORY, help="Messages shown, newest first")
    ] = 50,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or csv")] = "table",
) -> None:
    """The messages sent (or being sent), newest first: one row per channel."""
    from storage.alert_history import history as read_history
    from vigie.alerts_view import HISTORY_COLUMNS, HISTORY_TABLE, history_rows
    from vigie.output import write_rows

    check_format(fmt, ("table", "json", "jsonl", "csv"))
    cfg = config(channels=False)
    with open_store(cfg) as store, store.read_session() as session:
        rows = read_history(session, watch=watch, limit=limit)
    write_rows(history_rows(rows), fmt, columns=HISTORY_COLUMNS, table_columns=HISTORY_TABLE)
