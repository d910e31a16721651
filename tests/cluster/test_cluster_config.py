"""`[cluster]`, `[metrics]` and `--role` at the edge: every bad value refused with the file,
the key and the reason (exit 2 through the CLI), cluster mode on PostgreSQL only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_vigie, write_config
from vigie.config import ConfigError, load_config

PG = "postgresql+psycopg://vigie@127.0.0.1:9/vigie"  # never reached: refused before


def config_with(tmp_path: Path, extra: str, url: str = PG) -> Path:
    path = write_config(
        tmp_path / "config.toml",
        [{"name": "a", "url": "https://example.org/live", "kind": "feed"}],
        storage_url=url,
    )
    path.write_text(path.read_text() + "\n" + extra + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ("[cluster]\nbatch = 0", "cluster.batch", "greater than or equal to 1"),
        ("[cluster]\nbatch = 501", "cluster.batch", "less than or equal to 500"),
        ("[cluster]\nbatch = 1.5", "cluster.batch", "integer"),
        ('[cluster]\nconcurrency = "many"', "cluster.concurrency", "integer"),
        ("[cluster]\nconcurrency = 0", "cluster.concurrency", "greater than or equal to 1"),
        ('[cluster]\nheartbeat = "0s"', "cluster.heartbeat", "positive"),
        ("[cluster]\nheartbeat = inf", "cluster.heartbeat", "finite"),
        ('[cluster]\nheartbeat = "500ms"', "cluster.heartbeat", "at least 1s"),
        ('[cluster]\ntick = "31d"', "cluster.tick", "at most 30 days"),
        ('[cluster]\nstall_after = "soon"', "cluster.stall_after", "invalid duration"),
        ('[cluster]\nheartbeat = "10s"\nstall_after = "20s"', "cluster", "at least 3 heartbeats"),
        ('[cluster]\nworker_name = "a b"', "cluster.worker_name", "pattern"),
        ('[cluster]\nworker_name = ""', "cluster.worker_name", "pattern"),
        (f'[cluster]\nworker_name = "{"w" * 101}"', "cluster.worker_name", "pattern"),
        ("[cluster]\nworkers = 3", "cluster.workers", "unknown key"),
        ('[metrics]\nlisten = "nope"', "metrics.listen", "not HOST:PORT"),
        ('[metrics]\nlisten = "127.0.0.1:99999"', "metrics.listen", "not HOST:PORT"),
        ('[metrics]\nlisten = ":80"', "metrics.listen", "not HOST:PORT"),
        ('[metrics]\nlisten = "a b:80"', "metrics.listen", "not HOST:PORT"),
        ("[metrics]\nlisten = 9464", "metrics.listen", "string"),
    ],
)
def test_bad_values_are_refused_with_key_and_reason(
    tmp_path: Path, extra: str, key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config_with(tmp_path, extra))
    assert any(k == key and reason in r for k, r in err.value.problems), err.value.problems


def test_good_values_are_read(tmp_path: Path) -> None:
    cfg = load_config(
        config_with(
            tmp_path,
            '[cluster]\nbatch = 20\nheartbeat = "2s"\nstall_after = "6s"\nworker_name = "c-1"\n'
            '[metrics]\nlisten = "[::1]:9464"',
        )
    )
    assert cfg.cluster is not None
    assert (cfg.cluster.batch, cfg.cluster.heartbeat, cfg.cluster.stall_after) == (20, 2.0, 6.0)
    assert cfg.cluster.worker_name == "c-1"
    assert cfg.metrics.host_port == ("::1", 9464)
    assert load_config(config_with(tmp_path, "")).cluster is None


def test_cluster_mode_needs_postgresql(tmp_path: Path) -> None:
    sqlite = config_with(tmp_path, "[cluster]", url="sqlite:///vigie.db")
    proc = run_vigie(sqlite, "check", check=False)
    assert proc.returncode == 2
    assert "config.toml: cluster: cluster mode needs PostgreSQL" in proc.stderr
    # The environment's URL is the one that counts, either way.
    pg = config_with(tmp_path, "[cluster]")
    proc = run_vigie(pg, "check", env={"VIGIE_STORAGE_URL": "sqlite:///x.db"}, check=False)
    assert proc.returncode == 2 and "needs PostgreSQL" in proc.stderr


@pytest.mark.parametrize(
    ("extra", "args", "message"),
    [
        ("", ("run", "--role", "worker"), "--role: needs a [cluster] section"),
        ("[cluster]", ("run", "--role", "boss"), "--role: choose one of scheduler, worker, all"),
        ("[cluster]", ("run", "--once", "--role", "worker"), "--role: not with --once"),
    ],
)
def test_bad_role_exits_2(tmp_path: Path, extra: str, args: tuple[str, ...], message: str) -> None:
    proc = run_vigie(config_with(tmp_path, extra), *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
