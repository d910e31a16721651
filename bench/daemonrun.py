"""`vigie run` as a daemon in a child process, watched from outside: the one harness of the
benchmarks that run the real daemon (memory, alerts, punctuality).

The daemon runs for a given time; every second its resident set size and CPU time
(utime + stime of the process and of its waited-for children, from /proc) are sampled,
and an optional callback runs (to read the store as the daemon writes it). Then it is
stopped with SIGTERM, as a service manager does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, peak_rss_mb, rss_mb

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class DaemonRun:
    """What was seen of one run: samples (seconds since spawn, RSS MiB, CPU seconds)."""

    samples: list[tuple[float, float, float]] = field(default_factory=list)
    peak_mb: float = 0.0
    seconds: float = 0.0  # from spawn to the SIGTERM
    tail: str = ""  # the end of the daemon's log

    def rss(self) -> list[tuple[float, float]]:
        return [(t, mb) for t, mb, _ in self.samples]

    def cores(self, since: float = 0.0) -> float:
        """Mean CPU use (cores) between the first sample at or after `since` and the last."""
        kept = [(t, cpu) for t, _, cpu in self.samples if t >= since]
        if len(kept) < 2 or kept[-1][0] <= kept[0][0]:
            return float("nan")
        return (kept[-1][1] - kept[0][1]) / (kept[-1][0] - kept[0][0])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its children it has waited for (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the name: state is field 0, utime 11, stime 12, cutime 13, cstime 14
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def watch_daemon(
    config: Path,
    seconds: float,
    *,
    tick: Callable[[float], None] | None = None,
    log_level: str = "warning",
) -> DaemonRun:
    """Run `vigie --config CONFIG run` for `seconds`, sampling it every second."""
    log_path = config.parent / "daemon.log"
    run = DaemonRun()
    with open(log_path, "w", encoding="utf-8") as log:
        cmd = [sys.executable, "-m", "vigie", "--config", str(config), "--log-level", log_level]
        proc = subprocess.Popen([*cmd, "run"], cwd=ROOT, stdout=log, stderr=log)
        start = time.monotonic()
        try:
            while (now := time.monotonic() - start) < seconds:
                if proc.poll() is not None:
                    break
                try:
                    run.samples.append((now, rss_mb(proc.pid), cpu_seconds(proc.pid)))
                    run.peak_mb = peak_rss_mb(proc.pid)
                except (OSError, RuntimeError):
                    break
                if tick is not None:
                    tick(now)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - start - now)))
        finally:
            run.seconds = time.monotonic() - start
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    run.tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    if len(run.samples) < 3:
        raise RuntimeError(f"the daemon stopped early:\n{run.tail}")
    return run


def mean_between(samples: list[tuple[float, float]], lo: float, hi: float) -> float:
    """The mean of the samples (t, value) taken between lo and hi; NaN if none."""
    values = [v for t, v in samples if lo <= t <= hi]
    return sum(values) / len(values) if values else float("nan")


def slope_between(samples: list[tuple[float, float]], lo: float, hi: float) -> float:
    """MiB per minute, least squares over [lo, hi]."""
    pts = [(t, v) for t, v in samples if lo <= t <= hi]
    if len(pts) < 2:
        return float("nan")
    mt = sum(t for t, _ in pts) / len(pts)
    mv = sum(v for _, v in pts) / len(pts)
    var = sum((t - mt) ** 2 for t, _ in pts)
    return 60.0 * sum((t - mt) * (v - mv) for t, v in pts) / var if var else 0.0
