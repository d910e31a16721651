"""Config loading: every key of the contract, durations, sizes, paths, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.config import ConfigError, load_config
from vigie.config_values import parse_duration, parse_percent, parse_size

ROOT = Path(__file__).resolve().parents[2]

FULL = """
[storage]
url = "sqlite:///data/vigie.db"

[crawler]
user_agent = "vigie-test/1"
timeout = "20s"
max_page_size = "8MB"
obey_robots = false
concurrency = 4

[scheduler]
default_interval = "2m"
jitter = "10%"

[[sources]]
name = "tf1-ukraine"
url = "https://www.tf1info.fr/international/direct-ukraine"
kind = "liveblog"
interval = "1m"
timezone = "Europe/Paris"
language = "fr"
enabled = true

[sources.selectors]
post = "div.minute-par-minute div.entry"
headline = ".entry-title"
published = ".entry-when"
body = ".entry-text"
id = "@id"

[[sources]]
name = "lemonde"
url = "https://www.lemonde.fr/rss/en_continu.xml"
kind = "feed"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (30, 30),
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("250ms", 0.25),
        ("2", 2),
        (1.5, 1.5),
        ("1d", 86400),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5 minutes", "m5", "", "-3s", 0, True, "1x"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "size"),
    [("8MB", 8 * 1024**2), ("512KB", 512 * 1024), (1000, 1000), ("1.5MB", 1572864)],
)
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


def test_percent() -> None:
    assert parse_percent("10%") == pytest.approx(0.1)
    assert parse_percent(0.25) == 0.25
    with pytest.raises(ValueError):
        parse_percent("150%")


def test_full_config_reads_every_key(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, FULL))
    assert cfg.storage.url == f"sqlite:///{(tmp_path / 'data' / 'vigie.db').resolve()}"
    assert cfg.crawler.timeout == 20 and cfg.crawler.max_page_size == 8 * 1024**2
    assert cfg.crawler.obey_robots is False and cfg.crawler.concurrency == 4
    assert cfg.scheduler.default_interval == 120 and cfg.scheduler.jitter == pytest.approx(0.1)
    tf1, lemonde = cfg.sources
    assert cfg.interval_of(tf1) == 60 and cfg.interval_of(lemonde) == 120
    spec = cfg.spec(tf1)
    assert spec.timezone == "Europe/Paris" and spec.selectors is not None
    assert spec.selectors.post == "div.minute-par-minute div.entry" and spec.selectors.id == "@id"
    assert lemonde.kind == "feed" and lemonde.enabled


def test_vigie_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, FULL, "other.toml")
    monkeypatch.setenv("VIGIE_CONFIG", str(path))
    assert load_config().path == path


def test_repository_default_config_is_valid() -> None:
    cfg = load_config(ROOT / "config.toml")
    assert cfg.enabled_sources(), "the default config must watch something"
    assert cfg.storage.url == f"sqlite:///{(ROOT / 'vigie.db').resolve()}"


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (("concurrency = 4", "concurrency = 4\nspeed = 3"), "crawler.speed", "unknown key"),
        (("concurrency = 4", 'concurrency = "many"'), "crawler.concurrency", "integer"),
        (('interval = "1m"', 'interval = "1 minute"'), "sources[0].interval", "invalid duration"),
        (('name = "lemonde"', 'name = "tf1-ukraine"'), "sources[1].name", "duplicate"),
        (
            ('url = "https://www.lemonde.fr/rss/en_continu.xml"', 'url = "lemonde.fr/rss"'),
            "sources[1].url",
            "not an http(s) URL",
        ),
        (('kind = "feed"', 'kind = "podcast"'), "sources[1].kind", "liveblog"),
        (
            ('timezone = "Europe/Paris"', 'timezone = "Paris"'),
            "sources[0].timezone",
            "unknown timezone",
        ),
        (('name = "lemonde"', 'name = "Le Monde"'), "sources[1].name", "pattern"),
        (
            ('max_page_size = "8MB"', 'max_page_size = "big"'),
            "crawler.max_page_size",
            "invalid size",
        ),
        (
            ('post = "div.minute-par-minute div.entry"', 'post = "div[[entry"'),
            "sources[0].selectors.post",
            "selector",
        ),
    ],
)
def test_bad_config_names_file_key_and_reason(
    tmp_path: Path, change: tuple[str, str], key: str, reason: str
) -> None:
    path = write(tmp_path, FULL.replace(*change, 1))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.file == str(path)
    assert err.value.key == key
    assert reason in err.value.reason
    assert str(path) in str(err.value) and key in str(err.value)


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[storage\nurl = 1"))
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, '[storage]\nurl = "a"\nurl = "b"\n'))
