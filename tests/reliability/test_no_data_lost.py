"""No data lost: one transaction per crawl, readers beside the writer, schema upgrades,
and a page whose structure changed under a source that had posts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select

from crawler.models import CrawlResult, RawPost
from storage import updates_write
from storage.crawls import save_crawl
from storage.db import Store, _alembic_config, make_engine, schema_revision
from storage.models import CrawlRun, Revision, Source, Update
from storage.sources import ensure_sources
from tests.helpers import run_vigie, write_config
from tests.newsroom.render import render_jsonld
from tests.newsroom.server import Newsroom
from tests.newsroom.timeline import fixture_state


def fixture_posts() -> list[RawPost]:
    return [
        RawPost(p.headline, p.body, p.published_at.astimezone(UTC)) for p in fixture_state().stream
    ]


def counts(store: Store) -> tuple[int, int, int]:
    with store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Update)) or 0,
            session.scalar(select(func.count()).select_from(Revision)) or 0,
            session.scalar(select(func.count()).select_from(CrawlRun)) or 0,
        )


def test_a_crawl_that_fails_midway_leaves_the_store_as_before(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        sid = ensure_sources(session, [("live", "https://x/live", "liveblog")])["live"]

    def explode(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(updates_write, "link_stories", explode)
    with pytest.raises(RuntimeError), store.session() as session:
        save_crawl(session, sid, CrawlResult("live", "https://x/live", posts=fixture_posts()))
    assert counts(store) == (0, 0, 0)
    with store.session() as session:
        src = session.get(Source, sid)
        assert src is not None and src.polls == 0 and src.last_crawl_at is None
    monkeypatch.undo()
    with store.session() as session:
        save_crawl(session, sid, CrawlResult("live", "https://x/live", posts=fixture_posts()))
    assert counts(store) == (22, 22, 1)


def test_an_older_database_is_upgraded_on_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    command.upgrade(_alembic_config(engine), "0001")
    current, head = schema_revision(engine)
    assert current == "0001"
    config = write_config(tmp_path / "config.toml", [], storage_url=url)
    if head != current:
        assert "will upgrade" in run_vigie(config, "check").stdout
    Store(url).close()
    assert schema_revision(engine)[0] == head
    assert "schema up to date" in run_vigie(config, "check").stdout
    engine.dispose()


def test_structure_change_is_an_error_not_an_empty_success(tmp_path: Path) -> None:
    site = Newsroom(states=[fixture_state()])
    page = render_jsonld(fixture_state(), "http://127.0.0.1")
    site.set_route("/live", 200, {"Content-Type": "text/html"}, page.encode())
    site.start()
    try:
        config = write_config(
            tmp_path / "config.toml",
            [
                {
                    "name": "live",
                    "url": site.url("/live"),
                    "kind": "liveblog",
                    "timezone": "Europe/Paris",
                }
            ],
        )
        run_vigie(config, "crawl", "live")
        site.set_route(
            "/live",
            200,
            {"Content-Type": "text/html"},
            (b"<html><body><p>Nouvelle maquette</p></body></html>"),
        )
        failed = run_vigie(config, "crawl", "live", check=False)
        assert failed.returncode == 1  # its only source failed: cron must notice
        [row] = json.loads(run_vigie(config, "sources", "--format", "json").stdout)
        assert row["last_status"] == "error"
        assert "no posts found: page structure changed?" in row["last_error"]
        assert row["updates"] == 22  # nothing lost either
    finally:
        site.stop()


@pytest.mark.slow
def test_readers_never_disturb_the_writing_daemon(tmp_path: Path) -> None:
    site = Newsroom(auto_advance=0.5)
    site.start()
    try:
        from tests.helpers import newsroom_sources

        config = write_config(tmp_path / "config.toml", newsroom_sources(site, interval="1s"))
        daemon = subprocess.Popen(
            [sys.executable, "-m", "vigie", "--config", str(config), "run"],
            stderr=subprocess.DEVNULL,
            cwd=str(tmp_path),
        )
        try:
            # Readers only read: the daemon creates the database, they wait for it to exist.
            deadline = time.monotonic() + 60
            while not (tmp_path / "vigie.db").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            seen = []
            for _ in range(12):
                out = run_vigie(config, "updates", "--format", "json", "--limit", "500")
                seen.append(len(json.loads(out.stdout)))
            assert seen[-1] >= seen[0] and seen[-1] > 0
            daemon.terminate()
            assert daemon.wait(timeout=15) == 0
        finally:
            daemon.kill()
        store = Store(f"sqlite:///{tmp_path / 'vigie.db'}")
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        store.close()
    finally:
        site.stop()
