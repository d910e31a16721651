"""Schema upgrades carry the data over: migration 0003 recomputes every stored LSH band."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select

from storage import dedup
from storage.db import Store, _alembic_config, make_engine, schema_revision
from storage.models import LshBand, Source, Update
from storage.stories import StoryProbe, story_matches

WHEN = datetime(2026, 1, 6, 19, 0, tzinfo=UTC)
BODY = (
    "Le président a reçu les chefs de parti à l'Élysée ce mardi soir pour une réunion "
    "consacrée à la réforme des retraites, sans annonce à la sortie."
)
TEXTS = [
    ("Réunion à l'Élysée", BODY),
    ("Les chefs de parti reçus", BODY + " Aucun accord n'a été trouvé."),  # the same news
    ("Météo", "Un épisode de neige est attendu sur le nord du pays jeudi matin."),
    ("", ""),
]


def _migration_0003(url: str) -> ModuleType:
    script = ScriptDirectory.from_config(_alembic_config(make_engine(url)))
    return script.get_revision("0003").module  # type: ignore[union-attr]


def _stored_bands(store: Store) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    with store.session() as session:
        for band, uid in session.execute(select(LshBand.band, LshBand.update_id)):
            out.setdefault(uid, set()).add(band)
    return out


def test_0003_recomputes_the_bands_of_every_stored_update(db_url: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(_alembic_config(engine), "0002")
    old_scheme = _migration_0003(db_url)._datasketch_bands
    with engine.begin() as conn:
        conn.execute(
            insert(Source.__table__),
            [
                {
                    "id": i,
                    "name": f"s{i}",
                    "url": f"https://x/{i}",
                    "kind": "auto",
                    "created_at": WHEN,
                    "polls": 0,
                    "had_posts": False,
                    "failures": 0,
                    "ended": False,
                    "gone": False,
                }
                for i in (1, 2)
            ],
        )
        for uid, (headline, body) in enumerate(TEXTS, start=1):
            conn.execute(
                insert(Update.__table__),
                {
                    "id": uid,
                    "source_id": 1 + uid % 2,
                    "url": None,
                    "headline": headline,
                    "body": body,
                    "published_at": WHEN + timedelta(minutes=uid),
                    "updated_at": None,
                    "first_seen_at": WHEN,
                    "last_seen_at": WHEN,
                    "revisions": 1,
                    "highlighted": False,
                    "content_hash": f"{uid:032d}",
                    "headline_hash": dedup.headline_hash(headline),
                },
            )
        old = old_scheme(TEXTS)
        rows = [{"band": b, "update_id": uid} for uid, bs in enumerate(old, 1) for b in bs]
        conn.execute(insert(LshBand.__table__), rows)
    engine.dispose()

    store = Store(db_url)  # upgrades to head
    try:
        assert schema_revision(store.engine)[0] == schema_revision(store.engine)[1]
        new = dedup.lsh_bands_many([dedup.tokens(h, b) for h, b in TEXTS])
        assert _stored_bands(store) == {uid: set(bs) for uid, bs in enumerate(new, 1) if bs}
        assert not set(new[0]) & set(old[0])  # the schemes never agree: recomputing was needed
        # The recomputed bands bring the same news up for a new update of another source.
        probe = StoryProbe(99, "Réunion des chefs de parti", BODY, WHEN, None)
        with store.session() as session:
            matches, _ = story_matches(session, 1, [probe])  # update 1 is of source 2
        assert matches[99].id == 1

        command.downgrade(_alembic_config(store.engine), "0002")
        assert _stored_bands(store) == {uid: set(bs) for uid, bs in enumerate(old, 1) if bs}
    finally:
        store.close()
