"""crawler.text: HTML fragments to paragraphs, chrome left out; inline cleaning."""

from __future__ import annotations

import pytest
from lxml import etree

from crawler.text import any_to_text, clean_inline, html_to_text, loose_key, plain_to_text

P1 = "Les troupes allemandes pourraient participer à la force multinationale."
P2 = "Une fois un accord trouvé, le parlement “décidera”, a-t-il déclaré."


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (f"<p>{P1}</p><p>{P2}</p>", f"{P1}\n\n{P2}"),
        ("<p>  Hello \n\t <b>big</b>\n world </p>", "Hello big world"),
        ("<div>first<br>second<br/><br/>third</div>", "first\n\nsecond\n\nthird"),
        (
            "<div>loose text<div>inner block</div>tail text</div>",
            "loose text\n\ninner block\n\ntail text",
        ),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("<h3>Title</h3><p>text</p>", "Title\n\ntext"),
        ("<p>A&nbsp;B&#160;C &amp; D &eacute;t&eacute;</p>", "A B C & D été"),
        ("<p>Ukr\u200baine\u200d et\u00a0Kiev\u202f!</p>", "Ukraine et Kiev !"),
        ("<p>\ufeffdébut</p>", "début"),
        ("<p></p><p>   </p><p>x</p>", "x"),
        ("<p>AT&amp;amp;T &lt;b&gt; stays</p>", "AT&amp;T <b> stays"),  # decoded once
        ("", ""),
        ("plain text, no tags", "plain text, no tags"),
        ("<p>a</p></div></body><p>b</p>", "a\n\nb"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\n\nc"),
    ],
)
def test_paragraphs(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


CHROME = [
    "<script>var x = 'script text';</script>",
    "<style>.a{color:red}</style>",
    "<noscript>Activez JavaScript</noscript>",
    "<template><p>tpl</p></template>",
    '<iframe src="https://www.youtube.com/embed/x">iframe text</iframe>',
    "<svg><text>svg text</text></svg>",
    "<button>Partager</button>",
    "<form><label>Email</label><input></form>",
    "<nav><a href='/'>Accueil</a></nav>",
    "<footer>© TF1</footer>",
    "<header><span>Par la rédaction</span></header>",
    '<figure><img src="x.jpg" alt="photo"><figcaption>AFP</figcaption></figure>',
    '<blockquote class="twitter-tweet"><p>I have already arrived in France.</p>'
    "— Volodymyr Zelenskyy (@ZelenskyyUa) January 6, 2026</blockquote>",
    '<blockquote class="instagram-media"><p>insta</p></blockquote>',
    '<blockquote class="tiktok-embed"><p>tiktok</p></blockquote>',
    '<div class="share-bar"><a href="#">Facebook</a><a href="#">X</a></div>',
    '<div class="social-links">Suivez-nous</div>',
    '<div id="partage">Partager cet article</div>',
    '<aside class="read-also"><span>Lire aussi</span><a href="/x">Ukraine</a></aside>',
    '<div class="lire-aussi">Lire aussi: autre chose</div>',
    "<p>À lire aussi : Ukraine, le plan de paix</p>",
    "<p>Read more: the latest on the war</p>",
    "<p>Lesen Sie auch: Nahost-Ticker</p>",
    '<div class="ad-slot">Publicité</div>',
    '<div class="pub">Publicité</div>',
    '<div id="cookie-banner">Nous utilisons des cookies.</div>',
    '<div class="consent-box">Accepter</div>',
    '<div class="newsletter-signup">Inscrivez-vous à la newsletter</div>',
    '<div class="video-player"><div>Garanties de sécurité</div>Source : TF1 Info</div>',
    '<div class="teaser-lives"><span>Suivez nos directs du moment :</span></div>',
    '<span class="credit">Hans Lucas via AFP</span>',
    "<div hidden>hidden text</div>",
    '<div style="display: none">invisible</div>',
    '<span aria-hidden="true">icon</span>',
    "<!-- a comment -->",
]


@pytest.mark.parametrize("chrome", CHROME)
def test_chrome_is_dropped(chrome: str) -> None:
    html = f"<div><p>{P1}</p>{chrome}<p>{P2}</p></div>"
    assert html_to_text(html) == f"{P1}\n\n{P2}"


def test_read_also_label_takes_its_link_card() -> None:
    html = (
        f"<p>{P1}</p><p><strong>Lire aussi</strong></p>"
        '<p><a href="/ukraine.html">Ukraine : Washington envoie Steve Witkoff à Paris</a></p>'
        f"<p>{P2}</p>"
    )
    assert html_to_text(html) == f"{P1}\n\n{P2}"


@pytest.mark.parametrize(
    "kept",
    [
        "<blockquote>“Nous participerons à la régénération de l’armée”</blockquote>",
        '<div class="header-text">Texte</div>',
        '<div class="download">Texte</div>',
        '<div class="thread">Texte</div>',
        '<p class="lead">Texte</p>',
        "<p>Lire attentivement ce texte</p>",
    ],
)
def test_real_content_is_kept(kept: str) -> None:
    inner = etree.fromstring(f"<div>{kept}</div>", etree.HTMLParser()).find(".//div")
    assert html_to_text(f"<div>{kept}</div>") == html_to_text(inner)
    assert html_to_text(f"<div>{kept}</div>") != ""


def test_element_input_and_skip() -> None:
    root = etree.fromstring(
        "<html><body><article class='social'><h2>Titre</h2><time>20:08</time>"
        f"<p>{P1}</p></article></body></html>",
        etree.HTMLParser(),
    )
    article = root.find(".//article")
    # The element passed in is read even if its own class looks like chrome.
    assert html_to_text(article) == f"Titre\n\n20:08\n\n{P1}"
    skip = {article.find("h2"), article.find("time")}
    assert html_to_text(article, skip=skip) == P1
    assert html_to_text(None) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  35 PAYS   VALIDENT\nLA “DÉCLARATION” ", "35 PAYS VALIDENT LA “DÉCLARATION”"),
        ("A&amp;B &quot;x&quot; &#8217;", 'A&B "x" ’'),
        ("Zero\u200bwidth\u00a0nbsp", "Zerowidth nbsp"),
        ("Breaking: <b>big</b> news", "Breaking: big news"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_inline(text: str | None, expected: str) -> None:
    assert clean_inline(text) == expected


def test_plain_and_any_text() -> None:
    assert plain_to_text(f"{P1}\n\n{P2}") == f"{P1}\n\n{P2}"
    assert plain_to_text(f"  {P1}\r\n\r\n\r\n {P2} ") == f"{P1}\n\n{P2}"
    assert plain_to_text("line one\nline two") == "line one\n\nline two"
    assert plain_to_text("a &quot;loud bang&quot;") == 'a "loud bang"'
    assert any_to_text(f"<p>{P1}</p><p>{P2}</p>") == f"{P1}\n\n{P2}"
    assert any_to_text("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"


def test_loose_key() -> None:
    assert loose_key("35 PAYS VALIDENT LA “DÉCLARATION DE PARIS”") == loose_key(
        "35 pays valident la «déclaration de Paris»"
    )
    assert loose_key("L’essentiel") == "l essentiel"
    assert loose_key("Зеленський") == "зеленськии"
    assert loose_key("") == ""
