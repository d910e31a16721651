"""The daemon as users run it: `vigie run` in a subprocess against a newsroom that changes
by itself every second; signals, restarts and reloads."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import jsonl, newsroom_sources, run_vigie, write_config
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import expected_revisions, expected_updates, timeline

pytestmark = pytest.mark.slow

LIVE = ("live-jsonld", "live-microdata", "live-plain")
FEEDS = ("feed-rss", "feed-atom", "feed-rdf")
# Every watched resource: the blog moves on only once the daemon has seen each at its step.
WATCHED = (
    "/live/jsonld",
    "/live/microdata",
    "/live/plain",
    "/feeds/rss.xml",
    "/feeds/atom.xml",
    "/feeds/rdf.xml",
)


class DaemonProcess:
    def __init__(self, config: Path, *extra: str) -> None:
        self.config = config
        self.log = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vigie", "--config", str(config), *extra, "run"],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
            cwd=str(config.parent),
        )

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def db_path(config: Path) -> Path:
    return config.parent / "vigie.db"


def _per_source(config: Path, source: str, aggregate: str) -> int:
    """Read the store directly (as a concurrent reader would) while the daemon writes."""
    if not db_path(config).exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path(config)}?mode=ro", uri=True, timeout=10) as conn:
            row = conn.execute(
                f"SELECT {aggregate} FROM updates JOIN sources "
                "ON sources.id = updates.source_id WHERE sources.name = ?",
                (source,),
            ).fetchone()
    except sqlite3.OperationalError:  # the daemon has not created the schema yet
        return 0
    return int(row[0])


def count_updates(config: Path, source: str) -> int:
    return _per_source(config, source, "count(*)")


def revisions_total(config: Path, source: str) -> int:
    return _per_source(config, source, "coalesce(sum(revisions), 0)")


def settled(config: Path, sources: tuple[str, ...], total: int) -> Callable[[], bool]:
    return lambda: all(revisions_total(config, s) >= total for s in sources if s in LIVE)


@pytest.fixture
def advancing_site() -> Iterator[Newsroom]:
    site = Newsroom(auto_advance=1.0, advance_after=WATCHED)
    site.start()
    yield site
    site.stop()


def check_store(config: Path) -> None:
    final = expected_updates(timeline()[-1])
    revisions = expected_revisions()
    for source in (*LIVE, "feed-rss", "feed-atom"):
        rows = {
            r["headline"]: r
            for r in jsonl(
                run_vigie(
                    config, "updates", "--source", source, "--format", "jsonl", "--limit", "1000"
                )
            )
        }
        assert len(rows) == 22, source
        for exp in final:
            row = rows[exp["headline"]]
            assert row["body"] == exp["body"], (source, exp["headline"])
            assert row["revisions"] == revisions[exp["n"]], (source, exp["headline"])
            if source in LIVE:
                assert row["highlighted"] == exp["highlighted"], (source, exp["headline"])


FINAL_REVISIONS = 22 + 3


def test_daemon_captures_everything_once_uses_304_stops_ended_and_stops_cleanly(
    advancing_site: Newsroom, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", newsroom_sources(advancing_site, interval="1s"))
    daemon = DaemonProcess(config, "--log-format", "json")
    try:
        wait_for(lambda: advancing_site.step == advancing_site.last_step, 180, "the blog to end")
        wait_for(settled(config, LIVE, FINAL_REVISIONS), 60, "every post and edit")
        wait_for(lambda: all(count_updates(config, s) == 22 for s in FEEDS), 60, "the feeds")
        ended_at = time.monotonic()
        time.sleep(4)  # unchanged polls from here on
        requests_after_end = [
            r
            for r in advancing_site.requests
            if r.time > time.time() - (time.monotonic() - ended_at)
        ]
        code, took = daemon.stop()
    finally:
        daemon.kill()
    assert code == 0 and took < 15, daemon.output()[-2000:]
    check_store(config)
    # Ended blogs (JSON-LD coverageEndTime, microdata) are not polled after their end.
    for path in ("/live/jsonld", "/live/microdata"):
        assert not [r for r in requests_after_end if r.path == path], path
    # Re-polls of what did not change cost a 304; a 200 only comes with new content.
    for path in ("/live/plain", "/feeds/rss.xml", "/feeds/atom.xml"):
        assert advancing_site.count(path, status=304) >= 1, path
        assert advancing_site.count(path, status=200) <= len(timeline()) + 1, path
    after = [r for r in requests_after_end if r.path == "/live/plain"]
    assert after and all(r.status == 304 for r in after)
    lines = [json.loads(line) for line in daemon.output().splitlines() if line.startswith("{")]
    crawls = [entry for entry in lines if entry["message"].startswith("crawl ")]
    assert crawls and {"source", "status", "new", "changed", "unchanged", "duration"} <= set(
        crawls[0]
    )
    sources = {
        r["name"]: r for r in json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    }
    assert sources["live-jsonld"]["ended"] and sources["live-jsonld"]["next_run_at"] is None
    assert sources["live-plain"]["next_run_at"] is not None


def test_kill_9_then_restart_loses_and_doubles_nothing(
    advancing_site: Newsroom, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", newsroom_sources(advancing_site, interval="1s"))
    first = DaemonProcess(config)
    try:
        wait_for(lambda: advancing_site.step >= 5, 60, "a few steps")
        first.proc.kill()  # kill -9, mid-crawl or not
        first.proc.wait(timeout=10)
    finally:
        first.kill()
    advancing_site.advance()  # the blog goes on meanwhile
    second = DaemonProcess(config)
    try:
        wait_for(lambda: advancing_site.step == advancing_site.last_step, 180, "the blog to end")
        wait_for(settled(config, LIVE, FINAL_REVISIONS), 60, "every post and edit")
        wait_for(lambda: all(count_updates(config, s) == 22 for s in FEEDS), 60, "the feeds")
        code, _ = second.stop()
    finally:
        second.kill()
    assert code == 0
    check_store(config)


def test_restart_continues_the_schedule_instead_of_polling_everything(
    tmp_path: Path,
) -> None:
    site = Newsroom()
    site.start()
    try:
        config = write_config(tmp_path / "config.toml", newsroom_sources(site, interval="1h"))
        first = DaemonProcess(config)
        try:
            wait_for(
                lambda: all(count_updates(config, s) > 0 for s in LIVE + FEEDS),
                20,
                "the first polls",
            )
            assert first.stop()[0] == 0
        finally:
            first.kill()
        site.clear_requests()
        second = DaemonProcess(config)
        try:
            # Startup takes seconds on a loaded machine: watch 4 s of a running daemon.
            wait_for(lambda: "daemon started" in second.output(), 60, "the second start")
            time.sleep(4)
            assert second.proc.poll() is None
            assert site.count("/live") == 0 and site.count("/feeds") == 0
            assert second.stop()[0] == 0
        finally:
            second.kill()
    finally:
        site.stop()


def test_sighup_adds_sources_and_refuses_a_bad_config(tmp_path: Path) -> None:
    site = Newsroom()
    site.start()
    try:
        sources = newsroom_sources(site, interval="1s")
        config = write_config(tmp_path / "config.toml", sources[:1])
        daemon = DaemonProcess(config)
        try:
            wait_for(lambda: count_updates(config, sources[0]["name"]) > 0, 60, "first source")
            write_config(config, sources[:2])
            daemon.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: count_updates(config, sources[1]["name"]) > 0, 60, "added source")
            config.write_text(config.read_text() + "\nbogus = 1\n")
            daemon.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reload refused" in daemon.output(), 30, "the refusal")
            assert daemon.proc.poll() is None
            code, _ = daemon.stop(signal.SIGINT)
        finally:
            daemon.kill()
        assert code == 0
        assert "unknown key" in daemon.output()
    finally:
        site.stop()


def _rows(config: Path) -> dict[str, Any]:
    return {
        r["name"]: r for r in json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    }


def test_retry_after_backs_the_source_off(tmp_path: Path) -> None:
    site = Newsroom()
    site.set_route("/busy", 429, {"Retry-After": "120"}, b"slow down")
    site.start()
    try:
        config = write_config(
            tmp_path / "config.toml",
            [{"name": "busy", "url": site.url("/busy"), "kind": "feed", "interval": "1s"}],
        )
        daemon = DaemonProcess(config)
        try:
            wait_for(lambda: site.count("/busy") >= 1, 60, "the first poll")
            time.sleep(3)
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
        assert site.count("/busy") == 1  # no in-crawl retry, no poll before 120 s
        row = _rows(config)["busy"]
        assert "429" in row["last_error"] and "retry after 120s" in row["last_error"]
        assert row["failures"] == 1 and row["backoff_until"] is not None
    finally:
        site.stop()


def _crawl_runs_started(config: Path) -> list[str]:
    with sqlite3.connect(f"file:{db_path(config)}?mode=ro", uri=True, timeout=10) as conn:
        return [r[0] for r in conn.execute("SELECT started_at FROM crawl_runs ORDER BY id")]


def test_the_daemon_prunes_old_crawl_records_and_keeps_the_rest(tmp_path: Path) -> None:
    """`[storage] keep_crawl_runs`: records older go at start (then hourly); recent ones,
    the posts and the daemon's own polls stay."""
    site = Newsroom()
    site.start()
    try:
        config = write_config(
            tmp_path / "config.toml",
            newsroom_sources(site, interval="1h")[:1],
            storage={"keep_crawl_runs": "30d"},
        )
        run_vigie(config, "run", "--once")  # the store, one source, one poll
        with sqlite3.connect(db_path(config)) as conn:
            sid = conn.execute("SELECT id FROM sources").fetchone()[0]
            old = [(sid, f"2020-01-{d:02d} 10:00:00.000000", "ok") for d in range(1, 29)]
            conn.executemany(
                "INSERT INTO crawl_runs (source_id, started_at, finished_at, status, pages, "
                "new, changed, unchanged, duration_ms) VALUES (?, ?, ?, ?, 1, 0, 0, 0, 1)",
                [(s, t, t, st) for s, t, st in old],
            )
        recent = [t for t in _crawl_runs_started(config) if not t.startswith("2020")]
        assert len(recent) == 1
        daemon = DaemonProcess(config)
        try:
            wait_for(
                lambda: not any(t.startswith("2020") for t in _crawl_runs_started(config)),
                60,
                "the old records pruned",
            )
            assert "28 crawl records pruned" in daemon.output()
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
        assert _crawl_runs_started(config)[0] == recent[0]
        assert count_updates(config, "live-jsonld") > 0
    finally:
        site.stop()
