"""What every benchmark shares: sizes, the metric record, timers, percentiles, the machine.

A metric is one number with its unit, the baseline measured in the same run (so that a
figure that depends on the machine is read as a ratio), and the target it is judged by.
`target_on` says whether the target applies to the value or to the ratio, `direction`
whether the figure must stay below ("max") or reach ("min") the target.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("VIGIE_BENCH_CACHE") or ROOT / "bench" / ".cache")


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each benchmark runs; `label` names the set in the output."""

    label: str
    poll_sources: int
    poll_rounds: int
    ingest_posts: int
    ingest_per_page: int
    repoll_posts: int
    repoll_rounds: int
    stores: tuple[int, ...]  # stored updates for near-duplicate lookups and search
    lookups: int
    searches: int
    memory_sources: int
    memory_seconds: float
    memory_window: tuple[float, float]  # growth is measured between these two times (s)
    memory_interval: str  # the sources' poll interval in the daemon's config
    memory_baseline_seconds: float  # how long the one-source daemon of the baseline runs
    punctuality: tuple[int, float, str]  # sources, seconds of daemon, poll interval
    punctuality_baseline: tuple[int, float, str]  # the same for the small daemon of the baseline
    punctuality_rss_from: float  # RSS growth is measured from this time (s) to the end
    growth_stores: tuple[int, ...]  # stored updates the cost curve is measured at
    growth_ingest_posts: int  # new posts ingested into each store
    growth_rounds: int  # re-polls timed at each size
    peer_pages: int  # live blogs of the peer comparison


SIZES = {
    "tiny": Sizes(
        label="tiny",
        poll_sources=40,
        poll_rounds=1,
        ingest_posts=400,
        ingest_per_page=50,
        repoll_posts=60,
        repoll_rounds=2,
        stores=(3_000,),
        lookups=30,
        searches=10,
        memory_sources=20,
        memory_seconds=12.0,
        memory_window=(4.0, 12.0),
        memory_interval="2s",
        memory_baseline_seconds=5.0,
        punctuality=(20, 20.0, "4s"),
        punctuality_baseline=(5, 16.0, "3s"),  # a start-up under load may take 5 s
        punctuality_rss_from=8.0,
        growth_stores=(300, 3_000),
        growth_ingest_posts=200,
        growth_rounds=2,
        peer_pages=20,
    ),
    "quick": Sizes(
        label="quick",
        poll_sources=1_000,
        poll_rounds=2,
        ingest_posts=10_000,
        ingest_per_page=100,
        repoll_posts=500,
        repoll_rounds=5,
        stores=(100_000,),
        lookups=300,
        searches=100,
        memory_sources=1_000,
        memory_seconds=40.0,
        memory_window=(15.0, 40.0),
        memory_interval="10s",
        memory_baseline_seconds=10.0,
        punctuality=(1_000, 180.0, "1m"),
        punctuality_baseline=(20, 60.0, "15s"),
        punctuality_rss_from=120.0,
        growth_stores=(10_000, 100_000),
        growth_ingest_posts=5_000,
        growth_rounds=3,
        peer_pages=200,
    ),
    "full": Sizes(
        label="full",
        poll_sources=1_000,
        poll_rounds=5,
        ingest_posts=100_000,
        ingest_per_page=100,
        repoll_posts=500,
        repoll_rounds=10,
        stores=(100_000, 1_000_000),
        lookups=1_000,
        searches=300,
        memory_sources=1_000,
        memory_seconds=300.0,
        memory_window=(120.0, 300.0),
        memory_interval="30s",
        memory_baseline_seconds=15.0,
        punctuality=(1_000, 600.0, "1m"),
        punctuality_baseline=(20, 150.0, "1m"),
        punctuality_rss_from=120.0,
        growth_stores=(10_000, 100_000, 1_000_000),
        growth_ingest_posts=10_000,
        growth_rounds=5,
        peer_pages=200,
    ),
}


@dataclass(slots=True)
class Metric:
    """One measured figure against its baseline and target."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: float | None = None
    target_on: str = "value"  # "value" or "ratio"
    direction: str = "max"  # "max": at or below the target; "min": at least; "eq": exactly
    note: str = ""
    ratio: float | None = field(init=False, default=None)
    ok: bool | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.value is not None and self.baseline:
            self.ratio = self.value / self.baseline
        judged = self.ratio if self.target_on == "ratio" else self.value
        if self.target is not None and judged is not None:
            if self.direction == "eq":
                self.ok = judged == self.target
            elif self.direction == "max":
                self.ok = judged <= self.target
            else:
                self.ok = judged >= self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "ok": self.ok,
            "target_on": self.target_on,
            "direction": self.direction,
            "baseline_label": self.baseline_label,
            "note": self.note,
        }

    def target_text(self) -> str:
        if self.target is None:
            return "(info)"
        op = {"max": "≤", "min": "≥", "eq": "="}[self.direction]
        what = "ratio" if self.target_on == "ratio" else self.unit
        return f"{what} {op} {self.target:g}"


def not_measured(name: str, unit: str, reason: str, target: float | None = None) -> Metric:
    """A metric that could not be measured in this run, said plainly (no made-up number)."""
    return Metric(name, None, unit, target=target, note=f"not measured: {reason}")


def latency_metrics(
    name: str,
    times: Sequence[float],
    base: Sequence[float],
    baseline_label: str,
    target: float | None,
    note: str,
) -> list[Metric]:
    """The p50 (information) and p95 (against `target`) metrics in ms of times and baseline
    times in seconds; `name` and `baseline_label` hold `{p}` where the percentile goes."""
    return [
        Metric(
            name.format(p=p),
            percentile(times, p) * 1000,
            "ms",
            baseline=percentile(base, p) * 1000,
            baseline_label=baseline_label.format(p=p),
            target=goal,
            note=note,
        )
        for p, goal in ((50, None), (95, target))
    ]


def size_label(size: int) -> str:
    """A store size as metric names carry it: 1m, 100k (300 below a thousand)."""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size < 1000 or size % 1000:
        return str(size)
    return f"{size // 1000}k"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of fn takes (the garbage collector left as it is)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Collect first, so that a collection left over by earlier work is not timed."""
    gc.collect()
    yield


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"vigie-bench-{prefix}-") as d:
        yield Path(d)


def written_bytes() -> int | None:
    """Bytes this process caused to be written to storage (`/proc/self/io` write_bytes):
    the database file, its journal and checkpoints. None where the kernel does not say."""
    try:
        with open("/proc/self/io", encoding="ascii") as f:
            for line in f:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process now, in MiB (Linux /proc)."""
    return _status_kb(pid, "VmRSS") / 1024.0


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident set size of a process so far, in MiB (Linux /proc)."""
    return _status_kb(pid, "VmHWM") / 1024.0


def _status_kb(pid: int | None, key: str) -> float:
    path = Path(f"/proc/{pid or 'self'}/status")
    for line in path.read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"{key} not in {path}")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.splitlines()
                if "model name" in line
            ),
            None,
        )
        if model:
            info["cpu"] = model
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        info["memory_gb"] = round(total_kb / 1024 / 1024, 1)
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except (OSError, StopIteration, ValueError):
        pass
    versions = {}
    for module in ("scrapy", "twisted", "sqlalchemy", "psycopg", "lxml", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            continue
    try:
        import sqlite3

        versions["sqlite"] = sqlite3.sqlite_version
    except ImportError:
        pass
    info["versions"] = versions
    return info
