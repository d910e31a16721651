"""vigie: the shell around the crawler, the scheduler and the store (config, CLI, API)."""

from __future__ import annotations

from functools import cache


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata when asked for (importlib.metadata
    # costs a command line tens of milliseconds it does not need).
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vigie")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
