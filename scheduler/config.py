"""What the scheduler reads of the configuration: Protocols that vigie's validated config
(vigie/config.py) satisfies. The scheduler is handed its config, and a new one on reload,
and never imports the shell."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from crawler.models import SourceSpec
from crawler.settings import CrawlSettings
from scheduler.alerts.setup import AlertSetup


class SourceSettings(Protocol):
    """One `[[sources]]` entry."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def interval(self) -> float | None: ...  # seconds; None: the default


class ScheduleSettings(Protocol):
    """`[scheduler]`."""

    @property
    def jitter(self) -> float: ...  # a fraction of the interval, either way
    @property
    def max_backoff(self) -> float: ...  # seconds
    @property
    def full_every(self) -> int: ...  # every this many polls, a crawl follows every page


class PollSettings(Protocol):
    """What polling a source reads."""

    @property
    def sources(self) -> Sequence[SourceSettings]: ...
    @property
    def scheduler(self) -> ScheduleSettings: ...
    @property
    def crawler(self) -> CrawlSettings: ...
    def interval_of(self, source: SourceSettings, /) -> float: ...
    def spec(self, source: SourceSettings, /) -> SourceSpec: ...
    def alert_setup(self) -> AlertSetup | None: ...  # the watches; None: none


class StoreSettings(Protocol):
    """`[storage]`, as far as the scheduler reads it."""

    @property
    def keep_crawl_runs(self) -> float: ...  # seconds a poll's record is kept


class DaemonSettings(PollSettings, Protocol):
    """What the daemon reads besides: the file it came from, to read again on SIGHUP."""

    @property
    def storage(self) -> StoreSettings: ...

    @property
    def path(self) -> Path | None: ...
    def enabled_sources(self) -> Sequence[SourceSettings]: ...
    def source(self, name: str, /) -> SourceSettings: ...  # KeyError when it has none
    def reloaded(self, path: Path | None, /) -> DaemonSettings:
        """The file read again, keeping what needs a restart; raises, saying why, when
        the file cannot be used."""
        ...
