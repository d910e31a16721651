"""The commands that only read load none of the heavy machinery of the commands that
crawl, serve or send: each runs in a fresh interpreter (the real CLI through typer's
CliRunner), which then lists what it imported. Every command of the CLI is either in
READ_ONLY (and checked here) or named in OTHERS, so a new command must be placed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import Store
from tests.helpers import write_config
from tests.newsroom.server import Newsroom
from tests.seeded import seed

# What crawling, serving and sending load; a read must not pay for it.
HEAVY = (
    "scrapy",
    "twisted",
    "fastapi",
    "starlette",
    "uvicorn",
    "dateparser",
    "apprise",
    "httpx",
    "procrastinate",
    "prometheus_client",
    "jinja2",
    "apscheduler",
    "lxml",
    "parsel",
    "feedparser",
)
# A store at the head revision is opened without Alembic.
STORE = ("alembic",)
# Parsing a command line (help, a usage error) loads neither the store nor the config
# (typer itself converts the parameters with pydantic: that one it may load).
COMMAND_LINE = ("sqlalchemy", "vigie.config", "storage.db", "storage.models")

READ_ONLY: dict[str, list[list[str]]] = {
    "updates": [
        ["updates"],
        ["updates", "--search", "élysée"],  # the CLI's search
        ["updates", "--collapse"],  # its stories
        ["updates", "--since", "2h", "--source", "live", "-f", "json"],
    ],
    "show": [["show", "1"], ["show", "1", "-f", "json"]],
    "sources": [["sources"], ["sources", "-f", "json"]],
    "export": [["export"], ["export", "-f", "csv", "--search", "élysée"]],
    "workers": [["workers", "--all"]],
    "alerts history": [["alerts", "history"]],
}
OTHERS = {
    "run",
    "crawl",
    "serve",
    "reindex",
    "check",
    "probe",
    "alerts list",  # masks apprise URLs with apprise
    "alerts test",
}

SCRIPT = """
import json, sys
from typer.testing import CliRunner
from vigie.cli import app

result = CliRunner().invoke(app, sys.argv[1:])
out = {"exit": result.exit_code, "output": result.output, "modules": sorted(sys.modules)}
print(json.dumps(out))
"""

CONFIG = """
[storage]
url = "sqlite:///vigie.db"

[[sources]]
name = "live"
url = "https://news.example/live"

[[sources]]
name = "feed"
url = "https://news.example/feed"
kind = "feed"

[[alerts]]
name = "elysee"
query = "élysée"
notify = ["ntfy://vigie-desk", "mailto://user:pass@example.org"]
webhook = "https://example.org/hook"
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    store = Store(f"sqlite:///{folder / 'vigie.db'}")
    try:
        seed(store)
    finally:
        store.close()
    path = folder / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def loaded(config: Path, args: list[str]) -> tuple[dict, set[str]]:
    """What `vigie ARGS` printed and exited with, and the modules it had imported."""
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, "--config", str(config), *args],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    return result, set(result.pop("modules"))


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in names or m.startswith(tuple(n + "." for n in names)))


def _commands() -> set[str]:
    from typer.main import get_command

    from vigie.cli import app

    group = get_command(app)
    names = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        names |= {f"{name} {sub}" for sub in subs} if subs else {name}
    return names


def test_every_command_is_placed() -> None:
    commands = _commands()
    assert commands == set(READ_ONLY) | OTHERS, commands ^ (set(READ_ONLY) | OTHERS)
    assert not set(READ_ONLY) & OTHERS


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [args for runs in READ_ONLY.values() for args in runs],
    ids=lambda args: " ".join(args),
)
def test_a_read_only_command_loads_no_heavy_machinery(config: Path, args: list[str]) -> None:
    result, modules = loaded(config, args)
    assert result["exit"] == 0, result["output"][-2000:]
    assert result["output"].strip(), "the command printed nothing"
    assert _heavy(modules, HEAVY + STORE) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [["--help"], ["alerts", "--help"], ["updates", "--help"], ["updates", "--limit", "0"]],
    ids=lambda args: " ".join(args),
)
def test_parsing_a_command_line_loads_neither_the_store_nor_the_config(
    config: Path, args: list[str]
) -> None:
    result, modules = loaded(config, args)
    assert result["exit"] == (2 if "--limit" in args else 0), result["output"][-2000:]
    assert "Usage" in result["output"]
    assert _heavy(modules, HEAVY + STORE + COMMAND_LINE) == []


# What `run --once` never needs without [[alerts]], [cluster], [metrics] or [api]: the web,
# the alerts' senders, the cluster's queue, the daemon's scheduler, and the Scrapy components
# vigie switches off (the remote control's aiohttp, the cookies' tldextract).
NOT_FOR_ONE_CRAWL = (
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "apprise",
    "httpx",
    "procrastinate",
    "apscheduler",
    "aiohttp",
    "tldextract",
    "alembic",
)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/live/jsonld"])
def test_run_once_loads_only_the_crawl(newsroom: Newsroom, tmp_path: Path, path: str) -> None:
    Store(f"sqlite:///{tmp_path / 'vigie.db'}").close()  # cron's case: the store exists
    config = write_config(
        tmp_path / "config.toml", [{"name": "src", "url": newsroom.url(path), "interval": "1m"}]
    )
    result, modules = loaded(config, ["run", "--once"])
    assert result["exit"] == 0, result["output"][-2000:]
    assert "1 ok" in result["output"]
    assert "scrapy" in modules  # it did crawl
    assert _heavy(modules, NOT_FOR_ONE_CRAWL) == []
