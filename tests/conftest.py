"""Shared fixtures: the newsroom fixture site, stores on SQLite and a real PostgreSQL,
config files for the CLI, the CLI itself run in a subprocess, and the reference data of
../shared.

PostgreSQL: `VIGIE_TEST_PG_URL` names a running server; otherwise a throwaway cluster is
started for the session. Without one, PostgreSQL tests skip with a one-line reason, except
under CI=true, where they fail. ../shared (outside the repository) is handled the same way
by `tests/shared.py`: the `realpages` and `real_seed` fixtures skip without it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.newsroom.server import Newsroom
from tests.pgserver import PgServer, PgUnavailable
from tests.shared import IN_CI, real_seed_path, realpages_dir

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    url = os.environ.get("VIGIE_TEST_PG_URL")
    if url:
        yield url
        return
    try:
        server = PgServer()
        url = server.start()
    except PgUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        yield url
    finally:
        server.stop()


def _fresh_pg_database(server_url: str) -> str:
    import psycopg

    name = f"vigie_test_{os.getpid()}_{next(_db_counter)}"
    dsn = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    """A new empty PostgreSQL database."""
    return _fresh_pg_database(pg_server_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigie.db'}"
    return _fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    from storage.db import Store

    s = Store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def realpages() -> Path:
    """../shared/realpages: real saved pages (the test skips without them, fails in CI)."""
    return realpages_dir()


@pytest.fixture(scope="session")
def real_seed() -> Path:
    """The real TF1info seed text in ../shared/seed (skips without it, fails in CI)."""
    return real_seed_path()


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    """The fixture site at its last step (all 22 posts, edited, ended)."""
    site = Newsroom()
    site.start()
    site.step = site.last_step
    try:
        yield site
    finally:
        site.stop()
