"""What the alerts part of the scheduler is given by the config: the watches (as the
store matches them), each watch's channels, how deliveries are retried, and the zone of
each source for the times of its messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from storage.alert_match import Watches


@dataclass(frozen=True, slots=True)
class Channel:
    """Where a watch's messages go: an apprise URL, or a webhook (JSON POST, signed
    with `secret` when it has one). `label` is the URL with its secrets masked: the only
    form of it that is ever printed or stored."""

    kind: Literal["apprise", "webhook"]
    url: str = field(repr=False)
    label: str
    secret: str | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        """A stable name of the channel in the store, that does not reveal its URL."""
        digest = hashlib.sha256(f"{self.kind}\0{self.url}".encode()).hexdigest()
        return f"{self.kind}:{digest[:16]}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the sender delivers: per attempt `timeout`; retries from `retry_min`,
    doubling up to `retry_max`; given up `give_up_after` the message was made."""

    timeout: float = 10.0
    retry_min: float = 5.0
    retry_max: float = 600.0
    give_up_after: float = 86400.0
    every: float = 0.5  # seconds between looks at the outbox


@dataclass(frozen=True, slots=True)
class AlertSetup:
    watches: Watches = field(default_factory=Watches)
    channels: dict[str, tuple[Channel, ...]] = field(default_factory=dict)
    delivery: Delivery = field(default_factory=Delivery)
    zones: dict[str, str] = field(default_factory=dict)  # source -> IANA zone, when set
    link_base: str | None = None  # vigie's own pages, when served: {link_base}/updates/ID

    @property
    def empty(self) -> bool:
        return self.watches.empty

    def windows(self) -> dict[str, float]:
        return {w.name: w.digest for w in self.watches.updates if w.digest is not None}

    def all_channels(self) -> dict[str, Channel]:
        return {c.id: c for chans in self.channels.values() for c in chans}
