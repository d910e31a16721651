"""vigie: the shell around the crawler, the scheduler and the store (config, CLI, API)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vigie")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "unknown"
