"""Flat tickers in paragraphs (#17): a time-prefixed element starts a post, the siblings after
it belong to it, whatever the tag; lead bullets, notes on the times, promos, day lines and
credits are no posts and no post text. And what must not be read as such a ticker.

Pages are our own, in the styles of a French regional site (WordPress), a German regional
ticker, an English local paper and an AMP page, inside a full outlet shell (outlet_pages.py).
No timezone is configured: each page tells its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.documents import NoPostsError, extract_document
from crawler.extract.page import extract_page
from crawler.models import SourceSpec
from tests.crawler.outlet_pages import NOW, shell

FR_META = (
    '<meta property="article:published_time" content="2026-03-09T21:00:00+01:00">'
    '<meta property="article:modified_time" content="2026-03-10T14:35:00+01:00">'
)
FRENCH = shell(
    '<div class="entry-content">'
    "<p><strong>L'essentiel</strong></p><ul><li>Tempête Zora : 40 000 foyers privés"
    " d'électricité en Bretagne</li><li>Vigilance orange levée dans trois départements</li>"
    "<li>Les trains reprennent progressivement sur la ligne Rennes-Brest</li></ul>"
    "<p><em>Toutes les heures sont données en heure de Paris.</em></p>"
    "<p><strong>14h32 -</strong> Les pompiers ont effectué plus de 300 interventions depuis ce"
    " matin, selon la préfecture du Finistère.</p>"
    "<p>La plupart concernent des chutes d'arbres sur les routes départementales.</p>"
    "<p>Aucun blessé grave n'est à déplorer à cette heure.</p>"
    "<p><strong>13h58 –</strong> Enedis annonce que 12 000 foyers ont déjà été réalimentés.</p>"
    "<p>Les techniciens venus de toute la France restent mobilisés jusqu'à jeudi.</p>"
    "<p><strong>Inscrivez-vous à notre newsletter</strong> pour recevoir chaque matin"
    " l'essentiel de l'actualité de votre région.</p>"
    "<p><strong>13h15 -</strong> Le trafic ferroviaire reprend entre Rennes et Saint-Brieuc,"
    " avec des retards d'environ trente minutes.</p>"
    "<p><strong>11h02 -</strong> Le préfet a levé la vigilance orange pour le Morbihan, les"
    " Côtes-d'Armor et l'Ille-et-Vilaine.</p>"
    "<p><strong>Lundi 9 mars</strong></p>"
    "<p><strong>22h40 -</strong> Les rafales ont atteint 146 km/h à la pointe du Raz.</p>"
    "<p>Un record pour un mois de mars selon Météo-France.</p>"
    "<p><strong>21h05 -</strong> Météo-France place quatre départements en vigilance orange"
    " vents violents à partir de minuit.</p>"
    "<p>Avec AFP</p>"
    '<ul><li><a href="/bretagne/a.html">Tempête : les images impressionnantes</a></li>'
    '<li><a href="/bretagne/b.html">Quelles indemnisations après la tempête ?</a></li>'
    '<li><a href="/bretagne/c.html">Les conseils pour sécuriser son jardin</a></li></ul>'
    "</div>",
    lang="fr",
    host="www.quotidien-ouest.fr",
    title="DIRECT. Tempête Zora : suivez l'évolution de la situation",
    head=FR_META,
)

GERMAN = shell(
    '<div class="article-body">'
    "<p>Das Sturmtief zieht über Norddeutschland. Wir berichten im Ticker.</p>"
    "<p><strong>14.32 Uhr: Sturm erreicht Hamburg</strong></p>"
    "<p>Die Feuerwehr meldet mehr als 200 Einsätze im Stadtgebiet.</p>"
    "<p>Der Fährverkehr auf der Elbe ist eingestellt.</p>"
    "<p><b>13.05 Uhr:</b> Die Deutsche Bahn stellt den Fernverkehr zwischen Hamburg und"
    " Berlin vorübergehend ein.</p>"
    "<p>Reisende sollen ihre Fahrt verschieben, Tickets bleiben gültig.</p>"
    "<h3>Montag, 9. März</h3>"
    "<p><b>21.40 Uhr:</b> Der Deutsche Wetterdienst warnt vor Orkanböen an der Küste.</p>"
    "<p><b>19.15 Uhr:</b> Schulen in Schleswig-Holstein bleiben am Dienstag geschlossen.</p>"
    "<p>Das teilte das Bildungsministerium in Kiel mit.</p>"
    "<p><em>Mit Material von dpa und AFP.</em></p>"
    "<h2>Mehr zum Thema</h2>"
    '<p><a href="/a.html">Sturmschäden: Was zahlt die Versicherung?</a></p>'
    "</div>",
    lang="de",
    host="www.nordkurier-beispiel.de",
    title="Sturmtief Zora im Liveticker",
    head='<meta property="article:modified_time" content="2026-03-10T14:40:00+01:00">',
)

ENGLISH = shell(
    '<div class="article-body">'
    "<p>Storm Zora is battering the south-west. Follow the latest below.</p>"
    "<p><em>All times are UK.</em></p>"
    "<p><strong>14:32 –</strong> Devon and Cornwall Police say several roads are closed by"
    " fallen trees near Bodmin.</p>"
    "<p>Drivers are asked to avoid the A30 between Indian Queens and Temple.</p>"
    "<p>Reuters contributed to this report.</p>"
    "<p><strong>13:50 –</strong> Around 8,000 homes are without power, National Grid says.</p>"
    "<p>Sign up to our free Breaking News newsletter to get the latest in your inbox.</p>"
    "<p><strong>12:15 –</strong> The Met Office has extended its amber warning for wind"
    " until 9pm tonight.</p>"
    "<p>Gusts of 80mph are possible on exposed coasts.</p>"
    "<p><strong>10:02 –</strong> Schools in parts of Cornwall have closed for the day.</p>"
    "<p>With agency material</p>"
    "</div>",
    lang="en",
    html_lang="en-GB",
    host="www.westcountry-example.co.uk",
    title="Storm Zora live: roads closed and homes without power",
    head='<meta property="article:modified_time" content="2026-03-10T14:35:00Z">',
)

AMP = shell(
    '<div class="live">'
    + "".join(
        f'<div class="txt"><span class="hr">{t}</span> {first}</div><div class="txt">{more}</div>'
        for t, first, more in (
            ("16:05", "Die Polizei sperrt die Innenstadt.", "Grund ist ein Bombenfund."),
            ("15:40", "Der Kampfmittelräumdienst ist vor Ort.", "Die Entschärfung läuft."),
            ("15:12", "Anwohner werden evakuiert.", "Eine Notunterkunft ist geöffnet."),
        )
    )
    + "</div>",
    lang="de",
    host="amp.stadtanzeiger-beispiel.de",
    title="Bombenfund: Innenstadt gesperrt",
    head='<meta property="article:modified_time" content="2026-03-10T16:10:00+01:00">',
)


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_french_ticker_of_paragraphs_with_a_day_line_promo_and_credit() -> None:
    result = extract_page(FRENCH, "https://www.quotidien-ouest.fr/direct-tempete", now=NOW)
    assert result.path == "detected" and result.timezone == "Europe/Paris"
    posts = result.posts
    assert [p.published_at for p in posts] == [
        at(10, 13, 32), at(10, 12, 58), at(10, 12, 15), at(10, 10, 2),
        at(9, 21, 40), at(9, 20, 5),
    ]  # fmt: skip
    assert posts[0].body == (
        "Les pompiers ont effectué plus de 300 interventions depuis ce matin, selon la"
        " préfecture du Finistère.\n\nLa plupart concernent des chutes d'arbres sur les routes"
        " départementales.\n\nAucun blessé grave n'est à déplorer à cette heure."
    )
    assert posts[1].body.endswith("restent mobilisés jusqu'à jeudi.")  # no newsletter promo
    assert posts[3].body.endswith("l'Ille-et-Vilaine.")  # no "Lundi 9 mars"
    assert posts[5].body.endswith("à partir de minuit.")  # no "Avec AFP", no related links
    text = " ".join(p.body for p in posts)
    for chrome in ("L'essentiel", "Vigilance orange levée", "heure de Paris", "newsletter"):
        assert chrome not in text


def test_german_ticker_with_bold_headlines_and_a_day_heading() -> None:
    result = extract_page(GERMAN, "https://www.nordkurier-beispiel.de/sturm-ticker", now=NOW)
    posts = result.posts
    assert result.timezone == "Europe/Berlin"
    assert [p.published_at for p in posts] == [
        at(10, 13, 32), at(10, 12, 5), at(9, 20, 40), at(9, 18, 15),
    ]  # fmt: skip
    assert posts[0].headline == "Sturm erreicht Hamburg"
    assert posts[0].body.startswith("Die Feuerwehr meldet") and "Elbe" in posts[0].body
    assert posts[1].headline == "" and posts[1].body.startswith("Die Deutsche Bahn")
    assert posts[3].body.endswith("in Kiel mit.")  # no "Mit Material von dpa"
    assert not any("Mehr zum Thema" in p.body or "Versicherung" in p.body for p in posts)
    assert not any("Wir berichten im Ticker" in p.body for p in posts)  # the intro


def test_english_ticker_with_a_zone_note_credit_lines_and_a_promo() -> None:
    url = "https://www.westcountry-example.co.uk/news/storm-zora-live"
    result = extract_page(ENGLISH, url, now=NOW)
    posts = result.posts
    assert [p.published_at for p in posts] == [
        at(10, 14, 32),
        at(10, 13, 50),
        at(10, 12, 15),
        at(10, 10, 2),
    ]
    assert posts[0].body == (
        "Devon and Cornwall Police say several roads are closed by fallen trees near Bodmin."
        "\n\nDrivers are asked to avoid the A30 between Indian Queens and Temple."
    )
    assert posts[1].body == "Around 8,000 homes are without power, National Grid says."
    assert posts[3].body == "Schools in parts of Cornwall have closed for the day."


def test_any_tag_starts_a_post_and_same_class_continuations_join_it() -> None:
    result = extract_page(AMP, "https://amp.stadtanzeiger-beispiel.de/bombe", now=NOW)
    assert [p.body for p in result.posts] == [
        "Die Polizei sperrt die Innenstadt.\n\nGrund ist ein Bombenfund.",
        "Der Kampfmittelräumdienst ist vor Ort.\n\nDie Entschärfung läuft.",
        "Anwohner werden evakuiert.\n\nEine Notunterkunft ist geöffnet.",
    ]
    assert [p.published_at for p in result.posts] == [at(10, 15, 5), at(10, 14, 40), at(10, 14, 12)]


def test_long_paragraphs_that_open_with_their_time() -> None:
    long = "The council's emergency committee met again this morning to review the damage. " * 5
    ticker = "".join(
        f"<p>{t} – {long}</p><p>A second paragraph for the post at {t}.</p>"
        for t in ("14:32", "13:50", "12:15")
    )
    html = shell(f'<div class="article-body">{ticker}</div>', html_lang="en-GB")
    result = extract_page(html, "https://www.westcountry-example.co.uk/live", now=NOW)
    assert [p.published_at for p in result.posts] == [
        at(10, 14, 32),
        at(10, 13, 50),
        at(10, 12, 15),
    ]
    assert result.posts[0].body == f"{long.strip()}\n\nA second paragraph for the post at 14:32."


INDEX = shell(
    '<div class="latest">'
    + "".join(
        f'<p><a href="/news/{i}.html">{14 - i}:0{i} – Headline of another article number {i}'
        "</a></p>"
        for i in range(8)
    )
    + "</div>",
    title="Latest news",
)
TIMELINE_ARTICLE = shell(
    '<div class="article-body"><p>The council met on Tuesday to discuss the budget.</p>'
    "<p>09:00 – The session opened with a minute of silence.</p>"
    "<p>Councillors then debated the proposals for more than three hours.</p>"
    "<p>12:30 – The vote was postponed to next week.</p>"
    "<p>The mayor said she regretted the delay but expected a majority.</p></div>",
    title="Budget vote postponed",
)
COMMENTS = shell(
    '<div class="article-body"><p>The council approved the new bus lanes on Tuesday.</p></div>'
    '<section id="comments"><ol class="comment-list">'
    + "".join(
        f'<li class="comment"><div class="comment-meta"><b>reader{i}</b> · 1{i}:2{i}</div>'
        f"<p>I think this is a terrible idea for the town centre, number {i}.</p></li>"
        for i in range(6)
    )
    + "</ol></section>",
    title="Bus lanes approved",
)


@pytest.mark.parametrize(
    "html",
    [INDEX, TIMELINE_ARTICLE, COMMENTS],
    ids=["news-index-with-times", "article-with-two-times", "comment-list"],
)
def test_pages_that_are_no_live_blog_give_no_posts(html: str) -> None:
    spec = SourceSpec(name="t", url="https://news.example/page")
    with pytest.raises(NoPostsError):
        extract_document(html.encode(), spec.url, spec, now=NOW)


def test_comments_below_a_live_blog_are_not_its_posts() -> None:
    body = ENGLISH.replace("</article>", COMMENTS[COMMENTS.index('<section id="comments">') :])
    body = body[: body.index("</section>") + 10] + "</article></main></body></html>"
    result = extract_page(body, "https://www.westcountry-example.co.uk/live", now=NOW)
    assert len(result.posts) == 4
    assert not any("terrible idea" in p.body for p in result.posts)
