"""A PostgreSQL server for the benchmarks: `VIGIE_BENCH_PG_URL`, else a throwaway cluster.

The throwaway cluster is the test suite's (`tests/pgserver.py`: initdb + pg_ctl, run as
the `postgres` user when root, fsync off). Without PostgreSQL binaries, benchmarks that
want it report "not measured" instead of failing.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_counter = itertools.count()


@contextmanager
def postgres() -> Iterator[Callable[[], str] | None]:
    """Yields a function that creates a new empty database and returns its URL, or None."""
    url = os.environ.get("VIGIE_BENCH_PG_URL")
    server = None
    if not url:
        from tests.pgserver import PgServer, PgUnavailable

        try:
            server = PgServer()
            url = server.start()
        except PgUnavailable:
            yield None
            return
    try:
        yield lambda: _new_database(url)
    finally:
        if server is not None:
            server.stop()


def _new_database(server_url: str) -> str:
    import psycopg

    name = f"vigie_bench_{os.getpid()}_{next(_counter)}"
    dsn = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url.rpartition('/')[0]}/{name}"
