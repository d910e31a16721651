"""The reference data kept outside the repository, in ../shared beside the checkout (the real
TF1info seed, real saved pages: publishers' content), and what a test does without it.

A user's clone has no ../shared: the tests that read it skip with a one-line reason. The CI
runner has it beside the checkout, so under CI=true its absence fails those tests instead,
unless VIGIE_NO_SHARED=1 says the absence is intended (.ci/run's run in a bare copy).
Nothing here reads the folder at import time: collection never depends on it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REAL_SEED = ("seed", "tf1info-live-ukraine-2026-01-06.txt")


def find_shared(*parts: str) -> Path | None:
    """The path under ../shared, or None when it is not there."""
    path = SHARED.joinpath(*parts)
    return path if path.exists() else None


def missing_reason(*parts: str) -> str:
    """The one-line reason given when ../shared/<parts> is absent."""
    what = "real pages are" if parts[0] == "realpages" else "the real seed is"
    return f"../shared/{'/'.join(parts)} not found: {what} outside the repository"


def require_shared(*parts: str) -> Path:
    """The path under ../shared; else skip the test (fail it under CI=true, where the folder
    must be present, unless VIGIE_NO_SHARED=1)."""
    path = find_shared(*parts)
    if path is not None:
        return path
    reason = missing_reason(*parts)
    if IN_CI and os.environ.get("VIGIE_NO_SHARED") != "1":
        pytest.fail(f"{reason} (CI=true: CI has ../shared beside the checkout)")
    pytest.skip(reason)


def realpages_dir() -> Path:
    """../shared/realpages (skips or fails as `require_shared`)."""
    return require_shared("realpages")


def real_seed_path() -> Path:
    """The real TF1info seed text in ../shared/seed (skips or fails as `require_shared`)."""
    return require_shared(*REAL_SEED)
