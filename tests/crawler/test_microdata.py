"""crawler.extract.microdata: itemscope LiveBlogPosting → posts, nested items kept apart."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lxml import etree

from crawler.extract.microdata import extract_microdata, properties

PAGE = "https://news.example/live/microdata"
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
BP = 'itemprop="liveBlogUpdate" itemscope itemtype="https://schema.org/BlogPosting"'
P1 = "Les 35 pays de la “Coalition des volontaires” ont validé mardi la “déclaration de Paris”."
P2 = "Les garanties de sécurité sont “la clef”, a-t-il assuré lors d’une conférence de presse."
TWEET = (
    '<blockquote class="twitter-tweet"><p>I have already arrived in France.</p>'
    "— Volodymyr Zelenskyy (@ZelenskyyUa) January 6, 2026</blockquote>"
)
FIGURE = (
    '<figure><img src="a.jpg"><figcaption><span class="credit">AFP</span></figcaption></figure>'
)
SHARE = '<div class="share-bar"><button>Partager</button><a href="#">X</a></div>'


def article(element_id: str, headline: str, body: str, *, modified: str = "") -> str:
    title = f'<h2 itemprop="headline">{headline}</h2>' if headline else ""
    meta = f'<meta itemprop="dateModified" content="{modified}">' if modified else ""
    return (
        f'<article id="{element_id}" {BP}>{title}'
        '<time itemprop="datePublished" datetime="2026-01-06T19:08:00Z">20:08</time>'
        f'{meta}<div itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">La rédaction</span></div>'
        f'<div itemprop="articleBody">{body}</div>{SHARE}</article>'
    )


def page(main: str, end: str = "") -> etree._Element:
    meta = f'<meta itemprop="coverageEndTime" content="{end}">' if end else ""
    html = (
        "<html><body><main itemscope itemtype='https://schema.org/LiveBlogPosting'>"
        f"<h1 itemprop='headline'>EN DIRECT</h1>{meta}{main}</main></body></html>"
    )
    return etree.fromstring(html, etree.HTMLParser())


def test_stream_items_with_chrome() -> None:
    body = f"<p>{P1}</p>{TWEET}{FIGURE}<p>{P2}</p>"
    root = page(article("post-16", "35 PAYS VALIDENT", body, modified="2026-01-06T19:30:00Z"))
    result = extract_microdata(root, PAGE, timezone="Europe/Paris", now=NOW)
    assert result.is_liveblog and not result.ended
    [found] = result.found
    post = found.post
    assert found.element is not None and found.element.get("id") == "post-16"
    assert post.key == post.url == f"{PAGE}#post-16"
    assert post.headline == "35 PAYS VALIDENT"
    assert post.body == f"{P1}\n\n{P2}"
    assert post.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert post.updated_at == datetime(2026, 1, 6, 19, 30, tzinfo=UTC)


def test_nested_item_properties_stay_with_their_item() -> None:
    root = page(article("post-1", "BONJOUR", f"<p>{P1}</p>"))
    item = root.find(".//article")
    props = properties(item)
    assert set(props) == {"headline", "datePublished", "author", "articleBody"}
    assert "name" not in props  # the author's name belongs to the Person item


def test_key_moments_copy_and_stream_item_are_both_read() -> None:
    root = page(
        '<section class="highlights"><h2>Les éléments marquants</h2>'
        + article("post-16-hl", "35 PAYS", f"<p>{P1}</p>")
        + "</section><section class='stream'>"
        + article("post-17", "DES TROUPES", f"<p>{P2}</p>")
        + article("post-16", "35 PAYS", f"<p>{P1}</p>")
        + "</section>"
    )
    keys = [f.post.key for f in extract_microdata(root, PAGE, now=NOW).found]
    assert keys == [f"{PAGE}#post-16-hl", f"{PAGE}#post-17", f"{PAGE}#post-16"]


def test_closing_post_without_headline() -> None:
    root = page(article("post-22", "", "<p>Ce live est à présent terminé.</p>"))
    [found] = extract_microdata(root, PAGE, now=NOW).found
    assert found.post.headline == "" and found.post.body == "Ce live est à présent terminé."


def test_coverage_end_time() -> None:
    root = page(article("post-1", "a", "<p>b</p>"), end="2026-01-06T23:00:00Z")
    result = extract_microdata(root, PAGE, now=NOW)
    assert result.ended and result.coverage_end == datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
    assert not extract_microdata(root, PAGE, now=datetime(2026, 1, 6, tzinfo=UTC)).ended


def test_keys_from_itemid_or_url_and_text_dates() -> None:
    html = (
        f'<div {BP} itemid="/live#u1"><h3 itemprop="headline">A</h3>'
        '<span itemprop="datePublished">20:08</span><p>text a</p></div>'
        f'<div {BP}><h3 itemprop="headline">B</h3><a itemprop="url" href="#u2">lien</a>'
        '<div itemprop="articleBody">text b</div></div>'
        f'<div {BP}><h3 itemprop="headline">C</h3><div itemprop="articleBody">c</div></div>'
    )
    result = extract_microdata(
        page(html), PAGE, timezone="Europe/Paris", now=NOW, default_date=date(2026, 1, 6)
    )
    a, b, c = (f.post for f in result.found)
    assert a.key == "https://news.example/live#u1"
    assert a.body == "text a"  # no articleBody: the item's text minus headline and time
    assert a.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert b.key == f"{PAGE}#u2" and b.body == "text b"
    assert c.key is None and c.url == PAGE


def test_page_without_microdata() -> None:
    root = etree.fromstring("<html><body><p>x</p></body></html>", etree.HTMLParser())
    result = extract_microdata(root, PAGE, now=NOW)
    assert not result.is_liveblog and result.found == []
