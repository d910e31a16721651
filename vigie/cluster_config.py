"""`[cluster]` and `[metrics]`: the config of cluster mode and of the daemon's own listener.

`[cluster]` present means cluster mode (`vigie run --role scheduler|worker|all` over
PostgreSQL through the procrastinate engine, scheduler/cluster/); PostgreSQL-only is
checked by vigie/config.py once the storage URL is final ($VIGIE_STORAGE_URL may replace
it). `[metrics] listen`: where `vigie run` answers GET /health and /metrics; unset (the
default), it opens no socket.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.config_values import Duration

WORKER_NAME = r"^[A-Za-z0-9._:@-]{1,100}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterConfig(_Strict):
    """`[cluster]`: present, cluster mode (PostgreSQL only): `vigie run --role ...`."""

    batch: int = Field(1, ge=1, le=500)  # sources per engine job
    concurrency: int = Field(16, ge=1, le=256)  # jobs a worker runs at once
    heartbeat: Duration = 10.0
    stall_after: Duration = 30.0  # no heartbeat for this long: the worker is dead
    tick: Duration = 1.0  # how often the active scheduler looks for due sources
    worker_name: str | None = Field(None, pattern=WORKER_NAME)  # default host:pid

    @model_validator(mode="after")
    def _stall_after_heartbeats(self) -> ClusterConfig:
        if self.stall_after < 3 * self.heartbeat:
            raise ValueError(
                f"stall_after ({self.stall_after:g}s) must be at least 3 heartbeats "
                f"({3 * self.heartbeat:g}s): a busy worker would be taken for dead"
            )
        return self


class MetricsConfig(_Strict):
    """`[metrics]`: where `vigie run` answers GET /health and /metrics (unset: nowhere)."""

    listen: str | None = None  # "HOST:PORT"; None: the daemon opens no socket

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str | None) -> str | None:
        if listen is None:
            return None
        match = re.fullmatch(r"\[?([A-Za-z0-9.:_-]+?)\]?:(\d{1,5})", listen)
        if not match or not 1 <= int(match.group(2)) <= 65535:
            raise ValueError(f"not HOST:PORT: {listen[:60]!r} (e.g. 127.0.0.1:9464)")
        return listen

    @property
    def host_port(self) -> tuple[str, int]:
        assert self.listen is not None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)
