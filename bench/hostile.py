"""Hostile input, timed: how long the crawler takes on every document of the hostile corpus
(tests/hostile_input.py), and whether any regex of crawler/ is superlinear on pathological text.

    python bench/hostile.py                  # corpus with 1 MB texts, regex audit
    python bench/hostile.py --size 5 --top 15

Extraction: `extract_document` of each document (three good posts beside one hostile
part), next to its baseline, lxml parsing the same bytes (the floor of any extraction). The
table lists the slowest documents. Regexes: every compiled pattern of every crawler module,
run to the end (`finditer`) on texts of n and 4n characters of each pathological shape; the
growth exponent log(t(4n)/t(n))/log 4 is 1 for a linear pattern, 2 for a quadratic one (the
best of three timings each). Nothing is asserted: the numbers are read.
"""

from __future__ import annotations

import argparse
import importlib
import math
import pkgutil
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree

import crawler
from crawler.documents import NoPostsError, extract_document
from crawler.feeds import FeedError
from crawler.models import SourceSpec
from tests.hostile_input import BASE, GOOD_HEADLINES, MB, hostile_documents, pathological_texts

NOW = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)
_PARSER = etree.HTMLParser(recover=True, huge_tree=True)


def _timed(fn: Callable[..., object], *args: object) -> tuple[float, object]:
    started = time.perf_counter()
    try:
        value = fn(*args)
    except (FeedError, NoPostsError) as exc:
        value = exc
    return time.perf_counter() - started, value


def corpus(size: int, top: int) -> None:
    rows = []
    for name, kind, body in hostile_documents(size):
        spec = SourceSpec(name="bench", url=BASE, kind=kind, timezone="Europe/Paris")
        seconds, found = _timed(lambda b=body, s=spec: extract_document(b, BASE, s, now=NOW))
        floor, _ = _timed(etree.fromstring, body, _PARSER)
        kept = (
            sum(h in {p.headline for p in found.posts} for h in GOOD_HEADLINES)  # type: ignore[attr-defined]
            if not isinstance(found, Exception)
            else 0
        )
        rows.append((seconds, floor, len(body), kept, name))
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    print(f"{len(rows)} documents, texts of {size // 1024} KB: {total:.1f} s in all")
    print(f"{'seconds':>8} {'lxml':>7} {'ratio':>6} {'size':>8} {'good':>4}  document")
    for seconds, floor, length, kept, name in rows[:top]:
        ratio = seconds / floor if floor else float("nan")
        print(f"{seconds:8.3f} {floor:7.3f} {ratio:6.1f} {length / MB:7.1f}M {kept:>2}/3  {name}")
    lost = [name for *_, kept, name in rows if kept < 3]
    print(f"documents that lost a good post: {lost or 'none'}")


def _patterns() -> dict[str, re.Pattern]:
    found = {}
    for info in pkgutil.walk_packages(crawler.__path__, "crawler."):
        module = importlib.import_module(info.name)
        for attr, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{info.name}.{attr}"] = value
    return found


def _run(pattern: re.Pattern, text: str | bytes) -> float:
    """Seconds per full scan: the best of three, each repeated until 20 ms have passed."""
    best = float("inf")
    for _ in range(3):
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < 0.02 or not count:
            for _ in pattern.finditer(text):  # type: ignore[arg-type]
                pass
            count += 1
        best = min(best, elapsed / count)
    return best


def _shapes(size: int) -> dict[str, str]:
    shapes = pathological_texts(size)
    half = size // 2
    shapes |= {"digits then x": "1" * (size - 1) + "x", "word then space": "a" * half + " " * half}
    return shapes


def regexes(n: int) -> None:
    worst = []
    small_shapes, large_shapes = _shapes(n), _shapes(4 * n)
    for name, pattern in sorted(_patterns().items()):
        found = []
        for shape, text in large_shapes.items():
            small, large = small_shapes[shape], text
            if not isinstance(pattern.pattern, str):
                small, large = small.encode(), large.encode()  # type: ignore[assignment]
            t_small, t_large = _run(pattern, small), _run(pattern, large)
            exponent = math.log(max(t_large, 1e-9) / max(t_small, 1e-9)) / math.log(4)
            found.append((exponent, t_large, shape))
        exponent, seconds, shape = max(found)
        worst.append((exponent, seconds, shape, name))
    worst.sort(reverse=True)
    print(
        f"\nregexes of crawler/ on {n:,} and {4 * n:,} characters"
        " (exponent 1: linear, 2: quadratic)"
    )
    print(f"{'exponent':>8} {'ms at 4n':>9}  {'worst shape':<20} pattern")
    for exponent, seconds, shape, name in worst:
        print(f"{exponent:8.2f} {seconds * 1000:9.3f}  {shape:<20} {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1.0, help="MB of each big text")
    parser.add_argument("--top", type=int, default=10, help="slowest documents listed")
    parser.add_argument("--regex-chars", type=int, default=10_000)
    args = parser.parse_args(argv)
    corpus(int(args.size * MB), args.top)
    regexes(args.regex_chars)
    return 0


if __name__ == "__main__":
    sys.exit(main())
