"""Helpers for tests that drive vigie as a user does: config files and the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.newsroom.server import Newsroom


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def write_config(
    path: Path,
    sources: list[dict[str, Any]],
    *,
    storage_url: str | None = None,
    crawler: dict[str, Any] | None = None,
    scheduler: dict[str, Any] | None = None,
    storage: dict[str, Any] | None = None,
) -> Path:
    """Write a config.toml; sources may hold a "selectors" dict; `storage`: more keys of
    [storage] than its url."""
    crawler = {
        "timeout": "5s",
        "obey_robots": True,
        "concurrency": 8,
        "retries": 1,
        "autothrottle": False,
    } | (crawler or {})
    scheduler = {"default_interval": "2s", "jitter": "0%"} | (scheduler or {})
    lines = [
        "[storage]",
        f"url = {toml_value(storage_url or 'sqlite:///vigie.db')}",
        *(f"{k} = {toml_value(v)}" for k, v in (storage or {}).items()),
        "",
        "[crawler]",
    ]
    lines += [f"{k} = {toml_value(v)}" for k, v in crawler.items()]
    lines += ["", "[scheduler]"] + [f"{k} = {toml_value(v)}" for k, v in scheduler.items()]
    for src in sources:
        lines += ["", "[[sources]]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in src.items() if k != "selectors"]
        if "selectors" in src:
            lines += ["[sources.selectors]"]
            lines += [f"{k} = {toml_value(v)}" for k, v in src["selectors"].items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The fields of an update row as the contract names them (docs/contract.md), spelled here
# apart from storage/rows.py on purpose: the tests check the code against the contract.
UPDATE_FIELDS = frozenset(
    {
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
    }
)


PLAIN_SELECTORS = {
    "post": "div.entry",
    "headline": ".entry-title",
    "published": ".entry-when",
    "body": ".entry-text",
}


def newsroom_sources(site: Newsroom, **extra: Any) -> list[dict[str, Any]]:
    """The three live-blog shapes and the three feeds of the fixture site, as config sources.

    The RSS 2.0 and Atom feeds carry whole posts; the RDF feed only each first paragraph."""
    common = {"timezone": "Europe/Paris", "language": "fr"} | extra
    return [
        {"name": "live-jsonld", "url": site.url("/live/jsonld"), "kind": "liveblog"} | common,
        {"name": "live-microdata", "url": site.url("/live/microdata"), "kind": "liveblog"} | common,
        {
            "name": "live-plain",
            "url": site.url("/live/plain"),
            "kind": "liveblog",
            "selectors": PLAIN_SELECTORS,
        }
        | common,
        {"name": "feed-rss", "url": site.url("/feeds/rss.xml"), "kind": "feed"} | common,
        {"name": "feed-atom", "url": site.url("/feeds/atom.xml"), "kind": "auto"} | common,
        {"name": "feed-rdf", "url": site.url("/feeds/rdf.xml"), "kind": "feed"} | common,
    ]


def run_vigie(
    config: Path,
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess."""
    full_env = os.environ | {"PYTHONUNBUFFERED": "1"} | (env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "vigie", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=str(config.parent),
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"vigie {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc


def jsonl(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
