"""Engines and sessions from a storage URL, SQLite pragmas, and schema upgrades on start.

SQLite runs in WAL mode with a busy timeout so readers (`vigie updates`) never block or
corrupt the daemon's writes. The schema is owned by Alembic: `Store` upgrades an older
database to the current revision before anything else touches it; a database already at
the head revision (the usual case) is told by one query, without loading Alembic (which
costs a command line a good part of its start-up). Only a store opened
with `create=True` (the commands that crawl) may create a SQLite database; for the others a
missing file is an error naming its path, and nothing is created (no folder, no -wal).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger("vigie.storage")

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_WAL_AUTOCHECKPOINT = 10_000  # pages
SQLITE_CACHE_KIB = 16_384  # page cache per connection
READ_ONLY = "vigie_read_only"  # execution option of read-only sessions


class StoreError(Exception):
    """The database cannot be reached or used."""


class MissingDatabase(StoreError):
    """A SQLite database file that does not exist, for a store that may not create it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"store: no database at {path} (`vigie run` or `vigie crawl` creates it; "
            "check storage.url if it should exist)"
        )


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory ones."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # a URI filename (?uri=true)
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A checkpoint every 1,000 WAL pages (SQLite's default) came after nearly every crawl:
    # a crawl of 100 new posts dirties ~1,000 pages (16 LSH bands per post land on random
    # index pages), and each checkpoint copies them back and syncs twice. Every 10,000
    # pages (~40 MB of WAL), a page written by several crawls is copied once.
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT}")
    cursor.execute("PRAGMA temp_store=MEMORY")  # the IN lists of band lookups
    # Room for a crawl's dirty pages (SQLite's 2 MB default spilled them to the WAL before
    # the commit, and wrote them twice) and the hot part of the band index.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _sqlite_no_autobegin(dbapi_conn: object, _record: object) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's implicit one.
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]


def _sqlite_begin(conn: object) -> None:
    # Take the write lock at the start of every transaction: two writers never deadlock on a
    # read-to-write lock upgrade, they queue on the busy timeout instead. Read-only sessions
    # (Store.read_session) take no lock: WAL gives them a snapshot while writers go on.
    if conn.get_execution_options().get(READ_ONLY):  # type: ignore[attr-defined]
        conn.exec_driver_sql("BEGIN DEFERRED")  # type: ignore[attr-defined]
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite gets WAL, a busy timeout and its folder made."""
    if url.startswith("sqlite"):
        db_path = sqlite_path(url)
        if db_path is not None:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_no_autobegin)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, the code's head revision)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head or ""


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the head revision; safe when several processes start at once."""
    head = script_head()
    if head is not None and stored_revision(engine) == head:
        return
    from alembic import command

    current, head = schema_revision(engine)
    if current == head:
        return
    log.info("store: upgrading schema %s -> %s", current or "(empty)", head)
    cfg = _alembic_config(engine)
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(726173)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            return
        except (OperationalError, SQLAlchemyError):
            # Another process may have upgraded in between: done if it is at head now.
            if schema_revision(engine)[0] == head:
                return
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


_ASSIGNED = r"""^{name}\b[^=\n]*=\s*(None|'[\w-]+'|"[\w-]+")\s*$"""  # x = "0007" or None


def _assigned(name: str, source: str) -> list[str | None]:
    found = re.findall(_ASSIGNED.format(name=name), source, re.M)
    return [None if value == "None" else value[1:-1] for value in found]


@cache
def script_head() -> str | None:
    """The head revision of the migration scripts, read from their text (importing them
    is Alembic's job, and slow); None when they do not read as one straight line of
    revisions (a merge, a file not in the usual form): the caller then asks Alembic."""
    revisions: dict[str, str | None] = {}
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _assigned("revision", source), _assigned("down_revision", source)
        if len(revision) != 1 or len(down) != 1 or revision[0] is None or revision[0] in revisions:
            return None
        revisions[revision[0]] = down[0]
    heads = set(revisions) - set(revisions.values())
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision the database says it is at (Alembic's version table), None when it has
    none or more than one. Read without a write lock: a reader does not queue behind the
    daemon's writes to learn it."""
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no version table yet: a new database
        return None
    return rows[0][0] if len(rows) == 1 else None


class Store:
    """An engine and its session factory, schema checked.

    `create`: a SQLite database that does not exist yet is created (logged once); without
    it, a missing file raises MissingDatabase and nothing is written to the disk.
    """

    def __init__(self, url: str, *, upgrade: bool = True, create: bool = True) -> None:
        self.url = url
        try:
            path = sqlite_path(url)
        except Exception as exc:  # not a URL SQLAlchemy can read
            raise StoreError(f"store: cannot open {safe_url(url)}: {exc}") from exc
        created = path is not None and not path.exists()
        if created and not create:
            raise MissingDatabase(path.resolve())  # type: ignore[union-attr]
        try:
            self.engine = make_engine(url)
            if upgrade:
                upgrade_schema(self.engine)
            else:
                with self.engine.connect():
                    pass
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"store: cannot open {safe_url(url)}: {exc}") from exc
        if created:
            log.info("store: created database at %s", path.resolve())  # type: ignore[union-attr]
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed at the end, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for queries only; its transaction is rolled back when it closes.

        It never holds up the daemon's writes however long it reads (a big export, an API
        server): on SQLite its transaction takes no write lock; on PostgreSQL it is READ ONLY.
        """
        with self.read_sessions() as session:
            if self.dialect == "postgresql":
                session.execute(text("SET TRANSACTION READ ONLY"))
            yield session

    def close(self) -> None:
        self.engine.dispose()


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
