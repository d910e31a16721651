"""crawler.extract.merge (and fields): structured data joined with the page's HTML posts.

Each test is a page whose JSON-LD or microdata disagrees with its HTML the way real pages
do: one date for every update, the blog's title as every headline, a clock in the headline,
more (or fewer) updates than the HTML shows, a broken block, ids that are positions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from crawler.extract.page import extract_page
from storage.dedup_page import merge_page, positional_keys

PAGE = "https://news.example/live/blog"
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
TITLE = "Guerre en Ukraine : la coalition réunie à Paris"
BID = "64621992f08"  # ids as a CMS makes them; the HTML element is "block-<id>"
TEXTS = (
    "Les 35 pays de la coalition ont validé mardi la déclaration de Paris.",
    "Les troupes allemandes pourraient participer à la force multinationale.",
    "Le président ukrainien a salué un accord « historique » avec ses alliés.",
    "Washington ne s’est pas engagé à fournir une garantie de sécurité.",
    "Le sommet s’est achevé par une conférence de presse commune à l’Élysée.",
)


def script(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def blog(updates: list[dict], **extra: object) -> dict:
    return {"@type": "LiveBlogPosting", "headline": TITLE, **extra, "liveBlogUpdate": updates}


def article(n: int, *, headline: str = "", when: str | None = None, ident: bool = True) -> str:
    stamp = f'<time datetime="{when}">{when[11:16]}</time>' if when else ""
    title = f"<h2>{headline}</h2>" if headline else ""
    attrs = f' id="block-{BID}{n}"' if ident else ""
    return f'<article class="block"{attrs}>{stamp}{title}<p>{TEXTS[n]}</p></article>'


def page(head: str, articles: str) -> str:
    return (
        f"<html><head><title>{TITLE} | Le Journal</title>{head}</head>"
        f"<body><h1>{TITLE}</h1><div class='stream'>{articles}</div></body></html>"
    )


def at(hour: int, minute: int = 0) -> str:
    return f"2026-01-06T{hour:02d}:{minute:02d}:00Z"


def test_one_date_and_the_blogs_title_for_every_update_come_from_the_html() -> None:
    updates = [
        {
            "@id": f"{BID}{n}",
            "headline": TITLE,
            "datePublished": at(11, 50),
            "articleBody": TEXTS[n],
        }
        for n in range(3)
    ]
    html = page(
        script(blog(updates, datePublished=at(11, 50))),
        article(0, when=at(11, 50))
        + article(1, headline="Un vrai titre", when=at(11, 34))
        + article(2, when=at(10, 42)),
    )
    result = extract_page(html, PAGE, now=NOW)
    assert result.path == "jsonld"
    assert [p.published_at for p in result.posts] == [
        datetime(2026, 1, 6, h, m, tzinfo=UTC) for h, m in ((11, 50), (11, 34), (10, 42))
    ]
    assert [p.headline for p in result.posts] == ["", "Un vrai titre", ""]
    assert [p.key for p in result.posts] == [f"{PAGE}#{BID}{n}" for n in range(3)]  # published
    assert [p.anchor for p in result.posts] == [f"{PAGE}#block-{BID}{n}" for n in range(3)]
    stored = merge_page(result.posts)  # storage knows each by its block's anchor first
    assert [(m.url, m.keys[0]) for m in stored] == [
        (f"{PAGE}#block-{BID}{n}", f"{PAGE}#block-{BID}{n}") for n in range(3)
    ]


def test_a_time_prefix_and_the_first_words_are_no_headline() -> None:
    updates = [
        {
            "url": f"{PAGE}#u{n}",
            "headline": f"19:0{n}(IST) {TEXTS[n][:40]}",
            "datePublished": at(13, 30 + n),
            "articleBody": TEXTS[n],
        }
        for n in range(2)
    ] + [
        {
            "url": f"{PAGE}#u9",
            "headline": "18:16(IST) Le &quot;vrai&quot; titre",
            "articleBody": "x",
        }
    ]
    result = extract_page(page(script(blog(updates)), ""), PAGE, now=NOW)
    assert [p.headline for p in result.posts] == ["", "", 'Le "vrai" titre']


def test_the_union_keeps_updates_the_html_no_longer_shows() -> None:
    updates = [
        {"url": f"{PAGE}#block-{BID}{n}", "headline": f"Titre {n}", "datePublished": at(10 + n)}
        for n in range(5)
    ]
    html = page(script(blog(updates)), "".join(article(n, when=at(10 + n)) for n in (4, 3)))
    result = extract_page(html, PAGE, now=NOW)
    assert len(result.posts) == 5
    assert [p.body for p in result.posts[3:]] == [TEXTS[3], TEXTS[4]]  # bodies from the HTML
    assert [p.body for p in result.posts[:3]] == ["", "", ""]


def test_the_union_adds_html_posts_the_structured_data_leaves_out() -> None:
    updates = [
        {"url": f"{PAGE}#block-{BID}{n}", "headline": f"Titre {n}", "datePublished": at(10 + n)}
        for n in (4, 3)
    ]
    html = page(script(blog(updates)), "".join(article(n, when=at(10 + n)) for n in (4, 3, 2, 1)))
    result = extract_page(html, PAGE, now=NOW)
    assert [p.key for p in result.posts] == [f"{PAGE}#block-{BID}{n}" for n in (4, 3, 2, 1)]
    assert result.posts[2].published_at == datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    assert result.posts[2].body == TEXTS[2]


def test_a_broken_block_beside_valid_data_is_skipped() -> None:
    updates = [{"url": f"{PAGE}#block-{BID}{n}", "headline": f"Titre {n}"} for n in range(3)]
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": }</script>'
    result = extract_page(page(head + script(blog(updates)), ""), PAGE, now=NOW)
    assert [p.headline for p in result.posts] == ["Titre 0", "Titre 1", "Titre 2"]
    assert any("broken block" in w for w in result.warnings)


def test_microdata_beside_json_ld_is_merged_into_one_structured_list() -> None:
    updates = [{"url": f"{PAGE}#block-0", "headline": "Titre 0", "datePublished": at(10)}]
    item = (
        '<article id="md-1" itemprop="liveBlogUpdate" itemscope itemtype="https://schema.org/'
        f'BlogPosting"><h2 itemprop="headline">Titre 1</h2><time itemprop="datePublished" '
        f'datetime="{at(11)}">11:00</time><div itemprop="articleBody">{TEXTS[1]}</div></article>'
    )
    result = extract_page(page(script(blog(updates)), article(0, when=at(10)) + item), PAGE)
    assert result.path == "structured"
    assert [p.headline for p in result.posts] == ["Titre 0", "Titre 1"]


def test_keys_that_only_count_posts_identify_nothing_but_creation_numbers_do() -> None:
    def updates(numbers: list[int]) -> list[dict]:
        return [
            {"url": f"{PAGE}#post{n}", "headline": f"T{i}", "datePublished": at(12 - i)}
            for i, n in enumerate(numbers)
        ]

    counted = extract_page(page(script(blog(updates([1, 2, 3]))), ""), PAGE, now=NOW)
    assert [p.key for p in counted.posts] == [f"{PAGE}#post{n}" for n in (1, 2, 3)]  # reported
    assert positional_keys(counted.posts) == {f"{PAGE}#post{n}" for n in (1, 2, 3)}
    stored = merge_page(counted.posts)  # storage: no key, the page's link
    assert len(stored) == 3 and all(k.startswith("fp:") for m in stored for k in m.keys)
    assert all(m.url == PAGE for m in stored)
    created = extract_page(page(script(blog(updates([3, 2, 1]))), ""), PAGE, now=NOW)
    assert [p.key for p in created.posts] == [f"{PAGE}#post{n}" for n in (3, 2, 1)]
    assert positional_keys(created.posts) == set()
    stored = merge_page(created.posts)
    assert [(m.url, m.keys[0]) for m in stored] == [
        (f"{PAGE}#post{n}", f"{PAGE}#post{n}") for n in (3, 2, 1)
    ]


def test_ids_matched_by_their_number_and_posts_without_ids_by_their_text() -> None:
    updates = [
        {"url": f"{PAGE}/#liveblogPost12345{n}", "articleBody": TEXTS[n], "datePublished": at(9)}
        for n in range(3)
    ]
    by_number = "".join(
        f'<div id="post-12345{n}" class="p"><span>10:0{n}</span><p>{TEXTS[n]}</p></div>'
        for n in range(3)
    )
    result = extract_page(page(script(blog(updates)), by_number), PAGE, now=NOW)
    assert [p.key for p in result.posts] == [f"{PAGE}/#liveblogPost12345{n}" for n in range(3)]
    assert [p.anchor for p in result.posts] == [f"{PAGE}#post-12345{n}" for n in range(3)]
    assert [(m.url, m.keys[0]) for m in merge_page(result.posts)] == [
        (f"{PAGE}#post-12345{n}", f"{PAGE}#post-12345{n}") for n in range(3)
    ]
    by_text = "".join(
        f'<div class="p"><time datetime="{at(10, n)}">10:0{n}</time><p>{TEXTS[n]}</p></div>'
        for n in range(3)
    )
    result = extract_page(page(script(blog(updates)), by_text), PAGE, now=NOW)
    # One date for all: each post's time comes from the HTML post with the same text.
    assert [p.published_at.minute for p in result.posts if p.published_at] == [0, 1, 2]


def test_a_coverage_end_equal_to_its_start_ends_nothing() -> None:
    data = blog([], coverageStartTime=at(11, 50), coverageEndTime=at(11, 50))
    result = extract_page(page(script(data), ""), PAGE, now=NOW)
    assert result.is_liveblog and not result.ended
    assert any("coverageEndTime" in w for w in result.warnings)
