"""A headless Chromium for the browser tests: Debian's `chromium` driven by Playwright
(its Python package, without the browsers Playwright downloads: the system one is used).

Without Chromium or Playwright the browser tests skip with a one-line reason; under
CI=true (.ci/run installs both) their absence fails them instead. Nothing here runs at
import time: collection never depends on the browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.shared import IN_CI, ROOT

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")
ARGS = (
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SCREENS = ROOT / "docs" / "screens"  # the README shows them


def chromium_path() -> str | None:
    """The system Chromium: VIGIE_CHROMIUM, else the usual Debian paths, else on PATH."""
    named = os.environ.get("VIGIE_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    for path in CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run installs it)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (a Playwright Browser); skips without one."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    path = chromium_path()
    if path is None:
        unavailable("no Chromium found (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=path, args=list(ARGS))
        except Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no reason"
            unavailable(f"Chromium at {path} does not start: {first}")
        try:
            yield browser
        finally:
            browser.close()
