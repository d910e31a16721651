"""Structured data that declares a live blog but holds no updates (#17): the HTML detector
reads the posts whenever the structured path yields nothing.

Microdata `LiveBlogPosting` around a flat ticker, JSON-LD with an empty `liveBlogUpdate`,
JSON-LD whose updates are empty stubs, microdata update shells without text: each page is
full of posts, which must be found (not "no updates yet"). A declared blog that really has
no posts yet stays an empty success.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.documents import extract_document
from crawler.models import SourceSpec
from tests.crawler.outlet_pages import NOW, jsonld, shell

URL = "https://www.stadtblatt-beispiel.de/live/wahl"
TEXTS = (
    "Die Wahllokale haben geschlossen, die Auszählung beginnt.",
    "Erste Hochrechnungen sehen die Amtsinhaberin knapp vorn.",
    "Die Wahlbeteiligung liegt mit 61 Prozent über der von 2021.",
    "Der Herausforderer spricht von einem spannenden Abend.",
)
BLOG = {
    "@context": "https://schema.org",
    "@type": "LiveBlogPosting",
    "headline": "Bürgermeisterwahl im Liveblog",
    "datePublished": "2026-03-10T08:00:00+01:00",
    "coverageStartTime": "2026-03-10T08:00:00+01:00",
}


def flat_ticker() -> str:
    return "".join(
        f"<p><b>{15 - i}.0{i} Uhr:</b> {TEXTS[i]}</p><p>Weitere Einzelheiten folgen.</p>"
        for i in range(4)
    )


def block_posts() -> str:
    return "".join(
        f'<div class="live-post" id="lp-{4 - i}"><div class="live-post__meta">'
        f'<time datetime="2026-03-10T{14 - i}:0{i}:00+01:00">{14 - i}:0{i}</time></div>'
        f'<div class="live-post__body"><p>{TEXTS[i]}</p></div></div>'
        for i in range(4)
    )


MICRODATA = shell(
    '<div itemscope itemtype="https://schema.org/LiveBlogPosting">'
    '<meta itemprop="coverageStartTime" content="2026-03-10T08:00:00+01:00">'
    f'<div itemprop="articleBody">{flat_ticker()}</div></div>',
    lang="de",
    host="www.stadtblatt-beispiel.de",
    title="Bürgermeisterwahl im Liveblog",
)
EMPTY_JSONLD = shell(
    f'<div class="live-stream">{block_posts()}</div>',
    lang="de",
    host="www.stadtblatt-beispiel.de",
    head=jsonld({**BLOG, "liveBlogUpdate": []}),
)
STUB_JSONLD = shell(
    f'<div class="live-stream">{block_posts()}</div>',
    lang="de",
    host="www.stadtblatt-beispiel.de",
    head=jsonld({**BLOG, "liveBlogUpdate": [{"@type": "BlogPosting"} for _ in range(3)]}),
)
SHELL_MICRODATA = shell(
    '<div itemscope itemtype="https://schema.org/LiveBlogPosting">'
    + "".join(
        '<div itemprop="liveBlogUpdate" itemscope itemtype="https://schema.org/BlogPosting">'
        '<meta itemprop="datePublished" content="2026-03-10T08:00:00+01:00"></div>'
        for _ in range(2)
    )
    + f'<div class="ticker">{flat_ticker()}</div></div>',
    lang="de",
    host="www.stadtblatt-beispiel.de",
)


@pytest.mark.parametrize(
    ("html", "times"),
    [
        (MICRODATA, [(14, 0), (13, 1), (12, 2), (11, 3)]),
        (EMPTY_JSONLD, [(13, 0), (12, 1), (11, 2), (10, 3)]),
        (STUB_JSONLD, [(13, 0), (12, 1), (11, 2), (10, 3)]),
        (SHELL_MICRODATA, [(14, 0), (13, 1), (12, 2), (11, 3)]),
    ],
    ids=["microdata-no-updates", "jsonld-empty-updates", "jsonld-stub-updates", "empty-items"],
)
def test_a_declared_blog_without_usable_updates_is_read_from_its_html(
    html: str, times: list[tuple[int, int]]
) -> None:
    spec = SourceSpec(name="wahl", url=URL)
    result = extract_document(html.encode(), URL, spec, now=NOW)
    assert result.path == "detected" and result.is_liveblog
    assert [p.published_at for p in result.posts] == [
        datetime(2026, 3, 10, h, m, tzinfo=UTC) for h, m in times
    ]
    assert [p.body.split("\n\n")[0] for p in result.posts] == list(TEXTS)


def test_a_declared_blog_with_no_posts_yet_is_an_empty_success() -> None:
    html = shell(
        "<p>Der Liveblog startet um 18 Uhr.</p>",
        lang="de",
        head=jsonld({**BLOG, "liveBlogUpdate": []}),
    )
    result = extract_document(html.encode(), URL, SourceSpec(name="wahl", url=URL), now=NOW)
    assert result.posts == [] and result.is_liveblog and result.path == "jsonld"
