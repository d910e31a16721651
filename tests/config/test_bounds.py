"""Config numbers and URLs at the edge, by classes: non-finite, zero and negative, sub-second
and huge durations, sizes and percentages are refused with the key and the reason; every
error of a file is reported at once; the database URL is one vigie supports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_vigie
from vigie.config import ConfigError, load_config
from vigie.config_values import parse_time

SOURCE = '[[sources]]\nname = "live"\nurl = "https://news.example/live"\n'
# (section, key, where the key is reported)
DURATION_KEYS = [
    ("crawler", "timeout", "crawler.timeout"),
    ("crawler", "robots_ttl", "crawler.robots_ttl"),
    ("scheduler", "default_interval", "scheduler.default_interval"),
    ("scheduler", "max_backoff", "scheduler.max_backoff"),
    ("sources", "interval", "sources[0].interval"),
]
# A TOML value, and a word the reason must hold.
BAD_DURATIONS = [
    ("inf", "finite"),
    ("-inf", "finite"),
    ("nan", "finite"),
    ("-0", "positive"),
    ("0", "positive"),
    ("-0.0", "positive"),
    ("-5", "positive"),
    ('"0.5s"', "at least 1s"),
    ("0.1", "at least 1s"),
    ('"250ms"', "at least 1s"),
    ("1e300", "at most 30 days"),
    ("1" + "0" * 400, "too long"),  # TOML integers are unbounded in tomllib
    ('"99999999d"', "at most 30 days"),
    ('"31d"', "at most 30 days"),
    ("true", "invalid duration"),
    ('"1e3s"', "invalid duration"),
    ('"inf"', "invalid duration"),
    ('"nan"', "invalid duration"),
    ("[1, 2]", "invalid duration"),
]


def config_with(tmp_path: Path, section: str, key: str, value: str) -> Path:
    if section == "sources":
        text = SOURCE + f"{key} = {value}\n"
    else:
        text = f"[{section}]\n{key} = {value}\n\n" + SOURCE
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return err.value


@pytest.mark.parametrize(("section", "key", "where"), DURATION_KEYS)
@pytest.mark.parametrize(("value", "reason"), BAD_DURATIONS)
def test_bad_durations_are_refused_with_the_key_and_reason(
    tmp_path: Path, section: str, key: str, where: str, value: str, reason: str
) -> None:
    err = refused(config_with(tmp_path, section, key, value))
    assert (err.key, len(err.problems)) == (where, 1)
    assert reason in err.reason


@pytest.mark.parametrize(("section", "key", "where"), DURATION_KEYS)
@pytest.mark.parametrize("value", ['"1s"', "1", '"30d"', '"1h30m"', "1.5"])
def test_bounds_are_inclusive(tmp_path: Path, section: str, key: str, where: str, value: str):
    load_config(config_with(tmp_path, section, key, value))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0", "positive"),
        ("-1", "positive"),
        ("9223372036854775807", "at most 1GB"),
        ('"99999999999GB"', "at most 1GB"),
        ('"2GB"', "at most 1GB"),
        ("1.5", "invalid size"),
        ("inf", "invalid size"),
        ("nan", "invalid size"),
        ('"-8MB"', "invalid size"),
        ('"8 parsecs"', "invalid size"),
    ],
)
def test_bad_sizes(tmp_path: Path, value: str, reason: str) -> None:
    err = refused(config_with(tmp_path, "crawler", "max_page_size", value))
    assert err.key == "crawler.max_page_size" and reason in err.reason


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "-0.1", '"nan%"', '"inf%"', '"-5%"', '"101%"', '"x%"', "true"]
)
def test_bad_percentages(tmp_path: Path, value: str) -> None:
    err = refused(config_with(tmp_path, "scheduler", "jitter", value))
    assert err.key == "scheduler.jitter" and "percentage" in err.reason


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("crawler", "concurrency", "9223372036854775808"),
        ("crawler", "concurrency", "0"),
        ("crawler", "retries", "-1"),
        ("crawler", "max_pages", "1e9"),
        ("scheduler", "full_every", "1000000000"),
        ("api", "port", "1e5"),
    ],
)
def test_bad_integers(tmp_path: Path, section: str, key: str, value: str) -> None:
    err = refused(config_with(tmp_path, section, key, value))
    assert err.key == f"{section}.{key}"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user:secret@db/vigie",
        "mysql+pymysql://db/vigie",
        "postgresql+psycopg2://db/vigie",
        "oracle://db",
        "mssql+pyodbc://db",
    ],
)
def test_unsupported_databases_are_one_line_naming_the_supported_ones(
    tmp_path: Path, url: str
) -> None:
    err = refused(config_with(tmp_path, "storage", "url", f'"{url}"'))
    assert err.key == "storage.url" and "unsupported database" in err.reason
    assert "sqlite:///" in err.reason and "postgresql+psycopg://" in err.reason
    assert "secret" not in str(err) and "\n" not in str(err)


@pytest.mark.parametrize("url", ["", "not a url", "://nothing"])
def test_urls_that_are_not_urls(tmp_path: Path, url: str) -> None:
    err = refused(config_with(tmp_path, "storage", "url", f'"{url}"'))
    assert err.key == "storage.url" and "database URL" in err.reason


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@db/vigie", "postgresql+psycopg://u@db/vigie"),
        ("postgres://u:p@db:5433/vigie", "postgresql+psycopg://u:p@db:5433/vigie"),
        ("postgresql+psycopg://u@db/vigie", "postgresql+psycopg://u@db/vigie"),
        ("sqlite:////var/lib/vigie/vigie.db", "sqlite:////var/lib/vigie/vigie.db"),
    ],
)
def test_supported_database_urls(tmp_path: Path, url: str, expected: str) -> None:
    cfg = load_config(config_with(tmp_path, "storage", "url", f'"{url}"'))
    assert cfg.storage.url == expected


ALL_WRONG = """
[storage]
url = "mysql://db/vigie"

[crawler]
speed = 3
timeout = inf

[scheduler]
jitter = "150%"
default_interval = "0.5s"

[[sources]]
name = "live"
url = "ftp://news.example/live"

[[sources]]
name = "live"
url = "https://news.example/other"
interval = nan
"""


def test_every_error_of_a_file_is_listed_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(ALL_WRONG, encoding="utf-8")
    err = refused(path)
    keys = [key for key, _ in err.problems]
    assert keys == [
        "storage.url",
        "crawler.speed",
        "crawler.timeout",
        "scheduler.jitter",
        "scheduler.default_interval",
        "sources[0].url",
        "sources[1].name",
        "sources[1].interval",
    ]
    lines = str(err).splitlines()
    assert len(lines) == 8 and all(line.startswith(f"{path}: ") for line in lines)


@pytest.mark.slow
def test_the_cli_prints_every_config_error_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(ALL_WRONG, encoding="utf-8")
    proc = run_vigie(path, "check", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 8 and all(
        line.startswith(f"vigie: config error: {path}: ") for line in lines
    )
    assert "Traceback" not in proc.stderr


# keep_crawl_runs is a retention: from an hour to ten years, not an interval's 1 s to 30 days.
BAD_RETENTIONS = [
    *[(v, r) for v, r in BAD_DURATIONS if "at least 1s" not in r and "at most 30" not in r],
    ('"59m"', "at least 1h"),
    ("3599", "at least 1h"),
    ('"3651d"', "at most 3650d"),
    ("1e300", "at most 3650d"),
]


@pytest.mark.parametrize(("value", "reason"), BAD_RETENTIONS)
def test_bad_retentions_are_refused_with_the_key_and_reason(
    tmp_path: Path, value: str, reason: str
) -> None:
    err = refused(config_with(tmp_path, "storage", "keep_crawl_runs", value))
    assert (err.key, len(err.problems)) == ("storage.keep_crawl_runs", 1)
    assert reason in err.reason


@pytest.mark.parametrize(
    ("value", "seconds"),
    [('"1h"', 3600.0), ("3600", 3600.0), ('"90d"', 90 * 86400.0), ('"3650d"', 3650 * 86400.0)],
)
def test_retention_bounds_are_inclusive(tmp_path: Path, value: str, seconds: float) -> None:
    path = config_with(tmp_path, "storage", "keep_crawl_runs", value)
    assert load_config(path).storage.keep_crawl_runs == seconds


def test_the_environments_database_keeps_the_files_other_storage_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_with(tmp_path, "storage", "keep_crawl_runs", '"90d"')
    monkeypatch.setenv("VIGIE_STORAGE_URL", "postgresql://u@db/vigie")
    storage = load_config(path).storage
    assert (storage.url, storage.keep_crawl_runs) == (
        "postgresql+psycopg://u@db/vigie",
        90 * 86400.0,
    )
    monkeypatch.delenv("VIGIE_STORAGE_URL")
    assert load_config(
        config_with(tmp_path, "crawler", "timeout", "5")
    ).storage.keep_crawl_runs == (14 * 86400.0)


def test_storage_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config_with(tmp_path, "storage", "url", '"sqlite:///beside-the-config.db"')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIE_STORAGE_URL", "sqlite:////var/lib/vigie/vigie.db")
    assert load_config(path).storage.url == "sqlite:////var/lib/vigie/vigie.db"
    monkeypatch.setenv("VIGIE_STORAGE_URL", "postgresql://u@db/vigie")
    assert load_config(path).storage.url == "postgresql+psycopg://u@db/vigie"
    monkeypatch.setenv("VIGIE_STORAGE_URL", "sqlite:///relative.db")
    assert load_config(path).storage.url == f"sqlite:///{(tmp_path / 'relative.db').resolve()}"
    monkeypatch.setenv("VIGIE_STORAGE_URL", "mysql://db")
    err = refused(path)
    assert err.key == "VIGIE_STORAGE_URL (environment)" and "unsupported" in err.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("99999999h", "before the year 1"),
        ("999999999999999999d", "before the year 1"),
        ("10000-01-01", "neither ISO 8601"),
        ("0001-01-01T00:00:00+01:00", "out of the range"),
        ("", "neither ISO 8601"),
        ("\x00", "neither ISO 8601"),
        ("1e9", "neither ISO 8601"),
        ("inf", "neither ISO 8601"),
        ("-2h", "neither ISO 8601"),
        ("x" * 100_000, "neither ISO 8601"),
    ],
)
def test_times_out_of_range_say_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as err:
        parse_time(value)
    assert len(str(err.value)) < 200  # a long value is cut in the message


def test_times_come_back_aware_in_utc() -> None:
    for value in ("2026-01-06T20:08:00+01:00", "2026-01-06T19:08:00Z", "2026-01-06 19:08", "2h"):
        when = parse_time(value)
        assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
