"""The alerts part of the config: every kind of channel accepted, secrets from the
environment, and refusals by class of mistake (file, key, reason; exit 2 from the CLI),
none of which ever prints a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.config import ConfigError, load_config

SOURCES = """
[[sources]]
name = "afp"
url = "https://example.org/live"
timezone = "Europe/Paris"

[[sources]]
name = "tf1"
url = "https://example.org/tf1"
"""
SECRET = "tok-4f9a1c-not-to-be-printed"


def load(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch | None = None) -> object:
    path = tmp_path / "config.toml"
    path.write_text(SOURCES + text, encoding="utf-8")
    return load_config(path)


def refusal(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert SECRET not in str(info.value)
    return info.value


def test_every_kind_of_channel_and_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NTFY_URL", f"ntfys://{SECRET}@ntfy.example.org/desk")
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    cfg = load(
        tmp_path,
        f"""
[[alerts]]
name = "zelensky"
query = 'zelensky -"sans commentaire"'
sources = ["afp"]
on = ["new", "edited"]
notify = [
  "${{NTFY_URL}}",
  "tgram://123456789:{SECRET}/-1001234567",
  "mailtos://user:{SECRET}@example.org?to=desk@example.org",
  "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#news",
  "matrixs://user:{SECRET}@matrix.example.org/#room",
  "discord://123456/{SECRET}",
  "json://127.0.0.1:8000/hook",
]
webhook = "https://example.org/hook/{SECRET}"
secret = "${{HOOK_SECRET}}"
digest = "1m"

[health_alerts]
after_failures = 3
notify = ["ntfy://vigie-desk"]
sources = ["tf1"]

[alert_delivery]
timeout = "5s"
retry_min = "2s"
retry_max = "5m"
""",
    )
    setup = cfg.alert_setup()  # type: ignore[attr-defined]
    chans = setup.channels["zelensky"]
    assert len(chans) == 8
    assert chans[0].url == f"ntfys://{SECRET}@ntfy.example.org/desk"
    assert chans[-1].kind == "webhook" and chans[-1].secret == SECRET
    for c in chans:
        assert SECRET not in c.label and SECRET not in repr(c)
    watch = setup.watches.updates[0]
    assert watch.digest == 60 and watch.sources == {"afp"}
    assert setup.watches.health.after_failures == 3
    assert setup.zones == {"afp": "Europe/Paris"}
    assert setup.delivery.retry_max == 300
    assert SECRET not in repr(cfg)


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('name = "Bad Name"\nnotify = ["ntfy://x"]', "alerts[0].name", "pattern"),
        ('name = "health"\nnotify = ["ntfy://x"]', None, "[health_alerts]"),
        ('name = "a"', None, "no channel"),
        ('name = "a"\nnotify = ["ntfy://x"]\nquery = "  -- "', "alerts[0].query", "no word"),
        ('name = "a"\nnotify = ["ntfy://x"]\nsources = ["nope"]', None, "no source is named"),
        ('name = "a"\nnotify = ["ntfy://x"]\nsources = []', "alerts[0].sources", "at least 1"),
        ('name = "a"\nnotify = ["ntfy://x"]\non = ["deleted"]', "alerts[0].on[0]", "'new'"),
        ('name = "a"\nnotify = ["ntfy://x"]\non = []', "alerts[0].on", "at least 1"),
        ('name = "a"\nnotify = ["ntfy://x"]\ndigest = "0s"', "alerts[0].digest", "positive"),
        ('name = "a"\nnotify = ["ntfy://x"]\ndigest = "soon"', "alerts[0].digest", "duration"),
        ('name = "a"\nnotify = ["ntfy://x"]\nburst = 0', "alerts[0].burst", "greater"),
        ('name = "a"\nnotify = ["ntfy://x"]\nfirst_crawl = "all"', "alerts[0].first_crawl", ""),
        ('name = "a"\nnotify = ["ntfy://x"]\ncolour = "red"', "alerts[0].colour", "unknown key"),
        (f'name = "a"\nnotify = ["nosuch://{SECRET}"]', "alerts[0].notify[0]", "apprise cannot"),
        (f'name = "a"\nnotify = ["tgram://{SECRET}"]', "alerts[0].notify[0]", "apprise cannot"),
        (f'name = "a"\nnotify = ["{SECRET}"]', "alerts[0].notify[0]", "apprise cannot"),
        ('name = "a"\nnotify = "ntfy://x"', "alerts[0].notify", "list"),
        ('name = "a"\nnotify = [42]', "alerts[0].notify[0]", ""),
        (f'name = "a"\nwebhook = "ftp://{SECRET}@x/"', "alerts[0].webhook", "http(s)"),
        (f'name = "a"\nwebhook = "https:///{SECRET}"', "alerts[0].webhook", "http(s)"),
        ('name = "a"\nnotify = ["ntfy://x"]\nsecret = "x"', None, "give webhook"),
        ('name = "a"\nwebhook = "https://x/h"\nsecret = ""', "alerts[0].secret", "empty"),
        ('name = "a"\nnotify = ["${VIGIE_TEST_UNSET_VAR}"]', "alerts[0].notify[0]", "not set"),
        ('name = "a"\nwebhook = "https://x/${VIGIE_TEST_UNSET_VAR}"', None, "VIGIE_TEST_UNSET"),
    ],
)
def test_bad_watches_are_refused_saying_where_and_why(
    tmp_path: Path, text: str, key: str | None, reason: str
) -> None:
    err = refusal(tmp_path, "\n[[alerts]]\n" + text + "\n")
    lines = "\n".join(err.lines())
    if key:
        assert f": {key}: " in lines, lines
    assert reason in lines, lines


def test_duplicate_watch_names_and_every_problem_at_once(tmp_path: Path) -> None:
    err = refusal(
        tmp_path,
        """
[[alerts]]
name = "a"
notify = ["ntfy://x"]

[[alerts]]
name = "a"
notify = ["ntfy://x"]
sources = ["ghost"]
""",
    )
    text = "\n".join(err.lines())
    assert "alerts[1].name: duplicate alert name 'a'" in text
    assert "alerts[1].sources: no source is named 'ghost'" in text


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[health_alerts]\nafter_failures = 0\nnotify = ['ntfy://x']", "after_failures", "greater"),
        ("[health_alerts]\nafter_failures = 3", None, "no channel"),
        ("[health_alerts]\nnotify = ['ntfy://x']\nsources = ['ghost']", None, "'ghost'"),
        ("[alert_delivery]\ntimeout = '0.1s'", "alert_delivery.timeout", "at least 1s"),
        ("[alert_delivery]\nretry_min = '1h'\nretry_max = '1m'", None, "retry_max"),
        ("[alert_delivery]\nlink_base = 'javascript:x'", None, "http(s)"),
        ("[alerts]\nname = 'a'", "alerts", "list"),  # a table where the array goes
    ],
)
def test_bad_health_and_delivery_tables(
    tmp_path: Path, text: str, key: str | None, reason: str
) -> None:
    lines = "\n".join(refusal(tmp_path, "\n" + text + "\n").lines())
    if key:
        assert key in lines, lines
    assert reason in lines, lines


def test_the_cli_refuses_a_bad_watch_with_exit_2(tmp_path: Path) -> None:
    from tests.helpers import run_vigie

    path = tmp_path / "config.toml"
    path.write_text(
        SOURCES + f'\n[[alerts]]\nname = "a"\nnotify = ["tgram://{SECRET}"]\n', encoding="utf-8"
    )
    proc = run_vigie(path, "check", check=False)
    assert proc.returncode == 2
    assert "alerts[0].notify[0]: apprise cannot use this tgram:// URL" in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_only_the_commands_that_use_channels_check_them_with_apprise(tmp_path: Path) -> None:
    """A channel apprise refuses stops what sends or shows alerts (check, run, alerts list),
    not what only reads the store (checking it loads apprise: most of their start-up)."""
    from storage.db import Store
    from tests.helpers import run_vigie

    Store(f"sqlite:///{tmp_path / 'vigie.db'}").close()
    path = tmp_path / "config.toml"
    path.write_text(
        '[storage]\nurl = "sqlite:///vigie.db"\n'
        + SOURCES
        + f'\n[[alerts]]\nname = "a"\nnotify = ["tgram://{SECRET}"]\n',
        encoding="utf-8",
    )
    for args in (("check",), ("alerts", "list"), ("alerts", "test", "a"), ("run", "--once")):
        proc = run_vigie(path, *args, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "apprise cannot use this tgram:// URL" in proc.stderr, args
    for args in (("updates",), ("sources",), ("export",), ("workers",), ("alerts", "history")):
        proc = run_vigie(path, *args, check=False)
        assert proc.returncode == 0, (args, proc.stderr)
    assert load_config(path, channels=False).alerts[0].name == "a"


def test_check_names_the_alerts(tmp_path: Path) -> None:
    from tests.helpers import run_vigie

    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path / "v.db"}"\n'
        + SOURCES
        + '\n[[alerts]]\nname = "a"\nnotify = ["json://127.0.0.1:9/x", "ntfy://desk"]\n'
        + '\n[health_alerts]\nnotify = ["ntfy://desk"]\n',
        encoding="utf-8",
    )
    proc = run_vigie(path, "check", check=False)
    assert "alerts: 2 watches, 2 channels (vigie alerts list)" in proc.stdout
