"""Dates from the wrong place (#17): day headings come from the post stream itself, and a post
dated far before the page's own published date, or after the fetch, is suspect: re-dated
without headings when its day came from one, else left without a time.

Pages in the style of a German public broadcaster's ticker (clocks only, day headings) with
a podcast promo, a social block and a bare old date above the stream.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extract.page import extract_page
from tests.crawler.outlet_pages import NOW, jsonld, shell

URL = "https://www.rundfunk-beispiel.de/nachrichten/ticker-sturm"
META = '<meta property="article:published_time" content="2026-03-10T06:00:00+01:00">'
TICKER = "".join(
    f"<h2>{t} Uhr: Meldung {i}</h2><p>Die Lage an der Küste bleibt angespannt, Meldung {i}.</p>"
    f"<p>Weitere Informationen folgen im Laufe des Tages.</p>"
    for i, t in enumerate(["14.10", "12.45", "09.30"])
)
EXPECTED = [datetime(2026, 3, 10, h, m, tzinfo=UTC) for h, m in ((13, 10), (11, 45), (8, 30))]

PROMOS = {
    "podcast-box": '<div class="podcast-box"><h3>Sonntag, 12. März 2019</h3>'
    "<p>Hören Sie die erste Folge unseres Podcasts zum Klimawandel.</p></div>",
    "social-block": '<div class="social-embed"><h3>6. Januar 2021</h3><p>Folgen Sie uns.</p></div>',
    "bare-old-heading": "<h3>Sonntag, 12. März 2019</h3>",
}


@pytest.mark.parametrize("promo", list(PROMOS), ids=list(PROMOS))
def test_an_old_date_above_the_stream_is_not_its_day(promo: str) -> None:
    html = shell(
        f'<section class="article">{PROMOS[promo]}<div class="ticker">{TICKER}</div></section>',
        lang="de",
        host="www.rundfunk-beispiel.de",
        title="Sturm an der Küste im Ticker",
        head=META,
    )
    result = extract_page(html, URL, now=NOW)
    assert [p.published_at for p in result.posts] == EXPECTED
    assert [p.headline for p in result.posts] == ["Meldung 0", "Meldung 1", "Meldung 2"]


def test_a_day_heading_of_the_stream_still_dates_its_posts() -> None:
    html = shell(
        f'<section class="article"><div class="ticker">{TICKER}</div>'
        "<div><h2>Montag, 9. März 2026</h2></div></section>",
        lang="de",
        host="www.rundfunk-beispiel.de",
        head=META,
    )
    result = extract_page(html, URL, now=NOW)
    assert [p.published_at.day for p in result.posts if p.published_at] == [9, 9, 9]


def test_machine_times_far_off_the_page_dates_are_left_out() -> None:
    posts = "".join(
        f'<article class="post"><time datetime="{when}">x</time>'
        f"<p>Text of post number {i}, long enough to be a post body.</p></article>"
        for i, when in enumerate(
            ["2027-01-01T10:00:00Z", "2026-03-10T12:00:00Z", "2016-05-01T08:00:00Z",
             "2026-03-10T11:00:00Z"]
        )
    )  # fmt: skip
    html = shell(posts, head=META)
    times = [p.published_at for p in extract_page(html, URL, now=NOW).posts]
    assert times == [
        None,
        datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
        None,
        datetime(2026, 3, 10, 11, tzinfo=UTC),
    ]


def test_structured_times_far_off_the_page_dates_are_left_out() -> None:
    updates = [
        {"@type": "BlogPosting", "headline": f"Update {i}", "articleBody": f"Body number {i}.",
         "datePublished": when, "url": f"{URL}#u{i}"}
        for i, when in enumerate(["2026-03-10T12:00:00Z", "2016-03-10T12:00:00Z"])
    ]  # fmt: skip
    blog = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "datePublished": "2026-03-10T06:00:00Z",
        "liveBlogUpdate": updates,
    }
    result = extract_page(shell("", head=jsonld(blog)), URL, now=NOW)
    assert [p.published_at for p in result.posts] == [datetime(2026, 3, 10, 12, tzinfo=UTC), None]
