"""`vigie probe URL` and `vigie check --probe URL`: the real CLI in a subprocess, fetching
pages from the loopback newsroom with Scrapy, showing what would be extracted and by which
path, storing nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import write_config
from tests.newsroom.server import Newsroom

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HTML = {"Content-Type": "text/html; charset=utf-8"}
TICKER = (
    "<html><head><meta charset='utf-8'><title>Ticker</title></head><body><main>"
    "<h1>Ticker vom 27. August 2024</h1><div>"
    + "".join(
        f"<h2>{t} Uhr: Meldung {i}</h2><p>Erster Absatz der Meldung {i}, mit genug Text.</p>"
        for i, t in enumerate(["12.31", "11.39", "10.02"])
    )
    + "</div></main></body></html>"
)


def vigie(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("VIGIE_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "vigie", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def site() -> Iterator[Newsroom]:
    newsroom = Newsroom()
    newsroom.start()
    newsroom.step = newsroom.last_step
    newsroom.set_route("/probe/ticker", headers=HTML, body=TICKER)
    newsroom.set_route(
        "/probe/nothing", headers=HTML, body="<html><body><p>Rien.</p></body></html>"
    )
    yield newsroom
    newsroom.stop()


def test_probe_shows_the_posts_and_the_path(site: Newsroom, tmp_path: Path) -> None:
    proc = vigie(tmp_path, "probe", site.url("/probe/ticker"), "--timezone", "Europe/Berlin")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "path:  detected" in out and "posts: 3" in out
    assert "2024-08-27T12:31+02:00  Meldung 0" in out
    assert "Erster Absatz der Meldung 0" in out
    assert not list(tmp_path.iterdir())  # nothing stored, no database created


def test_probe_json_and_the_structured_path(site: Newsroom, tmp_path: Path) -> None:
    proc = vigie(tmp_path, "probe", site.url("/live/jsonld"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["path"], data["count"], data["error"]) == ("jsonld", 22, None)
    assert data["ended"] is True
    first = data["posts"][0]
    assert set(first) >= {"published_at", "headline", "first_words", "body", "highlighted"}
    assert first["published_at"].endswith("+00:00")  # JSON times are UTC


def test_probe_of_a_page_without_posts_fails_with_the_reason(
    site: Newsroom, tmp_path: Path
) -> None:
    proc = vigie(tmp_path, "probe", site.url("/probe/nothing"), "--kind", "liveblog")
    assert proc.returncode == 1
    assert "posts: 0" in proc.stdout
    assert "vigie: page: no posts found" in proc.stderr


def test_probe_refuses_what_is_no_url_or_timezone(tmp_path: Path) -> None:
    assert vigie(tmp_path, "probe", "ftp://example.org/x").returncode == 2
    proc = vigie(tmp_path, "probe", "https://example.org/x", "--timezone", "Mars/Olympus")
    assert proc.returncode == 2 and "unknown timezone" in proc.stderr


def test_check_probe_uses_the_configured_source(site: Newsroom, tmp_path: Path) -> None:
    url = site.url("/probe/ticker")
    source = {"name": "ticker", "url": url, "kind": "liveblog", "timezone": "Europe/Berlin"}
    config = write_config(tmp_path / "config.toml", [source])
    proc = vigie(tmp_path, "--config", str(config), "check", "--probe", url)
    assert proc.returncode == 0, proc.stderr
    assert "is valid" in proc.stdout
    assert "kind:  liveblog, times without an offset read in Europe/Berlin" in proc.stdout
    assert "2024-08-27T12:31+02:00" in proc.stdout


def test_probe_a_real_page(site: Newsroom, tmp_path: Path, realpages: Path) -> None:
    body = (realpages / "sportsfr-lorient-ol-match-live.html").read_bytes()
    site.set_route("/probe/sportsfr", headers=HTML, body=body)
    proc = vigie(tmp_path, "probe", site.url("/probe/sportsfr"), "--timezone", "Europe/Paris")
    assert proc.returncode == 0, proc.stderr
    assert "posts: 75" in proc.stdout and "path:  detected" in proc.stdout
    assert "2020-09-27T18:35+02:00  (no headline)" in proc.stdout
