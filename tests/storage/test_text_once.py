"""Each text is stored once (migration 0008): the current version's revision row holds no
text of its own, a superseded one keeps its text, and every reader of the history sees
each version's text, on both databases and across the upgrade and downgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select

from crawler.models import CrawlResult, RawPost
from storage.crawls import save_crawl
from storage.db import Store, _alembic_config, schema_revision
from storage.models import LshBand, Revision, Update
from storage.queries import get_update
from storage.sources import ensure_sources

WHEN = datetime(2026, 1, 6, 19, 0, tzinfo=UTC)
VERSIONS = [
    ("Frappe sur Kharkiv", "Une frappe de drones a touché un quartier résidentiel."),
    ("Frappe sur Kharkiv", "Une frappe de drones a touché un quartier résidentiel : 3 blessés."),
    ("Frappe meurtrière sur Kharkiv", "Le bilan s'alourdit : un mort et 3 blessés."),
]
OTHER = ("Sommet à Paris", "Les dirigeants européens sont réunis à l'Élysée ce mardi.")


def _post(i: int, headline: str, body: str) -> RawPost:
    return RawPost(
        headline=headline,
        body=body,
        published_at=WHEN + timedelta(minutes=i),
        key=f"https://x/live#post-{i}",
    )


def _crawl(store: Store, source_id: int, posts: list[RawPost]) -> None:
    with store.session() as session:
        save_crawl(session, source_id, CrawlResult("s", "https://x/live", posts=posts))


def _fill(store: Store) -> int:
    with store.session() as session:
        source_id = ensure_sources(session, [("s", "https://x/live", "liveblog")])["s"]
    for headline, body in VERSIONS:
        _crawl(store, source_id, [_post(1, headline, body), _post(2, *OTHER)])
    return source_id


def _histories(store: Store) -> dict[int, list[tuple[int, str, str]]]:
    with store.session() as session:
        ids = list(session.execute(select(Update.id).order_by(Update.id)).scalars())
        return {
            uid: [
                (r["number"], r["headline"], r["body"]) for r in get_update(session, uid)["history"]
            ]  # type: ignore[index]
            for uid in ids
        }


def _stored_texts(store: Store) -> list[tuple[int, str | None, str | None]]:
    with store.session() as session:
        return [
            (r.number, r.headline, r.body)
            for r in session.execute(
                select(Revision).order_by(Revision.update_id, Revision.number)
            ).scalars()
        ]


def _bands(store: Store) -> set[tuple[int, int]]:
    with store.session() as session:
        return set(session.execute(select(LshBand.band, LshBand.update_id)).all())


EXPECTED = {
    1: [(n, h, b) for n, (h, b) in enumerate(VERSIONS, start=1)],
    2: [(1, *OTHER)],
}


def test_each_version_is_read_back_and_stored_once(store: Store) -> None:
    _fill(store)
    assert _histories(store) == EXPECTED
    # Superseded versions keep their text; the current ones hold none (it is the update's).
    assert _stored_texts(store) == [
        (1, *VERSIONS[0]),
        (2, *VERSIONS[1]),
        (3, None, None),
        (1, None, None),
    ]


def test_a_stale_copy_of_an_older_version_is_still_no_edit(store: Store) -> None:
    source_id = _fill(store)
    _crawl(store, source_id, [_post(1, *VERSIONS[1]), _post(2, *OTHER)])
    assert _histories(store) == EXPECTED


def test_the_upgrade_and_downgrade_keep_every_text_and_band(store: Store) -> None:
    _fill(store)
    bands = _bands(store)
    assert len(bands) == 32  # 16 per update
    config: Any = _alembic_config(store.engine)

    command.downgrade(config, "0007")
    assert schema_revision(store.engine)[0] == "0007"
    every = [(n, h, b) for uid in (1, 2) for n, h, b in EXPECTED[uid]]
    assert _stored_texts(store) == every  # each revision row holds its text again
    with store.engine.connect() as conn:
        old = set(conn.exec_driver_sql("SELECT band, update_id FROM lsh_bands").all())
    assert old == bands

    command.upgrade(config, "head")
    assert _histories(store) == EXPECTED
    assert _stored_texts(store) == [
        (1, *VERSIONS[0]),
        (2, *VERSIONS[1]),
        (3, None, None),
        (1, None, None),
    ]
    assert _bands(store) == bands
