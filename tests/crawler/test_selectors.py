"""crawler.extract.selectors: configured CSS/XPath expressions → posts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from crawler.extract import ExtractError
from crawler.extract.selectors import check_expression, extract_selectors, is_xpath
from crawler.models import Selectors

PAGE = "https://news.example/live/plain"
PARIS = "Europe/Paris"
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
PLAIN = Selectors(
    post="div.entry", headline=".entry-title", published=".entry-when", body=".entry-text"
)
P1 = "Les troupes allemandes pourraient participer à la force multinationale."
P2 = "“L’Allemagne s’engagera sur les plans politique, financier et militaire”, a dit Merz."


def entry(headline: str, time_text: str, date_text: str, body: str, attrs: str = "") -> str:
    title = f'<h3 class="entry-title">{headline}</h3>' if headline else ""
    return (
        f'<div class="entry"{attrs}>{title}<div class="entry-when">'
        f'<span class="entry-time">{time_text}</span> <span class="entry-date">{date_text}</span>'
        f'</div><div class="entry-text">{body}</div>'
        '<div class="share-bar"><button>Partager</button></div></div>'
    )


def root_of(body: str) -> etree._Element:
    return etree.fromstring(f"<html><body>{body}</body></html>", etree.HTMLParser())


def test_plain_entries() -> None:
    html = (
        '<section class="minute-par-minute">'
        + entry("", "00:00", "7 janvier 2026", "<p>Ce live est à présent terminé.</p>")
        + entry("DES TROUPES ALLEMANDES ?", "20:08", "6 janvier 2026", f"<p>{P1}</p><p>{P2}</p>")
        + entry("35 PAYS VALIDENT", "20:08", "6 janvier 2026", "<p>Les 35 pays…</p>")
        + "</section>"
    )
    found = extract_selectors(root_of(html), PAGE, PLAIN, timezone=PARIS, now=NOW)
    closing, troops, pays = (f.post for f in found)
    assert closing.headline == "" and closing.body == "Ce live est à présent terminé."
    assert closing.published_at == datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
    assert troops.headline == "DES TROUPES ALLEMANDES ?"
    assert troops.body == f"{P1}\n\n{P2}"
    assert troops.published_at == pays.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert troops.key is None and troops.url == PAGE
    assert found[1].element is not None and found[1].element.get("class") == "entry"


def test_xpath_ids_and_datetime_attribute() -> None:
    html = (
        '<article class="p" data-id="751105"><h2>Loud bang</h2>'
        '<span class="when"><time datetime="2024-08-05T21:00:18+01:00">9pm</time></span>'
        "<p>Local reporters said a loud bang was heard.</p></article>"
        '<article class="p" data-id="751101"><h2>Plymouth</h2>'
        '<span class="when">20:42</span><p>Multiple people are injured.</p></article>'
    )
    spec = Selectors(
        post="//article[@class='p']", headline="./h2", published=".//span", id="@data-id"
    )
    first, second = (
        f.post
        for f in extract_selectors(
            root_of(html), PAGE, spec, timezone="Europe/London", default_date=date(2024, 8, 5)
        )
    )
    assert first.key == first.url == f"{PAGE}#751105"
    assert first.published_at == datetime(2024, 8, 5, 20, 0, 18, tzinfo=UTC)
    assert first.body == "Local reporters said a loud bang was heard."  # no body selector
    assert second.key == f"{PAGE}#751101"
    assert second.published_at == datetime(2024, 8, 5, 19, 42, tzinfo=UTC)


def test_css_pseudo_elements_and_url_ids() -> None:
    html = (
        '<div class="e"><a class="perma" href="/live?utm_source=x#post-3">#</a>'
        '<h3 class="t">Titre <em>trois</em></h3><div class="b">corps</div></div>'
    )
    spec = Selectors(post="div.e", headline=".t::text", body=".b", id="a.perma::attr(href)")
    [found] = extract_selectors(root_of(html), PAGE, spec)
    assert found.post.headline == "Titre"
    assert found.post.key == "https://news.example/live#post-3"


def test_clock_only_times_take_the_page_day_or_the_day_before() -> None:
    html = entry("A", "20:08", "", "<p>a</p>") + entry("B", "23:50", "", "<p>b</p>")
    now = datetime(2026, 1, 6, 19, 30, tzinfo=UTC)  # 20:30 in Paris
    a, b = (
        f.post
        for f in extract_selectors(
            root_of(html), PAGE, PLAIN, timezone=PARIS, default_date=date(2026, 1, 6), now=now
        )
    )
    assert a.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert b.published_at == datetime(2026, 1, 5, 22, 50, tzinfo=UTC)  # 23:50 is yesterday


def test_empty_matches_are_skipped_and_missing_parts_tolerated() -> None:
    html = '<div class="entry"></div>' + '<div class="entry"><div class="entry-text">x</div></div>'
    [found] = extract_selectors(root_of(html), PAGE, PLAIN, timezone=PARIS)
    assert found.post.headline == "" and found.post.body == "x" and found.post.published_at is None


@pytest.mark.parametrize(
    ("expression", "xpath"),
    [("//div", True), ("./h2", True), ("(//a)[1]", True), ("@id", True), ("div.entry", False),
     (".entry-title", False), ("article > h2", False)],
)  # fmt: skip
def test_is_xpath(expression: str, xpath: bool) -> None:
    assert is_xpath(expression) is xpath


def test_invalid_expressions() -> None:
    assert check_expression("div.entry") is None
    assert check_expression("//div[") is not None
    assert check_expression("div[[") is not None
    with pytest.raises(ExtractError, match="selectors: invalid expression"):
        extract_selectors(root_of("<p>x</p>"), PAGE, Selectors(post="//div["))
