"""crawler.extract.jsonld: LiveBlogPosting blocks → posts, broken blocks skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from lxml import etree

from crawler.extract.jsonld import extract_jsonld, parse_json_lenient
from storage.dedup_page import ambiguous_keys, merge_page

PAGE = "https://news.example/live/jsonld"
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
H16 = "35 PAYS VALIDENT LA “DÉCLARATION DE PARIS”"
B16 = (
    "Les 35 pays de la “Coalition des volontaires” ont validé mardi la “déclaration de Paris”."
    "\n\nLes garanties de sécurité sont “la clef”, a-t-il assuré lors d’une conférence de presse."
)


def update(n: int, headline: str = H16, body: str | None = B16, **extra: object) -> dict:
    item: dict[str, object] = {"@type": "BlogPosting", "@id": f"{PAGE}#post-{n}"}
    item["url"] = item["@id"]
    item["headline"] = headline
    if body is not None:
        item["articleBody"] = body
    item["datePublished"] = "2026-01-06T20:08:00+01:00"
    item["dateModified"] = "2026-01-06T20:15:00+01:00"
    item.update(extra)
    return item


def blog(updates: object, **extra: object) -> dict:
    data = {"@context": "https://schema.org", "@type": "LiveBlogPosting", "url": PAGE}
    data.update(extra)
    data["liveBlogUpdate"] = updates
    return data


def page(*blocks: object, raw: tuple[str, ...] = ()) -> etree._Element:
    scripts = [f'<script type="application/ld+json">{json.dumps(b)}</script>' for b in blocks]
    scripts += [f'<script type="application/ld+json">{r}</script>' for r in raw]
    html = f"<html><head>{''.join(scripts)}</head><body><p>x</p></body></html>"
    return etree.fromstring(html, etree.HTMLParser())


def test_updates_become_posts() -> None:
    root = page(blog([update(16), update(17, headline="DES TROUPES ALLEMANDES ?")]))
    result = extract_jsonld(root, PAGE, timezone="Europe/Paris", now=NOW)
    assert result.found and not result.ended and result.warnings == []
    first, second = result.posts
    assert first.key == first.url == f"{PAGE}#post-16"
    assert first.headline == H16
    assert first.body == B16
    assert first.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert first.updated_at == datetime(2026, 1, 6, 19, 15, tzinfo=UTC)
    assert second.key == f"{PAGE}#post-17" and second.headline == "DES TROUPES ALLEMANDES ?"


def test_graph_type_list_and_single_update() -> None:
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "url": PAGE},
            {"@type": ["LiveBlogPosting", "NewsArticle"], "liveBlogUpdate": update(3)},
        ],
    }
    result = extract_jsonld(page(data), PAGE, now=NOW)
    assert [p.key for p in result.posts] == [f"{PAGE}#post-3"]


def test_broken_block_is_skipped_and_the_valid_one_kept() -> None:
    root = page(blog([update(16)]), raw=('{"@type": "BreadcrumbList", "itemListElement": [}',))
    result = extract_jsonld(root, PAGE, now=NOW)
    assert len(result.posts) == 1
    assert result.warnings and result.warnings[0].startswith("jsonld: skipped a broken block")


def test_lenient_json() -> None:
    assert parse_json_lenient('{"a": [1, 2,], "b": {"c": 1,},}') == {"a": [1, 2], "b": {"c": 1}}
    assert parse_json_lenient('{"a": "line\nbreak\ttab"}') == {"a": "line\nbreak\ttab"}
    assert parse_json_lenient('<!--\n{"a": 1}\n-->') == {"a": 1}
    assert parse_json_lenient('//<![CDATA[\n{"a": 1};\n//]]>') == {"a": 1}
    assert parse_json_lenient('{"a": 1}\n{"b": 2}') == [{"a": 1}, {"b": 2}]
    with pytest.raises(ValueError):
        parse_json_lenient("{not json")


def test_control_characters_inside_a_block() -> None:
    raw = json.dumps(blog([update(1)])).replace("Les 35", "Les\x0b 35")
    result = extract_jsonld(page(raw=(raw,)), PAGE, now=NOW)
    assert result.posts[0].body.startswith("Les 35 pays")


def test_html_body_missing_body_and_entities() -> None:
    updates = [
        update(1, body="<p>Premier paragraphe.</p><p>Second &amp; dernier.</p>"),
        update(2, body=None),
        update(3, headline="Loud &quot;bang&quot;", body="A &quot;loud bang&quot; was heard"),
    ]
    posts = extract_jsonld(page(blog(updates)), PAGE, now=NOW).posts
    assert posts[0].body == "Premier paragraphe.\n\nSecond & dernier."
    assert posts[1].body == ""
    assert posts[2].headline == 'Loud "bang"' and posts[2].body == 'A "loud bang" was heard'


def test_missing_headline_and_dates() -> None:
    item = {"@type": "BlogPosting", "url": f"{PAGE}#post-22", "articleBody": "Ce live est terminé."}
    post = extract_jsonld(page(blog([item])), PAGE, now=NOW).posts[0]
    assert post.headline == "" and post.published_at is None and post.updated_at is None


@pytest.mark.parametrize(
    ("end", "ended"),
    [("2026-01-07T00:00:00+01:00", True), ("2026-01-08T00:00:00+01:00", False), (None, False)],
)
def test_coverage_end(end: str | None, ended: bool) -> None:
    extra = {"coverageStartTime": "2026-01-06T06:33:00+01:00"}
    if end:
        extra["coverageEndTime"] = end
    result = extract_jsonld(page(blog([update(1)], **extra)), PAGE, now=NOW)
    assert result.ended is ended
    assert result.coverage_start == datetime(2026, 1, 6, 5, 33, tzinfo=UTC)


def test_live_blog_without_updates_yet() -> None:
    result = extract_jsonld(page(blog([])), PAGE, now=NOW)
    assert result.found and result.posts == []
    assert not extract_jsonld(page({"@type": "NewsArticle"}), PAGE, now=NOW).found


def test_keys_bare_ids_relative_urls_and_tracking() -> None:
    updates = [
        {"@type": "BlogPosting", "@id": "646219928f08e408b758af95", "headline": "a"},
        {"@type": "BlogPosting", "url": "#post-2", "headline": "b"},
        {"@type": "BlogPosting", "url": f"{PAGE}?utm_source=x#post-3", "headline": "c"},
    ]
    keys = [p.key for p in extract_jsonld(page(blog(updates)), PAGE, now=NOW).posts]
    assert keys == [f"{PAGE}#646219928f08e408b758af95", f"{PAGE}#post-2", f"{PAGE}#post-3"]


def test_keys_that_identify_nothing_are_told_and_identify_nothing_in_storage() -> None:
    updates = [
        {"@type": "BlogPosting", "url": PAGE, "headline": "first"},
        {"@type": "BlogPosting", "url": f"{PAGE}#dup", "headline": "second"},
        {"@type": "BlogPosting", "url": f"{PAGE}#dup", "headline": "third"},
    ]
    result = extract_jsonld(page(blog(updates)), PAGE, now=NOW)
    assert [p.key for p in result.posts] == [None, f"{PAGE}#dup", f"{PAGE}#dup"]  # the page: none
    assert [p.url for p in result.posts] == [PAGE, f"{PAGE}#dup", f"{PAGE}#dup"]
    assert any("shared" in w for w in result.warnings)
    assert ambiguous_keys(result.posts) == {f"{PAGE}#dup"}
    stored = merge_page(result.posts)  # three posts, none of them known by the shared key
    assert len(stored) == 3 and all(k.startswith("fp:") for m in stored for k in m.keys)
