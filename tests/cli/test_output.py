"""People-facing output: tables and `show` print untrusted text as text (no escape sequence
obeyed, no markup read), by classes of hostile input; JSON and CSV stay the data; tables
keep URLs whole when piped, name their time zone, show lists as lists and an empty
headline as the start of the body."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.hostile import HOSTILE, RAW_CONTROLS
from vigie.diff import word_diff, word_diff_text
from vigie.output import dumps, when, write_rows, write_table, write_update
from vigie.terminal import safe

WHEN = datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
URL = "https://news.example/live/2026/01/06/" + "a-very-long-path-segment-" * 8 + "#post-42"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def update_row(**fields: Any) -> dict[str, Any]:
    row = {
        "id": 7,
        "source": "alpha",
        "url": URL,
        "headline": "Headline",
        "body": "Body text.",
        "published_at": WHEN,
        "updated_at": None,
        "first_seen_at": WHEN,
        "last_seen_at": WHEN,
        "revisions": 1,
        "highlighted": False,
        "story": None,
    }
    return row | fields


def table(rows: list[dict[str, Any]], columns: tuple[str, ...], *, tty: bool = False) -> str:
    out = Terminal() if tty else io.StringIO()
    write_table(rows, columns, out=out)
    return out.getvalue()


def show(row: dict[str, Any]) -> str:
    out = io.StringIO()
    write_update(row | {"history": row.get("history", []), "sightings": []}, out=out)
    return out.getvalue()


_RICH_STYLE = re.compile(r"\x1b\[[0-9;]*m")  # the SGR sequences rich writes itself on a tty


def assert_inert(text: str, source: str | None = None) -> None:
    """No raw control in `text` but rich's own styles; `source`'s ESCs shown as ␛."""
    bare = _RICH_STYLE.sub("", text)
    for char in RAW_CONTROLS:
        assert char not in bare, f"{char!r} reached the output"
    if source is not None and "\x1b" in source:
        assert "␛" in bare


@pytest.mark.parametrize("name", list(HOSTILE))
def test_safe_keeps_newlines_and_tabs_and_shows_every_other_control(name: str) -> None:
    text = HOSTILE[name]
    shown = safe(text + "\n\tend")
    assert_inert(shown)
    assert shown.endswith("\n\tend")
    assert "\n" not in safe(text + "\n", newlines=False)


def test_safe_shows_controls_visibly() -> None:
    assert safe("a\x1b[2Jb") == "a␛[2Jb"
    assert safe("x\ry") == "x␍y"
    assert safe("abc\u202edcba") == "abc<U+202E>dcba"
    assert safe("\x9b") == "<U+009B>"
    assert safe("\ud800") == "<U+D800>"
    assert safe("plain ascii, é, 日本, 👍🏽") == "plain ascii, é, 日本, 👍🏽"


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("column", ["headline", "last_error", "url"])
@pytest.mark.parametrize("tty", [False, True])
def test_a_table_prints_hostile_text_as_text(name: str, column: str, tty: bool) -> None:
    text = HOSTILE[name]
    printed = table([update_row(**{column: text})], ("id", column), tty=tty)
    assert_inert(printed, text)
    if name.startswith("markup"):
        assert text[:8] in printed  # the tag itself is there, as text
    if name == "emoji code":
        assert ":thumbs_up:" in printed


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("part", ["headline", "body", "url", "source"])
def test_show_prints_hostile_text_as_text(name: str, part: str) -> None:
    text = HOSTILE[name]
    printed = show(update_row(**{part: text}))
    assert_inert(printed, text)
    if name.startswith("markup"):
        assert text in printed
    if name == "emoji code":
        assert ":thumbs_up:" in printed


@pytest.mark.parametrize("name", list(HOSTILE))
def test_revision_diffs_print_hostile_text_as_text(name: str) -> None:
    text = HOSTILE[name]
    history = [
        {"number": 1, "headline": "old", "body": "old body", "updated_at": None, "seen_at": WHEN},
        {"number": 2, "headline": text, "body": f"new {text}", "updated_at": None, "seen_at": WHEN},
    ]
    printed = show(update_row(headline=text, revisions=2, history=history))
    assert_inert(printed, text)
    assert "revision 2" in printed
    if name.startswith("markup"):
        assert f"{{+{text}" in printed or text in printed


def test_word_diff_marks_and_text_agree() -> None:
    old, new = "Macron reçoit [Zelensky]", "Macron reçoit [/bold] Zelensky"
    assert word_diff(old, new) == "Macron reçoit [-[Zelensky]-]{+[/bold] Zelensky+}"
    assert word_diff_text(old, new).plain == word_diff(old, new)


def test_piped_tables_keep_urls_whole_and_tty_tables_fold_them() -> None:
    piped = table([update_row()], ("id", "url", "headline"))
    assert URL in piped  # one line, not folded nor cut
    on_tty = table([update_row()], ("id", "url", "headline"), tty=True)
    assert URL not in on_tty and URL[:20] in on_tty  # folded at the terminal's width
    assert "".join(line.strip("│ ") for line in on_tty.splitlines()).count("#post-42") == 1


def test_tables_name_the_time_zone_and_print_lists_as_lists() -> None:
    printed = table([update_row(sources=["beta", "gamma"])], ("published_at", "sources"))
    assert when(WHEN) in printed
    assert when(WHEN).rsplit(" ", 1)[1] == WHEN.astimezone().tzname()
    assert "beta, gamma" in printed and "['beta'" not in printed


def test_time_zone_is_named_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert when(WHEN) == "2026-01-06 19:08 UTC"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_an_empty_headline_shows_the_start_of_the_body() -> None:
    row = update_row(headline="", body="Closing words of the live blog, with no headline at all.")
    printed = table([row], ("id", "headline"))
    assert "Closing words of the live blog" in printed
    assert "(no headline)" in show(row)


def test_sources_table_prints_intervals_in_seconds() -> None:
    printed = table([{"name": "alpha", "interval": 120.0}], ("name", "interval"))
    assert "120s" in printed


@pytest.mark.parametrize("name", list(HOSTILE))
def test_json_and_jsonl_are_the_data_and_print_no_raw_control(name: str) -> None:
    row = update_row(headline=HOSTILE[name], body=HOSTILE[name])
    for fmt in ("json", "jsonl"):
        out = io.StringIO()
        write_rows([row], fmt, columns=tuple(row), out=out)
        assert_inert(out.getvalue())
        back = json.loads(out.getvalue()) if fmt == "json" else [json.loads(out.getvalue())]
        assert back[0]["headline"] == HOSTILE[name]
    assert json.loads(dumps({"x": "\ud800"})) == {"x": "\ud800"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_csv_is_the_data_piped_and_made_visible_on_a_terminal(name: str) -> None:
    text = HOSTILE[name]
    row = update_row(headline=text)
    piped = io.StringIO(newline="")
    write_rows([row], "csv", columns=tuple(row), out=piped)
    back = list(csv.DictReader(io.StringIO(piped.getvalue(), newline="")))
    assert back[0]["headline"] == text
    shown = Terminal()
    write_rows([row], "csv", columns=tuple(row), out=shown)
    assert_inert(shown.getvalue().replace("\r\n", "\n"))
