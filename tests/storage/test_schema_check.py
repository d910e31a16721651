"""Opening a store checks its schema without Alembic when it is at the head revision, and
still upgrades every older one: the head read from the scripts' text is Alembic's head, and
any history it cannot read as one straight line sends the check to Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from storage import db
from storage.db import Store, _alembic_config, make_engine, schema_revision, stored_revision


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    script = ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://")))
    assert db.script_head() == script.get_current_head()


@pytest.mark.parametrize("revision", ["0001", "0004", "0006"])
def test_an_older_store_is_upgraded_when_opened(db_url: str, revision: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(_alembic_config(engine), revision)
    assert stored_revision(engine) == revision
    engine.dispose()
    store = Store(db_url)
    try:
        current, head = schema_revision(store.engine)
    finally:
        store.close()
    assert current == head == db.script_head()


def test_a_new_database_has_no_stored_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert stored_revision(engine) is None
    finally:
        engine.dispose()


def _scripts(folder: Path, scripts: dict[str, str]) -> None:
    versions = folder / "versions"
    versions.mkdir()
    for name, text in scripts.items():
        (versions / name).write_text(text, encoding="utf-8")


LINE = {
    "1.py": "revision = '0001'\ndown_revision = None\n",
    "2.py": 'revision: str = "0002"\ndown_revision: str | None = "0001"\n',
}


@pytest.mark.parametrize(
    ("scripts", "head"),
    [
        (LINE, "0002"),
        # a merge: two parents in a tuple
        (LINE | {"3.py": "revision = '0003'\ndown_revision = ('0001', '0002')\n"}, None),
        # two heads
        (LINE | {"3.py": "revision = '0003'\ndown_revision = '0001'\n"}, None),
        # a revision computed, not written out
        (LINE | {"3.py": "revision = make_id()\ndown_revision = '0002'\n"}, None),
        # no revision at all, or two of them
        (LINE | {"3.py": "down_revision = '0002'\n"}, None),
        (LINE | {"3.py": "revision = '0003'\nrevision = '0004'\ndown_revision = '0002'\n"}, None),
        # the same revision twice
        (LINE | {"3.py": "revision = '0002'\ndown_revision = '0001'\n"}, None),
        # nothing
        ({}, None),
    ],
)
def test_a_history_not_read_as_one_line_is_left_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripts: dict[str, str], head: str | None
) -> None:
    _scripts(tmp_path, scripts)
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)
    assert db.script_head.__wrapped__() == head
