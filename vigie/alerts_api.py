"""The API's alerts: `GET /alerts` (the watches, channels masked, delivery state) and
`GET /alerts/{name}/history` (its messages, newest first, with their deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel

from storage.alert_history import history, watch_stats
from storage.db import Store
from vigie.alerts_view import history_messages, watch_names, watch_rows
from vigie.config import Config

MAX_HISTORY = 500


class AlertOut(BaseModel):
    name: str
    query: str | None
    sources: list[str] | None
    highlighted: bool
    on: list[str]
    digest: float | None  # seconds
    channels: list[str]  # masked: no secret
    messages: int
    last_sent_at: datetime | None
    pending: int
    failed: int
    last_error: str | None


class DeliveryOut(BaseModel):
    channel: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


class MessageOut(BaseModel):
    id: int
    watch: str
    key: str  # the idempotency key its deliveries carried (X-Vigie-Delivery)
    created_at: datetime
    title: str
    events: int
    deliveries: list[DeliveryOut]


class HistoryOut(BaseModel):
    watch: str
    messages: list[MessageOut]
    next_before: int | None  # pass as `before` for the older messages


def add_alert_routes(app: FastAPI, config: Config, db: Store) -> None:
    @app.get("/alerts", response_model=list[AlertOut])
    def alerts() -> list[dict[str, Any]]:
        """The watches of the config, with their channels (masked) and delivery state."""
        with db.read_session() as session:
            stats = watch_stats(session)
        return watch_rows(config, stats)

    @app.get("/alerts/{name}/history", response_model=HistoryOut)
    def alert_history(
        name: str,
        limit: Annotated[int, Query(ge=1, le=MAX_HISTORY)] = 50,
        before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    ) -> dict[str, Any]:
        """A watch's messages, newest first, each with its deliveries."""
        if name not in watch_names(config):
            raise HTTPException(404, "no watch of that name")
        with db.read_session() as session:
            rows = history(session, watch=name, limit=limit, before=before)
        messages = history_messages(rows)
        more = len(messages) == limit
        return {
            "watch": name,
            "messages": messages,
            "next_before": messages[-1]["id"] if messages and more else None,
        }
