"""What every command of the CLI shares: the config and the store it names, and errors
turned into one line on stderr and an exit code (1 runtime, 2 usage or config)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from vigie.filters import ParamError
from vigie.output import FORMATS
from vigie.terminal import safe

if TYPE_CHECKING:
    from storage.db import Store
    from vigie.config import Config


class State:
    config_file: str | None = None


def fail(message: str, code: int) -> typer.Exit:
    """Say what went wrong on stderr (page text in it made safe); the exit to raise."""
    for line in message.splitlines() or [""]:
        typer.echo(f"vigie: {safe(line, newlines=False)}", err=True)
    return typer.Exit(code)


def config(*, channels: bool = True) -> Config:
    """The config of --config (else VIGIE_CONFIG, else ./config.toml); `channels=False` for
    a command that sends no alert and shows no channel (apprise URLs left unchecked)."""
    from vigie.config import ConfigError, load_config

    try:
        return load_config(State.config_file, channels=channels)
    except ConfigError as exc:
        raise fail("\n".join(f"config error: {line}" for line in exc.lines()), 2) from None


@contextmanager
def open_store(cfg: Config, *, upgrade: bool = True, create: bool = False) -> Iterator[Store]:
    """The config's store for the block, closed after it; only the commands that crawl
    (`create`) may make a new one. A store that cannot be opened exits 1; a parameter or a
    selection the block finds wrong (an unknown source, a bad cursor) exits 2."""
    from storage.db import Store, StoreError
    from storage.filters import QueryError

    try:
        store = Store(cfg.storage.url, upgrade=upgrade, create=create)
    except StoreError as exc:
        raise fail(str(exc), 1) from None
    try:
        yield store
    except ParamError as exc:
        raise bad_param(exc) from None
    except QueryError as exc:
        raise fail(str(exc), 2) from None
    finally:
        store.close()


def bad_param(exc: ParamError) -> typer.Exit:
    """A bad parameter: exit 2, with its CLI spelling (`since` is --since, ...)."""
    option = exc.param if exc.param.startswith("-") else "--" + exc.param.replace("_", "-")
    return fail(f"{option}: {exc.reason}", 2)


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if fmt not in allowed:
        raise typer.BadParameter(f"choose one of {', '.join(allowed)}", param_hint="--format")
    return fmt
