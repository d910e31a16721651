"""crawler.extract.page: extractor order, body completion, key moments, encodings, paging."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.extract.page import extract_page
from crawler.models import Selectors
from storage.dedup_page import merge_page

BASE = "https://news.example"
PAGE = f"{BASE}/live/jsonld"
PARIS = "Europe/Paris"
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
H16 = "35 PAYS VALIDENT LA “DÉCLARATION DE PARIS”"
H17 = "DES TROUPES ALLEMANDES DANS LA FORCE MULTINATIONALE ?"
P16 = "Les 35 pays de la “Coalition des volontaires” ont validé mardi la “déclaration de Paris”."
P17 = "Les troupes allemandes pourraient participer à la force multinationale, a déclaré Merz."
P17B = "Une fois un accord trouvé, le parlement “décidera de la contribution allemande”."
CHROME = (
    '<blockquote class="twitter-tweet"><p>tweet text</p>— Zelensky (@ZelenskyyUa)</blockquote>'
    '<figure><img src="x.jpg"><figcaption><span class="credit">AFP</span></figcaption></figure>'
    '<aside class="read-also"><span>Lire aussi</span><a href="/x.html">Autre</a></aside>'
)
SHARE = '<div class="share-bar"><button>Partager</button></div>'


def jsonld_page(updates: list[dict], *, extra_html: str = "", end: str | None = None) -> str:
    data: dict[str, object] = {"@context": "https://schema.org", "@type": "LiveBlogPosting"}
    if end:
        data["coverageEndTime"] = end
    data["liveBlogUpdate"] = updates
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []}
    articles = "".join(
        f'<article class="post" id="post-{n}"><h2 class="post-title">{h}</h2>'
        f'<time datetime="2026-01-06T20:08:00+01:00">20:08</time>'
        f'<div class="post-content">{body}</div>{SHARE}</article>'
        for n, h, body in [
            (17, H17, f"<p>{P17}</p>{CHROME}<p>{P17B}</p>"),
            (16, H16, f"<p>{P16}</p>"),
        ]
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<script type="application/ld+json">{json.dumps(data)}</script>'
        f'<script type="application/ld+json">{json.dumps(crumbs)}</script>'
        f'<link rel="next" href="/live/jsonld?page=2"></head><body>'
        '<div id="cookie-banner">Cookies</div><main><h1>EN DIRECT</h1>'
        '<section class="key-events"><h2>Les éléments marquants</h2>'
        f'<ul><li><a href="#post-16">{H16}</a></li></ul></section>'
        f'<section class="live-stream">{articles}</section>{extra_html}</main></body></html>'
    )


def update(n: int, headline: str, body: str | None) -> dict:
    item = {"@type": "BlogPosting", "@id": f"{PAGE}#post-{n}", "url": f"{PAGE}#post-{n}"}
    item |= {"headline": headline, "datePublished": "2026-01-06T20:08:00+01:00"}
    if body is not None:
        item["articleBody"] = body
    return item


def test_jsonld_page() -> None:
    updates = [update(17, H17, f"{P17}\n\n{P17B}"), update(16, H16, P16)]
    result = extract_page(
        jsonld_page(updates, end="2026-01-07T00:00:00+01:00"), PAGE, timezone=PARIS, now=NOW
    )
    assert (result.path, result.is_liveblog, result.ended) == ("jsonld", True, True)
    assert result.next_url == f"{PAGE}?page=2"
    troops, pays = result.posts
    assert (troops.key, troops.headline, troops.body) == (
        f"{PAGE}#post-17",
        H17,
        f"{P17}\n\n{P17B}",
    )
    assert troops.published_at == pays.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert pays.highlighted and not troops.highlighted


def test_missing_jsonld_bodies_come_from_the_html_post() -> None:
    updates = [update(17, H17, None), update(16, H16, "")]
    troops, pays = extract_page(jsonld_page(updates), PAGE, timezone=PARIS, now=NOW).posts
    assert troops.body == f"{P17}\n\n{P17B}"  # chrome left out
    assert pays.body == P16


def test_truncated_jsonld_body_is_completed_but_a_complete_one_kept() -> None:
    cut = f"{P17}\n\nUne fois un accord trouvé, le parl"
    troops, pays = extract_page(
        jsonld_page([update(17, H17, cut), update(16, H16, "Texte propre au JSON-LD.")]), PAGE
    ).posts
    assert troops.body == f"{P17}\n\n{P17B}"
    assert pays.body == "Texte propre au JSON-LD."


def test_bare_ids_are_told_with_the_anchor_of_their_html_block() -> None:
    html = (
        '<html><head><script type="application/ld+json">'
        + json.dumps(
            {
                "@type": "LiveBlogPosting",
                "liveBlogUpdate": [
                    {"@type": "BlogPosting", "@id": "646219928f08e4", "headline": "G7"}
                ],
            }
        )
        + '</script></head><body><div id="key-events-carousel"><a href="?filterKeyEvents=false'
        '#block-646219928f08e4">G7</a></div><article id="block-646219928f08e4"><header>12.50 BST'
        "</header><p>The EU is ready to sanction.</p></article></body></html>"
    )
    [post] = extract_page(html, PAGE).posts
    assert post.key == f"{PAGE}#646219928f08e4"  # as published
    assert post.anchor == f"{PAGE}#block-646219928f08e4"  # the element it names
    assert post.body == "The EU is ready to sanction."
    assert post.highlighted
    [merged] = merge_page([post])  # storage knows the post by its block's anchor first
    assert merged.url == merged.keys[0] == f"{PAGE}#block-646219928f08e4"


MD = 'itemprop="liveBlogUpdate" itemscope itemtype="https://schema.org/BlogPosting"'


def md_article(element_id: str, headline: str, body: str) -> str:
    return (
        f'<article id="{element_id}" {MD}><h2 itemprop="headline">{headline}</h2>'
        '<time itemprop="datePublished" datetime="2026-01-06T19:08:00Z">20:08</time>'
        f'<div itemprop="articleBody">{body}</div>{SHARE}</article>'
    )


def test_microdata_copy_joins_its_stream_twin() -> None:
    html = (
        '<html><body><main itemscope itemtype="https://schema.org/LiveBlogPosting">'
        '<section class="highlights"><h2>Les éléments marquants</h2>'
        + md_article("post-16-hl", H16, f"<p>{P16}</p>{CHROME}")
        + "</section><section>"
        + md_article("post-17", H17, f"<p>{P17}</p>")
        + md_article("post-16", H16, f"<p>{P16}</p>")
        + '</section><nav><a rel="next" href="?page=2">Plus anciens</a></nav></main></body></html>'
    )
    url = f"{BASE}/live/microdata"
    result = extract_page(html, url, timezone=PARIS, now=NOW)
    assert result.path == "microdata" and result.is_liveblog and not result.ended
    copy, troops, pays = result.posts
    assert (copy.key, pays.key) == (f"{url}#post-16-hl", f"{url}#post-16")  # as published
    assert copy.in_key_moments and copy.highlighted
    assert pays.highlighted and not pays.in_key_moments and not troops.highlighted
    assert (copy.headline, copy.body) == (pays.headline, pays.body) == (H16, P16)
    assert result.next_url == f"{url}?page=2"
    troops_merged, pays_merged = merge_page(result.posts)  # the copy joins its stream twin
    assert troops_merged.post is troops and not troops_merged.highlighted
    assert pays_merged.highlighted and pays_merged.url == f"{url}#post-16"
    assert (pays_merged.post.headline, pays_merged.post.body) == (H16, P16)
    assert [k for k in pays_merged.keys if not k.startswith("fp:")] == [
        f"{url}#post-16",
        f"{url}#post-16-hl",
    ]


def test_keys_do_not_depend_on_the_page_number() -> None:
    html = (
        '<html><head><link rel="prev" href="/live/paged"></head><body>'
        '<main itemscope itemtype="https://schema.org/LiveBlogPosting">'
        + md_article("post-5", H17, f"<p>{P17}</p>")
        + "</main></body></html>"
    )
    [post] = extract_page(html, f"{BASE}/live/paged?page=2", now=NOW).posts
    assert post.key == post.url == f"{BASE}/live/paged#post-5"


def plain_entry(headline: str, time_text: str, date_text: str, body: str) -> str:
    title = f'<h3 class="entry-title">{headline}</h3>' if headline else ""
    return (
        f'<div class="entry">{title}<div class="entry-when"><span class="entry-time">{time_text}'
        f'</span> <span class="entry-date">{date_text}</span></div>'
        f'<div class="entry-text">{body}</div>{SHARE}</div>'
    )


PLAIN = Selectors(
    post="div.entry", headline=".entry-title", published=".entry-when", body=".entry-text"
)


def test_configured_selectors_win_and_copies_are_marked() -> None:
    stream = (
        plain_entry("", "00:00", "7 janvier 2026", "<p>Ce live est à présent terminé.</p>")
        + plain_entry(H17, "20:08", "6 janvier 2026", f"<p>{P17}</p>")
        + plain_entry(H16, "20:08", "6 janvier 2026", f"<p>{P16}</p>")
    )
    html = (
        '<html><head><script type="application/ld+json">{"@type": "LiveBlogPosting"}</script>'
        '</head><body><section class="elements-marquants"><h2>Les éléments marquants</h2>'
        + plain_entry(H16, "20:08", "6 janvier 2026", f"<p>{P16}</p>")
        + f'</section><section class="minute-par-minute">{stream}</section></body></html>'
    )
    result = extract_page(html, f"{BASE}/live/plain", timezone=PARIS, selectors=PLAIN, now=NOW)
    assert result.path == "selectors" and result.is_liveblog
    _, closing, troops, pays = result.posts
    assert [p.highlighted for p in result.posts] == [True, False, False, True]
    assert closing.headline == "" and closing.body == "Ce live est à présent terminé."
    assert closing.published_at == datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
    assert troops.published_at == pays.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert troops.headline != pays.headline  # same minute, two posts


def test_windows_1252_bytes_with_the_encoding_passed() -> None:
    updates = [update(16, "Déclaration de Paris – “35 pays”", "Été ; 20 €")]
    html = jsonld_page(updates).replace('<meta charset="utf-8">', "")
    data = html.encode("cp1252", errors="replace")
    posts = extract_page(data, PAGE, encoding="windows-1252").posts
    post = next(p for p in posts if p.key == f"{PAGE}#post-16")
    assert post.headline == "Déclaration de Paris – “35 pays”"
    assert post.body == "Été ; 20 €"
    # The HTML shows post 17 too, which the JSON-LD leaves out: the union keeps it.
    assert [p.key for p in posts] == [f"{PAGE}#post-16", f"{PAGE}#post-17"]


def test_meta_charset_and_undeclared_bytes() -> None:
    html = "<html><head><meta charset='iso-8859-1'></head><body><p>x</p></body></html>"
    body = html.replace("<p>x</p>", jsonld_script("Été"))
    assert extract_page(body.encode("cp1252"), PAGE).posts[0].headline == "Été"
    undeclared = body.replace("<meta charset='iso-8859-1'>", "")
    assert extract_page(undeclared.encode("utf-8"), PAGE).posts[0].headline == "Été"
    result = extract_page(undeclared.encode("cp1252"), PAGE)
    assert result.posts[0].headline == "Été"
    assert any("windows-1252" in w for w in result.warnings)


def jsonld_script(headline: str) -> str:
    item = {"@type": "BlogPosting", "headline": headline}
    data = {"@type": "LiveBlogPosting", "liveBlogUpdate": [item]}
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def test_zero_width_spaces_in_headlines() -> None:
    script = jsonld_script("EN\u200b DIRECT\u00a0!")
    [post] = extract_page(f"<html><head>{script}</head></html>", PAGE).posts
    assert post.headline == "EN DIRECT !"


@pytest.mark.parametrize("html", ["", "<html></html>", "<p>Rien ici</p>", b"\x00\x01garbage"])
def test_pages_without_posts(html: str | bytes) -> None:
    result = extract_page(html, PAGE, now=NOW)
    assert result.posts == [] and result.path == "" and not result.is_liveblog


def test_a_500_post_page() -> None:
    """Size check only; timing is measured by tests/crawler/perf_check.py, not asserted."""
    updates = [update(n, f"Titre {n}", f"Paragraphe {n}.") for n in range(500)]
    result = extract_page(jsonld_page(updates), PAGE, timezone=PARIS, now=NOW)
    assert len(result.posts) == 500
    assert len({p.key for p in result.posts}) == 500


def test_declared_live_blog_before_its_first_post() -> None:
    html = '<html><head><script type="application/ld+json">{"@type": "LiveBlogPosting"}</script>'
    result = extract_page(
        html + "</head><body><p>Le direct commence bientôt.</p></body></html>", PAGE
    )
    assert result.posts == [] and result.is_liveblog and result.path == "jsonld"


def test_microdata_items_under_an_empty_json_ld_declaration() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type": "LiveBlogPosting"}</script>'
        f"</head><body><main>{md_article('post-17', H17, f'<p>{P17}</p>')}</main></body></html>"
    )
    result = extract_page(html, PAGE)
    assert result.path == "microdata" and [p.body for p in result.posts] == [P17]
