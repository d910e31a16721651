"""The punctuality, growth and peer benchmarks at tiny sizes: they run, measure what they
say (every metric there, numbers in sane ranges, curves that line up) and write the JSON of
the promised shape; and the local sites they poll answer in the promised mix. No timing is
judged here: targets belong to `bench/run.py`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from bench.httpd import MixedSite, Paused, PeerSite
from tests.shared import ROOT


def test_the_mixed_site_answers_in_the_promised_shares() -> None:
    site = MixedSite(50, seed=3)
    kinds: Counter[str] = Counter()
    for i in range(20_000):
        before = list(site.counts)
        answer = site(f"/{'live' if i % 2 else 'feed'}/{i % 50}")
        if isinstance(answer, Paused):
            kinds["slow" if answer.pause < 10 else "hang"] += 1
            assert answer.answer[0] == 200
        elif answer[0] in (500, 503):
            kinds[str(answer[0])] += 1
        elif site.counts != before:
            kinds["new"] += 1
        else:
            kinds["same"] += 1
    share = {k: v / 20_000 for k, v in kinds.items()}
    assert 0.78 < share["same"] < 0.82
    assert 0.14 < share["new"] < 0.16
    for trouble in ("500", "503", "slow", "hang"):
        assert 0.008 < share[trouble] < 0.017, share
    assert site("/live/50")[0] == 404 and site("/other/1")[0] == 404


def test_the_peer_site_changes_only_when_told() -> None:
    site = PeerSite(30)
    etags = [site(f"/live/{n}")[3] for n in range(30)]
    assert etags == [site(f"/live/{n}")[3] for n in range(30)]
    assert site("/_change/10")[0] == 200
    changed = [n for n in range(30) if site(f"/live/{n}")[3] != etags[n]]
    assert changed == [0, 10, 20]
    assert site("/_change/0")[0] == 404


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bench2")
    out = folder / "bench.json"
    env = os.environ | {"VIGIE_BENCH_CACHE": str(folder / "cache")}
    env.pop("VIGIE_BENCH_CHANGEDETECTION", None)
    cmd = [sys.executable, "bench/run.py", "--tiny", "--no-pg", "--json", str(out)]
    cmd += ["--only", "punctuality", "--only", "growth", "--only", "peer"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    metrics = result["metrics"]
    assert not [n for n in metrics if n.endswith("_failed")], proc.stderr[-3000:]
    for name in metrics:
        assert name in proc.stdout  # the table names every metric
    return dict(metrics)


@pytest.mark.slow
def test_punctuality_measures_lateness_cpu_and_memory(tiny_run: dict[str, Any]) -> None:
    p50, p95, worst = (tiny_run[f"punctuality_lateness_{p}"] for p in ("p50", "p95", "max"))
    for m in (p50, p95, worst):
        assert m["unit"] == "s" and m["baseline"] is not None
        assert -1.0 < m["value"] < 60.0
    assert p50["value"] <= p95["value"] <= worst["value"]
    assert p95["target"] == 5.0 and worst["target"] == 30.0 and p95["ok"] in (True, False)
    assert "re-polls timed" in p50["note"] and "20 sources" in p50["note"]
    cpu = tiny_run["punctuality_cpu"]
    assert 0.0 < cpu["value"] < (os.cpu_count() or 1) and cpu["target"] == 1.0
    growth = tiny_run["punctuality_rss_growth"]
    assert abs(growth["value"]) < 300 and "MiB" in growth["note"]


@pytest.mark.slow
def test_growth_gives_a_curve_with_a_verdict(tiny_run: dict[str, Any]) -> None:
    for key, unit in (("ingest_rate", "updates/s"), ("repoll_time", "ms"), ("search_p95", "ms")):
        small, big = tiny_run[f"growth_{key}_300"], tiny_run[f"growth_{key}_3k"]
        assert small["unit"] == big["unit"] == unit
        assert small["value"] > 0 and big["value"] > 0
        assert small["baseline"] is None and big["baseline"] == small["value"]
        assert big["ratio"] == pytest.approx(big["value"] / small["value"])
        assert big["ok"] in (True, False) and big["target_on"] == "ratio"
        assert "at 10× the size" in big["note"]
        assert any(w in big["note"] for w in ("flat", "logarithmic", "sublinear", "linear"))


@pytest.mark.slow
def test_peer_runs_vigie_side_and_says_why_the_peer_was_not(tiny_run: dict[str, Any]) -> None:
    first, unchanged = tiny_run["peer_first_wall"], tiny_run["peer_unchanged_wall"]
    assert "ok 20" in first["note"]  # every page new in the first round
    assert "not_modified 20" in unchanged["note"]
    assert "ok 2" in tiny_run["peer_changed_wall"]["note"]  # one page in ten changed
    for name in ("first", "unchanged", "changed"):
        assert tiny_run[f"peer_{name}_wall"]["value"] > 0
        assert tiny_run[f"peer_{name}_cpu"]["value"] > 0
    floor = tiny_run["peer_unchanged_floor"]
    assert floor["baseline"] > 0 and floor["target"] == 1.2 and floor["ok"] in (True, False)
    assert "304: 20" in floor["note"]
    if shutil.which("changedetection.io") is None:
        skipped = tiny_run["peer_changedetection"]
        assert skipped["value"] is None and "not installed" in skipped["note"]
    else:
        assert first["baseline"] is not None
