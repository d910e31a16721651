"""What a newcomer hit, through the real CLI in a subprocess: `--version`; read-only
commands on a missing database (exit 1, the path named, nothing created) while `run` and
`crawl` create it and say so once; the summary line and exit code of `run --once` and
`crawl`; unknown source names; `--seen-since` (arrival) beside `--since` (publication)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from storage.db import Store
from storage.models import Source
from tests.helpers import jsonl, run_vigie, write_config
from tests.hostile import SOURCES, config_text, fill

pytestmark = pytest.mark.slow

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test feed</title><link>http://127.0.0.1/</link>
<description>d</description>
<item><guid>one</guid><title>First item</title><link>http://127.0.0.1/1</link>
<description>The first item of the feed.</description>
<pubDate>Tue, 06 Jan 2026 19:00:00 GMT</pubDate></item>
<item><guid>two</guid><title>Second item</title><link>http://127.0.0.1/2</link>
<description>The second item of the feed.</description>
<pubDate>Tue, 06 Jan 2026 19:05:00 GMT</pubDate></item>
</channel></rss>
"""


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/feed.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)
        else:
            self.send_error(404)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def feed_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: the crawl fails at once (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


def sources(**urls: str) -> list[dict[str, Any]]:
    return [{"name": name, "url": url, "kind": "feed"} for name, url in urls.items()]


def test_version(tmp_path: Path) -> None:
    from vigie import __version__

    proc = run_vigie(tmp_path / "absent.toml", "--version")
    assert proc.stdout.strip() == f"vigie {__version__}"


READ_ONLY = [
    ("updates",),
    ("updates", "--source", "down"),
    ("show", "1"),
    ("sources",),
    ("export",),
    ("check",),
    ("serve", "--port", "1"),
    ("reindex",),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_never_create_a_database(tmp_path: Path, args: tuple[str, ...]) -> None:
    config = write_config(
        tmp_path / "config.toml",
        sources(down=closed_port_url()),
        storage_url="sqlite:///data/mistyped.db",
    )
    proc = run_vigie(config, *args, check=False)
    assert proc.returncode == 1, proc.stderr
    missing = tmp_path / "data" / "mistyped.db"
    assert str(missing) in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no folder, no -wal
    if args == ("check",):
        assert "does not exist yet" in proc.stderr and "vigie run" in proc.stderr
        assert "is valid" in proc.stdout and "down" in proc.stdout  # the plan is printed


def test_an_unreachable_postgresql_is_exit_1(tmp_path: Path) -> None:
    url = closed_port_url().replace("http://", "postgresql+psycopg://vigie@").split("/feed")[0]
    config = write_config(tmp_path / "config.toml", [], storage_url=f"{url}/vigie")
    proc = run_vigie(config, "updates", check=False)
    assert proc.returncode == 1 and "cannot open" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_once_creates_the_database_says_so_once_and_sums_up(
    tmp_path: Path, feed_url: str
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        sources(good=feed_url, down=closed_port_url()),
        storage_url="sqlite:///data/vigie.db",
    )
    first = run_vigie(config, "run", "--once")
    assert first.stderr.count("created database at") == 1
    assert str(tmp_path / "data" / "vigie.db") in first.stderr
    assert first.stderr.strip().splitlines()[-1] == "2 sources: 1 ok, 1 failed; 2 new, 0 changed"
    assert first.stdout == ""  # the table is for a terminal
    again = run_vigie(config, "run", "--once")
    assert "created database" not in again.stderr
    assert again.stderr.strip().splitlines()[-1] == "2 sources: 1 ok, 1 failed; 0 new, 0 changed"
    # Listed as failed, with the error, by `vigie sources`.
    rows = {r["name"]: r for r in json.loads(run_vigie(config, "sources", "-f", "json").stdout)}
    assert rows["down"]["last_status"] == "error" and rows["down"]["last_error"]
    assert rows["good"]["last_status"] in ("ok", "not_modified") and rows["good"]["updates"] == 2


def test_every_source_failing_is_exit_1(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml", sources(one=closed_port_url(), two=closed_port_url())
    )
    proc = run_vigie(config, "run", "--once", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "2 sources: 0 ok, 2 failed; 0 new, 0 changed"
    crawl = run_vigie(config, "crawl", "one", check=False)
    assert crawl.returncode == 1
    assert crawl.stderr.strip().splitlines()[-1] == "1 source: 0 ok, 1 failed; 0 new, 0 changed"
    assert "Traceback" not in proc.stderr + crawl.stderr


def test_nothing_to_crawl_is_not_a_failure(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml", [{"name": "off", "url": closed_port_url(), "enabled": False}]
    )
    proc = run_vigie(config, "run", "--once")
    assert "0 sources: nothing to crawl" in proc.stderr


def test_ended_sources_are_skipped_not_failed(tmp_path: Path, feed_url: str) -> None:
    config = write_config(
        tmp_path / "config.toml", sources(good=feed_url, finished=closed_port_url())
    )
    run_vigie(config, "run", "--once", check=False)
    store = Store(f"sqlite:///{tmp_path / 'vigie.db'}")
    try:
        with store.session() as session:
            session.execute(update(Source).where(Source.name == "finished").values(ended=True))
    finally:
        store.close()
    proc = run_vigie(config, "run", "--once")
    assert (
        proc.stderr.strip().splitlines()[-1]
        == "2 sources: 1 ok, 0 failed, 1 skipped (ended or gone); 0 new, 0 changed"
    )


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config over a store holding our small data (published in January 2026, arrived now)."""
    folder = tmp_path_factory.mktemp("filled")
    url = f"sqlite:///{folder / 'vigie.db'}"
    store = Store(url)
    try:
        fill(store)
    finally:
        store.close()
    config = folder / "config.toml"
    config.write_text(config_text(url), encoding="utf-8")
    return config


@pytest.mark.parametrize("command", ["updates", "export"])
def test_an_unknown_source_lists_the_known_ones(filled: Path, command: str) -> None:
    proc = run_vigie(filled, command, "--source", "alpah", check=False)
    assert proc.returncode == 2
    assert "--source: unknown source 'alpah'" in proc.stderr
    assert "known: alpha, beta" in proc.stderr
    assert proc.stdout == ""


def test_seen_since_filters_on_arrival_and_since_on_publication(filled: Path) -> None:
    total = len(jsonl(run_vigie(filled, "export")))
    assert total > 10
    arrived = jsonl(run_vigie(filled, "updates", "--seen-since", "1h", "-f", "jsonl"))
    assert len(arrived) == total  # all arrived just now...
    assert (
        jsonl(run_vigie(filled, "updates", "--since", "1h", "-f", "jsonl")) == []
    )  # ...in 2026-01
    assert jsonl(run_vigie(filled, "export", "--seen-since", "2999-01-01")) == []
    assert len(jsonl(run_vigie(filled, "export", "--seen-since", "1h", "-s", "beta"))) == total // 2
    # Paging with a cursor goes through the same rows once.
    seen: list[int] = []
    cursor: list[str] = []
    while True:
        proc = run_vigie(
            filled, "updates", "--seen-since", "1h", "--limit", "12", "-f", "jsonl", *cursor
        )
        seen += [r["id"] for r in jsonl(proc)]
        found = [line for line in proc.stderr.splitlines() if line.startswith("next cursor: ")]
        if not found:
            break
        cursor = ["--cursor", found[0].removeprefix("next cursor: ")]
    assert sorted(seen) == sorted({r["id"] for r in arrived}) and len(seen) == total


def test_tables_over_a_hostile_store_print_no_control_and_no_markup(filled: Path) -> None:
    table = run_vigie(filled, "updates", "--limit", "100")
    assert "\x1b" not in table.stdout and "[/bold] closing tag" in table.stdout
    assert "[link=https://evil.example]" in table.stdout
    assert "Closing words of the live blog" in table.stdout  # the empty headline's stand-in
    rows = jsonl(run_vigie(filled, "export", "--source", "alpha"))
    hostile = [r for r in rows if "\u202e" in r["headline"] or "[/" in r["headline"]]
    assert len(hostile) >= 3
    for row in hostile:
        shown = run_vigie(filled, "show", str(row["id"]))
        assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout
        assert row["headline"].replace("\u202e", "<U+202E>") in shown.stdout
    assert {
        r["name"] for r in json.loads(run_vigie(filled, "sources", "-f", "json").stdout)
    } == set(SOURCES)
