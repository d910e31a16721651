"""Run vigie's benchmarks: `python bench/run.py [--quick | --tiny] [--only NAME] [--json OUT]`.

Each benchmark runs in a child process of its own (a fresh interpreter: one reactor, no
memory or caches left over from another benchmark), prints nothing but progress on stderr,
and hands its metrics back as JSON. The table goes to stdout; `--json OUT` writes
`{"machine": {...}, "sizes": ..., "metrics": {NAME: {"value", "unit", "baseline", "ratio",
"target", "ok", ...}}}`. Sizes: the full run (default), `--quick` (about 10 minutes once the
100k store is cached, 4 of them the punctuality daemon's), `--tiny` (seconds; for the smoke
test).
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, SIZES, Metric, Sizes, machine

# name -> (its module in bench/, the keywords its `bench()` takes besides the sizes)
BENCHMARKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "poll": ("poll", ()),
    "ingest": ("ingest", ("with_pg",)),
    "repoll": ("repoll", ()),
    "neardup": ("neardup", ("log",)),
    "search": ("searching", ("log",)),
    "memory": ("memory", ()),
    "web": ("web", ("log",)),
    "alerts": ("alerts", ()),
    "startup": ("startup", ("log",)),
    "disk": ("disk", ("with_pg",)),
    "punctuality": ("punctuality", ()),
    "growth": ("growth", ("log",)),
    "peer": ("peer", ("log",)),
}


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_one(name: str, sizes: Sizes, *, with_pg: bool) -> list[Metric]:
    """One benchmark in this process (its module imported only now)."""
    module, wants = BENCHMARKS[name]
    given = {"with_pg": with_pg, "log": _progress}
    bench = importlib.import_module(f"bench.{module}").bench
    return bench(sizes, **{key: given[key] for key in wants})  # type: ignore[no-any-return]


def run_child(name: str, sizes: Sizes, *, with_pg: bool) -> dict[str, Any]:
    """One benchmark in a child process; its metrics as JSON dicts (or its failure)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    cmd = [sys.executable, "-m", "bench.run", "--child", name, "--sizes", sizes.label]
    cmd += ["--json", str(out_path)] + ([] if with_pg else ["--no-pg"])
    try:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=sys.stderr)
        if proc.returncode != 0:
            return {f"{name}_failed": _failure(name, f"exit code {proc.returncode}")}
        return json.loads(out_path.read_text(encoding="utf-8"))["metrics"]
    finally:
        out_path.unlink(missing_ok=True)


def _failure(name: str, reason: str) -> dict[str, Any]:
    return Metric(f"{name}_failed", None, "", note=f"benchmark failed: {reason}").as_json()


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(metrics: dict[str, dict[str, Any]]) -> str:
    rows = [("metric", "value", "unit", "baseline", "ratio", "target", "ok")]
    for name, m in metrics.items():
        op = {"max": "≤", "min": "≥", "eq": "="}.get(m.get("direction", "max"), "≤")
        on = "ratio" if m.get("target_on") == "ratio" else "value"
        target = "(info)" if m["target"] is None else f"{on} {op} {m['target']:g}"
        ok = {True: "yes", False: "NO", None: ""}[m["ok"]]
        rows.append(
            (name, _fmt(m["value"]), m["unit"], _fmt(m["baseline"]), _fmt(m["ratio"]), target, ok)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, 2, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"- {name}: {m['note']}" for name, m in metrics.items() if m.get("note")]
    return "\n".join([*lines, "", *notes])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="vigie's benchmarks")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, about 10 minutes")
    size.add_argument("--tiny", action="store_true", help="tiny sizes, to check the harness")
    size.add_argument("--sizes", choices=sorted(SIZES), help="a named size set")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL figures")
    parser.add_argument("--child", choices=list(BENCHMARKS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    label = args.sizes or ("quick" if args.quick else "tiny" if args.tiny else "full")
    sizes = SIZES[label]

    if args.child:
        metrics = run_one(args.child, sizes, with_pg=not args.no_pg)
        result = {"metrics": {m.name: m.as_json() for m in metrics}}
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
        return 0

    started = time.monotonic()
    _progress(f"vigie benchmarks, {label} sizes")
    metrics: dict[str, dict[str, Any]] = {}
    for name in args.only or BENCHMARKS:
        t0 = time.monotonic()
        _progress(f"- {name} ...")
        metrics.update(run_child(name, sizes, with_pg=not args.no_pg))
        _progress(f"  {name} done in {time.monotonic() - t0:.0f}s")
    result = {
        "machine": machine(),
        "sizes": label,
        "seconds": round(time.monotonic() - started, 1),
        "metrics": metrics,
    }
    print(f"vigie benchmarks ({label} sizes, {result['seconds']:.0f}s)\n")
    print(table(metrics))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
