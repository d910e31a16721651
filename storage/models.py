"""The schema: sources with their crawl state, updates, their keys and revisions, stories.

Typed SQLAlchemy 2 ORM models. Every schema change also gets an Alembic migration in
`storage/migrations/versions/`. Times are stored in UTC and read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="auto")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # crawl state
    last_crawl_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_path: Mapped[str | None] = mapped_column(String(16))
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    had_posts: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its last page read linked to a next one: only then is pagination worth deciding on
    # (storage/known.py). No Python default: rows written before migration 0004 still fit.
    paginated: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # schedule state
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_interval: Mapped[float | None] = mapped_column(Float)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    backoff_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    # lease for several workers sharing one database
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the worker whose crawl was saved last (cluster mode: its [cluster] worker_name)
    last_worker: Mapped[str | None] = mapped_column(String(128))


class HttpValidator(Base):
    """ETag / Last-Modified of one URL of a source, as the server last sent them with a 200."""

    __tablename__ = "http_validators"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Story(Base):
    """The same news seen in several sources."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Update(Base):
    __tablename__ = "updates"
    __table_args__ = (
        Index("ix_updates_source_published", "source_id", "published_at"),
        Index("ix_updates_published", "published_at"),
        Index("ix_updates_headline_hash", "headline_hash"),
        Index("ix_updates_story", "story_id"),
        Index("ix_updates_first_seen", "first_seen_at", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    url: Mapped[str | None] = mapped_column(Text)
    headline: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revisions: Mapped[int] = mapped_column(Integer, default=1)
    highlighted: Mapped[bool] = mapped_column(Boolean, default=False)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    content_hash: Mapped[str] = mapped_column(String(32))
    headline_hash: Mapped[str | None] = mapped_column(String(32))


class UpdateKey(Base):
    """Every identity an update is known by in its source: publisher ids and content prints.

    The unique (source_id, key_hash) constraint is what makes concurrent writers safe.
    """

    __tablename__ = "update_keys"
    __table_args__ = (UniqueConstraint("source_id", "key_hash", name="uq_update_keys_source_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(Text)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), index=True)


class Revision(Base):
    """One version of an update's headline and body; number 1 is the first seen.

    The current version's text is the update's own: its revision row holds NULL headline
    and body (the text is stored once), and gets the text when an edit supersedes it."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("update_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    headline: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LshBand(Base):
    """MinHash LSH bands of an update's text, for near-duplicate lookups across sources.

    One b-tree keyed by (band, update id): on SQLite a table WITHOUT ROWID, so a band row
    is its index entry and nothing else (16 per update). A derived index: it has no foreign
    key (a cascade would scan it for every deleted update; vigie deletes none), and a row
    left by a deleted update is harmless, as every candidate is read back from `updates`
    and verified."""

    __tablename__ = "lsh_bands"
    __table_args__ = ({"sqlite_with_rowid": False},)

    band: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class CrawlRun(Base):
    """One crawl of one source: what happened and what it changed."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128))  # who crawled, with leases


class AlertEvent(Base):
    """The outbox: one event (a new or edited update, a source's health changing) that
    matched a watch, written in the transaction of the crawl it comes from. `key` is the
    idempotency key (watch, update, revision) every delivery of it carries; `message_id`
    is set once the sender has put it into a message (storage/alert_deliveries.py)."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch: Mapped[str] = mapped_column(String(64))
    # new | edited | highlighted (a stored update made a key moment) | failing | empty | gone |
    # recovered
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    revision: Mapped[int | None] = mapped_column(Integer)
    # Events of one batch go out as one message (a digest): the watch's digest window,
    # or one poll that matched too much (a first crawl, 40 posts at once). None: alone.
    batch: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str | None] = mapped_column(Text)  # a health event's error
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_messages.id", ondelete="SET NULL"), index=True
    )


class AlertMessage(Base):
    """One message of a watch, as rendered once (plain text, bounded), with its own
    idempotency key: the event's key, or the digest's."""

    __tablename__ = "alert_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the webhook's JSON body
    events: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertDelivery(Base):
    """A message to one channel: pending until the channel acknowledged it (sent) or
    the sender gave up (failed). `claimed_until` keeps two senders off one delivery."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "channel"),
        Index("ix_alert_deliveries_pending", "status", "channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("alert_messages.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))  # a stable id of the channel's URL
    label: Mapped[str] = mapped_column(Text)  # the channel with its secrets masked
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))  # a worker id (leases.py)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClusterWorker(Base):
    """A process of a cluster (or the one daemon), as it last said it was: every heartbeat
    rewrites its row. Live means a heartbeat within a few heartbeat intervals."""

    __tablename__ = "cluster_workers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # scheduler, worker, all, daemon
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_every: Mapped[float] = mapped_column(Float)  # seconds, to judge it live
    running: Mapped[int] = mapped_column(Integer, default=0)  # polls in flight
    polls: Mapped[int] = mapped_column(Integer, default=0)  # since it started
    errors: Mapped[int] = mapped_column(Integer, default=0)  # polls that ended in error
    active_scheduler: Mapped[bool] = mapped_column(Boolean, default=False)
    engine_id: Mapped[int | None] = mapped_column(BigInteger)  # procrastinate's worker id
    version: Mapped[str | None] = mapped_column(String(32))
