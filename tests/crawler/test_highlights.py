"""crawler.extract.highlights: key-moments blocks and the posts they show."""

from __future__ import annotations

import pytest
from lxml import etree

from crawler.extract.highlights import find_highlights, mark
from crawler.models import RawPost

PAGE = "https://news.example/live/jsonld"
H16 = "35 PAYS VALIDENT LA “DÉCLARATION DE PARIS”"


def root_of(body: str) -> etree._Element:
    return etree.fromstring(f"<html><body><main>{body}</main></body></html>", etree.HTMLParser())


def post(n: int, headline: str = "", key: bool = True) -> RawPost:
    return RawPost(headline=headline, body="b", key=f"{PAGE}#post-{n}" if key else None)


@pytest.mark.parametrize(
    "block",
    [
        '<section class="key-events"><h2>Les éléments marquants</h2><ul>{links}</ul></section>',
        '<div id="keyEvents"><ul>{links}</ul></div>',
        '<aside class="live-highlights">{links}</aside>',
        '<div class="temps-forts">{links}</div>',
        '<div class="box"><h3>L’essentiel</h3><ul>{links}</ul></div>',
        '<div class="box"><h2>Key events</h2>{links}</div>',
        '<div class="x"><header><h2>Das Wichtigste</h2></header><ol>{links}</ol></div>',
        "<h2>Highlights</h2><ul>{links}</ul>",
    ],
)
def test_blocks_by_name_or_heading(block: str) -> None:
    links = f'<li><a href="#post-16">{H16}</a></li><li><a href="{PAGE}?x=1#post-9">x</a></li>'
    html = block.format(links=links) + '<section class="stream"><article id="post-16"/></section>'
    found = find_highlights(root_of(html), PAGE)
    assert len(found.blocks) == 1
    assert found.fragments == {"post-16", "post-9"}
    assert "35 pays valident la declaration de paris" in found.headlines
    assert "les elements marquants" not in found.headlines


@pytest.mark.parametrize(
    "html",
    [
        '<div class="teaser teaser-highlight"><a href="#post-1">x</a></div>',
        '<div class="live-match-comment-title highlight-green">But !</div>',
        "<h2>Minute par minute</h2><ul><li><a href='#post-1'>x</a></li></ul>",
        '<div class="entry"><a href="https://other.example/live#post-1">other page</a></div>',
    ],
)
def test_things_that_are_not_key_moments(html: str) -> None:
    found = find_highlights(root_of(html), PAGE)
    assert "post-1" not in found.fragments


def test_a_block_holding_most_posts_is_the_stream() -> None:
    articles = "".join(f'<article id="post-{n}"><h2>t{n}</h2></article>' for n in range(8))
    root = root_of(f'<div class="live-summary">{articles}</div>')
    found = find_highlights(root, PAGE, root.xpath("//article"))
    assert not found


def test_marking_by_element_fragment_and_headline() -> None:
    root = root_of(
        '<section class="highlights"><h2>Les éléments marquants</h2>'
        '<article id="post-16-hl"><h2>35 pays valident la « déclaration de Paris »</h2></article>'
        '<ul><li><a href="#post-3">autre</a></li></ul></section>'
        '<section><article id="post-16"/><article id="post-3"/><article id="post-4"/></section>'
    )
    copy_el, stream_el, three_el, four_el = root.xpath("//article")
    found = find_highlights(root, PAGE, [copy_el, stream_el, three_el, four_el])
    posts = [post(99, "copie"), post(16, H16), post(3, "trois"), post(4, "quatre")]
    mark(zip(posts, [copy_el, stream_el, three_el, four_el], strict=True), found)
    assert [p.highlighted for p in posts] == [True, True, True, False]


def test_empty_headline_never_matches() -> None:
    root = root_of('<div class="key-events"><ul><li></li></ul></div>')
    found = find_highlights(root, PAGE)
    assert not found.shows(post(1, "", key=False))
