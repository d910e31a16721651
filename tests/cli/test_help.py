"""The README's command list against the real CLI, in subprocesses: every command listed
exists and answers `--help` (exit 0), every command of the CLI is listed, each command's
options and arguments are the ones its README line shows (and the global options those of
the `vigie` lines), and the choices a README line gives (`--format table|json`) are the
ones the CLI accepts, read from its refusal of a bad value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.db import Store
from tests.helpers import write_config

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
GLOBAL = "vigie"  # the key of the README's `vigie ...` lines: the options before COMMAND
# "[the filters of updates]" on export's line: the options of updates' line but these.
NOT_FILTERS = {"--order", "--cursor", "--limit", "--format"}
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
CHOICES = re.compile(r"(--[a-z][a-z-]*)[ =]([a-z]+(?:\|[a-z]+)+)")
# How the CLI names what it accepts when it refuses a value: "choose one of a, b, c",
# "choose a or b", "(use a, b, c)", "(use a or b)".
ACCEPTED = re.compile(r"(?:choose(?: one of)?|\(use) ([a-z]+(?:(?:, | or )[a-z]+)*)")


@dataclass
class Line:
    """One command of the README's list: its syntax (the description left out)."""

    syntax: str = ""
    options: set[str] = field(default_factory=set)
    arguments: list[str] = field(default_factory=list)
    choices: dict[str, set[str]] = field(default_factory=dict)


def readme_commands() -> dict[str, Line]:
    """The README's "Command line" block by command (GLOBAL for the `vigie` lines). A line
    is `  NAME SYNTAX  description`; an indented line goes on with the syntax of the one
    above, or with its description when indented as far as descriptions are."""
    section = README.read_text(encoding="utf-8").split("\n## Command line\n", 1)[1]
    block = section.split("```", 2)[1]
    lines: dict[str, Line] = {}
    current, column = "", 0
    for text in block.splitlines():
        if not text.strip():
            continue
        if text.startswith(f"{GLOBAL} "):
            current, syntax = GLOBAL, text.removeprefix(f"{GLOBAL} ")
        elif m := re.match(r"  ([a-z]+)\b(.*)", text):
            current, syntax = m[1], m[2]
            if described := re.search(r" {2,}(?=\S)", syntax):
                column = len(m[1]) + 2 + described.end()
        else:
            indent = len(text) - len(text.lstrip())
            assert current, f"README: a command line must come first: {text!r}"
            if column and indent >= column:
                continue  # the description, on a line of its own
            syntax = text.strip()
        syntax = re.split(r" {2,}", syntax, maxsplit=1)[0]  # the description left out
        lines.setdefault(current, Line()).syntax += " " + syntax.strip()
    for line in lines.values():
        line.options = set(OPTION.findall(line.syntax))
        line.choices = {opt: set(values.split("|")) for opt, values in CHOICES.findall(line.syntax)}
        outside = re.sub(r"\[[^\]]*\]", " ", line.syntax)
        line.arguments = re.findall(r"\b[A-Z]+(?:\.\.\.)?", outside.replace("COMMAND", ""))
    if "the filters of updates" in lines["export"].syntax:
        lines["export"].options |= lines["updates"].options - NOT_FILTERS
    return lines


def vigie(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI, wide enough that no help line is wrapped."""
    env = os.environ | {"COLUMNS": "250", "TERMINAL_WIDTH": "250", "NO_COLOR": "1"}
    given = ("--config", str(config)) if config else ()
    return subprocess.run(
        [sys.executable, "-m", "vigie", *given, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=str(config.parent if config else README.parent),
    )


@pytest.fixture(scope="module")
def readme() -> dict[str, Line]:
    lines = readme_commands()
    assert GLOBAL in lines and len(lines) > 5, "README: the command list was not found"
    return lines


@pytest.fixture(scope="module")
def helps(readme: dict[str, Line]) -> dict[str, subprocess.CompletedProcess[str]]:
    """`vigie --help` (key GLOBAL) and `vigie COMMAND --help` of every README command."""
    commands = [c for c in readme if c != GLOBAL]
    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = pool.map(lambda c: vigie(c, "--help"), commands)
        top = pool.submit(vigie, "--help")
        return dict(zip(commands, procs, strict=True)) | {GLOBAL: top.result()}


def cli_commands(top_help: str) -> set[str]:
    """The commands `vigie --help` lists (the rows of its Commands panel)."""
    listed = top_help.split("Commands", 1)[1]
    return set(re.findall(r"^\W*([a-z]+) {2,}\S", listed, flags=re.M))


def usage_arguments(help_text: str) -> list[str]:
    """The arguments of a help's usage line: `Usage: vigie crawl [OPTIONS] {NAME}...`."""
    usage = re.search(r"Usage: (?:python -m )?vigie(?: [a-z]+)? \[OPTIONS\](.*)", help_text)
    assert usage, help_text
    words = [a for a in usage[1].split() if a != "COMMAND" and not a.startswith("[")]
    return [a.replace("{", "").replace("}", "") for a in words]


def test_every_readme_command_answers_help(
    readme: dict[str, Line], helps: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    for command, proc in helps.items():
        assert proc.returncode == 0, f"vigie {command} --help: {proc.stderr}"
        assert "Usage:" in proc.stdout and "Traceback" not in proc.stderr
    assert set(helps) == set(readme)


def test_every_command_of_the_cli_is_in_the_readme(
    readme: dict[str, Line], helps: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    listed = cli_commands(helps[GLOBAL].stdout)
    assert listed == set(readme) - {GLOBAL}, "README command list and `vigie --help` disagree"


def test_each_command_has_the_options_and_arguments_of_its_readme_line(
    readme: dict[str, Line], helps: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    for command, line in readme.items():
        text = helps[command].stdout
        panel = text.split("Options", 1)[1].split("Commands", 1)[0]  # not the commands'
        in_help = set(OPTION.findall(panel)) - {"--help"}
        assert line.options <= in_help, f"{command}: in the README, not in --help"
        assert in_help <= line.options, f"{command}: in --help, not in the README"
        assert usage_arguments(text) == line.arguments, f"{command}: arguments differ"


def test_the_readme_choices_are_the_ones_the_cli_accepts(
    readme: dict[str, Line], tmp_path: Path
) -> None:
    """Each option given as `--opt a|b`: a bad value is refused (exit 2) naming the values
    accepted, and those are the README's. Every check comes before any fetch: the probe's
    URL is never requested."""
    config = write_config(tmp_path / "config.toml", [], storage_url="sqlite:///vigie.db")
    Store("sqlite:///" + str(tmp_path / "vigie.db"), create=True).close()
    # The arguments the command needs; the probe's is a closed port, should it be fetched.
    needs = {"show": ["1"], "probe": ["http://127.0.0.1:9/"]}
    cases = [
        (command, option, values)
        for command, line in readme.items()
        for option, values in line.choices.items()
    ]
    assert len(cases) >= 6, cases

    def refused(command: str, option: str) -> subprocess.CompletedProcess[str]:
        if command == GLOBAL:
            return vigie(option, "bogus", "sources", config=config)
        return vigie(command, *needs.get(command, []), option, "bogus", config=config)

    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = list(pool.map(lambda case: refused(case[0], case[1]), cases))
    for (command, option, values), proc in zip(cases, procs, strict=True):
        message = " ".join(proc.stderr.split())
        assert proc.returncode == 2, f"{command} {option} bogus: {proc.stderr}"
        found = ACCEPTED.search(message)
        assert found, f"{command} {option}: no list of accepted values in {message!r}"
        accepted = set(re.split(r", | or ", found[1]))
        assert accepted == values, f"{command} {option}: README {values}, CLI {accepted}"
