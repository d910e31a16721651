"""The benchmark harness runs end to end with tiny sizes and writes JSON of the promised
shape. No number is checked: timings belong to `bench/run.py`, not to the test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared import ROOT

KEYS = {"value", "unit", "baseline", "ratio", "target", "ok"}
BENCHMARKS = (
    "poll",
    "ingest",
    "repoll",
    "neardup",
    "search",
    "memory",
    "web",
    "alerts",
    "startup",
    "disk",
    "punctuality",
    "growth",
    "peer",
)


@pytest.mark.slow
def test_the_harness_runs_with_tiny_sizes(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = os.environ | {"VIGIE_BENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--tiny", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,  # ~4 min on a quiet 2-core machine, >10 under a load of 5
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(result["machine"], dict) and result["machine"]["cpus"]
    metrics = result["metrics"]
    assert not [name for name in metrics if name.endswith("_failed")], proc.stderr[-3000:]
    for name, metric in metrics.items():
        assert set(metric) >= KEYS, name
        assert isinstance(metric["unit"], str)
        for key in ("value", "baseline", "ratio", "target"):
            assert metric[key] is None or isinstance(metric[key], int | float), (name, key)
        assert metric["ok"] in (True, False, None)
        if metric["value"] is not None and metric["baseline"]:
            assert metric["ratio"] == pytest.approx(metric["value"] / metric["baseline"])
    for bench in BENCHMARKS:
        assert any(name.startswith(bench) for name in metrics), bench
    # the table names every metric
    for name in metrics:
        assert name in proc.stdout
