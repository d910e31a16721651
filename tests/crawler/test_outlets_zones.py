"""Times as the page states them (#17): a source without `timezone` takes its zone from the
page: offsets of its own timestamps, a statement ("All times are UK", "heure de Paris",
"(UTC)", one that changes mid-page), the outlet's country (domain, language), else UTC with
a warning. A configured zone always wins; `probe` says which zone and why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extract.page import extract_page, parse_html
from crawler.extract.zone_clues import (
    MAX_STATEMENT,
    domain_zone,
    language_zone,
    may_state_zone,
    statement_zone,
    zone_named,
)
from crawler.extract.zones import infer_zone
from tests.crawler.outlet_pages import NOW, shell
from tests.newsroom.server import Newsroom


def clock_ticker(clocks: list[str], note: str = "", lang: str = "en") -> str:
    """A ticker of clock-only posts (the zone matters) with an optional note above."""
    posts = "".join(
        f'<div class="entry"><span class="entry__time">{c}</span>'
        f"<p>Update number {i} of the day, with enough words to be a post.</p></div>"
        for i, c in enumerate(clocks)
    )
    return f"{note}<div class='entries'>{posts}</div>"


META = '<meta property="article:modified_time" content="2026-03-10T14:50:00Z">'


def first_time(html: str, url: str, **kw: str) -> tuple[datetime | None, str, str]:
    result = extract_page(html, url, now=NOW, **kw)
    return result.posts[0].published_at, result.timezone, result.timezone_from


@pytest.mark.parametrize(
    ("note", "zone", "utc_hour"),
    [
        ("<p><em>All times are UK.</em></p>", "Europe/London", 10),
        ("<p>All times GMT</p>", "UTC", 10),
        ("<h2>Live updates (UTC)</h2>", "UTC", 10),
        ("<p>Times below are in Kyiv time.</p>", "Europe/Kyiv", 8),
        ("<p class='note'>All times ET unless stated</p>", "America/New_York", 14),
        ("<h2>Suivez notre direct (heure de Paris)</h2>", "Europe/Paris", 9),
        ("<p>Alle Zeitangaben in MEZ.</p>", "Europe/Berlin", 9),
        ("<p>Les horaires sont indiqués en heure française.</p>", "Europe/Paris", 9),
    ],
)
def test_a_statement_on_the_page(note: str, zone: str, utc_hour: int) -> None:
    html = shell(clock_ticker(["10:32", "09:10", "08:05"], note), html_lang="en-US", head=META)
    when, tz, why = first_time(html, "https://www.example-news.com/live")
    assert tz == zone and "the page says" in why
    assert when == datetime(2026, 3, 10, utc_hour, 32, tzinfo=UTC)


def test_a_statement_that_changes_mid_page() -> None:
    def entries(clocks: list[str], note: str) -> str:
        return note + "".join(
            f'<div class="entry"><span class="entry__time">{c}</span>'
            f"<p>Update at {c}, from the bureau, with enough words to be a post.</p></div>"
            for c in clocks
        )

    stream = entries(["10:32", "09:10", "08:05"], "<p>All times are ET.</p>") + entries(
        ["07:40", "06:15"], "<p><em>Times below are now in Paris time.</em></p>"
    )
    html = shell(f'<div class="entries">{stream}</div>', head=META)
    result = extract_page(html, "https://www.example-news.com/live", now=NOW)
    assert result.timezone == "America/New_York"
    assert [p.published_at for p in result.posts] == [
        datetime(2026, 3, 10, 14, 32, tzinfo=UTC),  # 10:32 EDT (DST began on 8 March)
        datetime(2026, 3, 10, 13, 10, tzinfo=UTC),
        datetime(2026, 3, 10, 12, 5, tzinfo=UTC),
        datetime(2026, 3, 10, 6, 40, tzinfo=UTC),  # 07:40 in Paris
        datetime(2026, 3, 10, 5, 15, tzinfo=UTC),
    ]
    assert "Times below" not in " ".join(p.body for p in result.posts)


def test_offsets_of_the_pages_timestamps_come_first() -> None:
    head = META + '<meta property="article:published_time" content="2026-03-10T06:00:00+05:45">'
    html = shell(clock_ticker(["14:32", "13:10", "11:05"], "<p>All times are UK.</p>"), head=head)
    when, tz, why = first_time(html, "https://www.himalaya-times.example.com/live")
    assert tz == "Asia/Kathmandu" and "+05:45" in why
    # the statement stands above the posts: it rules the clocks below it
    assert when == datetime(2026, 3, 10, 14, 32, tzinfo=UTC)


def test_printed_clocks_beside_their_machine_times() -> None:
    posts = "".join(
        f'<div class="entry"><time datetime="2026-03-10T{h - 1:02d}:{m:02d}:00Z">{h}:{m:02d}'
        f"</time><p>Update {i} with enough words to be read as a post.</p></div>"
        for i, (h, m) in enumerate([(14, 32), (13, 10), (11, 5)])
    )
    zones = infer_zone(parse_html(shell(posts)), "https://www.example-news.com/live")
    assert zones.name == "Europe/Paris" and "printed clocks show +01:00" in zones.why


@pytest.mark.parametrize(
    ("url", "lang", "zone"),
    [
        ("https://www.journal-exemple.fr/direct", "en", "Europe/Paris"),
        ("https://www.example-news.com/live", "fr", "Europe/Paris"),
        ("https://www.corkexample.ie/live", "en", "Europe/Dublin"),
        ("https://news.example.in/live", "en", "Asia/Kolkata"),
        ("https://www.example-news.com/live", "de-AT", "Europe/Vienna"),
        ("https://www.example-news.co.uk/live", "en", "Europe/London"),
    ],
)
def test_the_outlets_country(url: str, lang: str, zone: str) -> None:
    html = shell(clock_ticker(["14:32", "13:10", "11:05"]), html_lang=lang, head=META)
    _, tz, why = first_time(html, url)
    assert tz == zone and "country" in why


@pytest.mark.parametrize(
    ("url", "lang"),
    [
        ("https://www.example-news.com/live", "en"),
        ("https://www.example-news.com/live", "en-US"),
        ("https://www.example-news.com.au/live", "en-AU"),
        ("https://www.example-news.com/live", "pt-BR"),
    ],
)
def test_no_clue_is_utc_with_a_warning(url: str, lang: str) -> None:
    html = shell(clock_ticker(["14:32", "13:10", "11:05"]), html_lang=lang, head=META)
    result = extract_page(html, url, now=NOW)
    assert result.timezone == "UTC"
    assert any("set the source's timezone" in w for w in result.warnings)
    assert result.posts[0].published_at == datetime(2026, 3, 10, 14, 32, tzinfo=UTC)


def test_a_configured_timezone_always_wins() -> None:
    html = shell(clock_ticker(["14:32", "13:10", "11:05"], "<p>All times are UK.</p>"), head=META)
    when, tz, why = first_time(html, "https://www.example.co.uk/live", timezone="Asia/Tokyo")
    assert (tz, why) == ("Asia/Tokyo", "configured")
    assert when == datetime(2026, 3, 10, 5, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["At 9pm UK time the police arrived.", "19:02 (IST)", "local time", "(heure locale)",
     "The time has come to act.", "Zeit für Veränderung", "x" * 200, "(photo)"],
)  # fmt: skip
def test_texts_that_state_no_zone(text: str) -> None:
    assert statement_zone(text) is None


def test_zone_words_and_countries() -> None:
    assert zone_named("New York") == "America/New_York"
    assert zone_named("the Tokyo time") == "Asia/Tokyo"
    assert zone_named("Atlantis") is None
    assert domain_zone("www.lemonde.fr") == ("Europe/Paris", "fr")
    assert domain_zone("www.nytimes.com") is None and domain_zone("abc.net.au") is None
    assert language_zone("en-GB") == "Europe/London"
    assert language_zone("en") is None and language_zone("es") is None
    assert language_zone("fr_CA") is None and language_zone("fr") == "Europe/Paris"


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_probe_shows_the_zone_and_why(tmp_path: Path) -> None:
    html = shell(clock_ticker(["14:32", "13:10", "11:05"], "<p>All times are UK.</p>"), head=META)
    site = Newsroom()
    site.start()
    try:
        site.set_route("/live/uk", headers={"Content-Type": "text/html; charset=utf-8"}, body=html)
        env = os.environ | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        env.pop("VIGIE_CONFIG", None)
        proc = subprocess.run(
            [sys.executable, "-m", "vigie", "probe", site.url("/live/uk")],
            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
        )  # fmt: skip
    finally:
        site.stop()
    assert proc.returncode == 0, proc.stderr
    assert "zone:  Europe/London (the page says 'All times are UK.')" in proc.stdout
    assert "path:  detected" in proc.stdout


_HINT = re.compile(r"time|heure|horaire|zeit|\(", re.IGNORECASE)


@given(
    st.text(
        alphabet=st.sampled_from(list("TIMEHURAOZtimehuraoz( \u0130\u0131\u0307\u212a")),
        max_size=170,
    )
)
@settings(deadline=None)  # timings vary on a shared machine
def test_the_quick_look_for_a_statement_misses_none(text: str) -> None:
    # may_state_zone lowers the text before its case-sensitive look ("İ", "ı" included)
    expected = len(text) <= MAX_STATEMENT and _HINT.search(text) is not None
    assert may_state_zone(text) == expected
