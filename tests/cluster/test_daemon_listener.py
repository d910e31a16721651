"""`vigie run` on one machine with `[metrics] listen`: GET /health and /metrics from the
daemon itself, its heartbeat row (`vigie workers`), and a listener that hostile clients
cannot stop or make answer anything else."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cluster.harness import free_port, wait_for
from tests.helpers import run_vigie, write_config
from tests.newsroom.server import Newsroom
from tests.scheduler.test_daemon import DaemonProcess

pytestmark = pytest.mark.slow


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def raw(port: int, data: bytes, wait: float = 0.0) -> bytes:
    """Send bytes as they are; what comes back before the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(data)
        if wait:
            time.sleep(wait)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_the_daemon_answers_health_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    with Newsroom() as site:
        config = write_config(
            tmp_path / "config.toml",
            [{"name": "rss", "url": site.url("/feeds/rss.xml"), "kind": "feed"}],
            scheduler={"default_interval": "3s"},
        )
        config.write_text(config.read_text() + f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
        daemon = DaemonProcess(config)
        try:
            wait_for(
                "a healthy daemon",
                lambda: get(port, "/health")[0] == 200 and site.count("/feeds/rss.xml") >= 2,
                timeout=90,
            )
            body = json.loads(get(port, "/health")[1])
            assert body["mode"] == "single" and body["problems"] == []
            assert [p["role"] for p in body["processes"]] == ["daemon"]
            status, metrics = get(port, "/metrics")
            assert status == 200
            lines = metrics.splitlines()
            polls = [line for line in lines if line.startswith("vigie_polls_total{")]
            assert polls and all(float(line.split()[-1]) >= 1 for line in polls), polls
            assert "vigie_database_up 1.0" in lines
            # Classes of bad requests: each gets its answer or a hang-up, nothing more.
            assert get(port, "/updates")[0] == 404
            assert raw(port, b"POST /health HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405")
            assert raw(port, b"GET /health") == b""  # a head never finished
            assert raw(port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n") == b""
            assert raw(port, b"\x00\xff\r\n\r\n").startswith(b"HTTP/1.1 405")
            assert raw(port, b"").startswith(b"")
            listed = run_vigie(config, "workers", "--format", "json")
            rows = json.loads(listed.stdout)
            assert [r["role"] for r in rows] == ["daemon"] and rows[0]["live"]
            assert get(port, "/health")[0] == 200, "still answering"
            assert daemon.proc.poll() is None
            assert daemon.stop()[0] == 0, daemon.output()
        finally:
            daemon.kill()
    assert json.loads(run_vigie(config, "workers", "--all", "--format", "json").stdout) == []
