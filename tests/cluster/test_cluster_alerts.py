"""Alerts in cluster mode: the workers send them (each runs a sender, as the one daemon
does), every message reaches its channel, and two workers never send one delivery twice
(deliveries are claimed per sender). Real processes on a real PostgreSQL, a loopback
webhook receiver."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from storage.models import AlertDelivery, AlertMessage, Update
from tests.alerts.receiver import Receiver
from tests.cluster.harness import Cluster, newsroom, sources, wait_for
from tests.conftest import _fresh_pg_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SOURCES = 12


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_the_workers_send_the_alerts_each_message_once(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> None:
    site = newsroom()
    site.start()
    cluster = Cluster(
        _fresh_pg_database(pg_server_url),
        tmp_path_factory.mktemp("cluster-alerts"),
        sources(site, SOURCES, 0),
    )
    # One message per source's first crawl alone (no digest): many messages for two senders.
    watch = f'\n[[alerts]]\nname = "all"\nwebhook = "{receiver.url()}"\nfirst_crawl = "each"\n'
    try:
        for name, role in (("s1", "scheduler"), ("w1", "worker"), ("w2", "worker")):
            config = cluster.config(name)
            config.write_text(config.read_text(encoding="utf-8") + watch, encoding="utf-8")
            cluster.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "vigie", "--config", str(config), "run", "--role", role],
                stdout=subprocess.DEVNULL,
                stderr=(cluster.folder / f"{name}.log").open("wb"),
                cwd=str(cluster.folder),
            )

        def counts() -> tuple[int, int, int]:
            with cluster.store.read_session() as s:
                updates = s.scalar(select(func.count()).select_from(Update)) or 0
                messages = s.scalar(select(func.count()).select_from(AlertMessage)) or 0
                sent = s.scalar(
                    select(func.count())
                    .select_from(AlertDelivery)
                    .where(AlertDelivery.status == "sent")
                )
            return updates, messages, sent or 0

        def all_sent() -> bool:
            updates, messages, sent = counts()
            return updates >= SOURCES and messages >= updates and sent == messages

        wait_for("every message sent", all_sent, timeout=180, every=1)
        with cluster.store.read_session() as s:
            keys = set(s.scalars(select(AlertMessage.key)))
        received = [r.key for r in receiver.at("/hook")]
        assert set(received) == keys
        assert len(received) == len(keys), "a delivery was sent twice"
    finally:
        codes = cluster.stop_all()
        cluster.store.close()
        site.stop()
        for name, code in codes.items():
            print(name, code, cluster.log(name)[-1500:])
