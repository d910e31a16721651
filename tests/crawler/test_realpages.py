"""Real saved live-blog pages (../shared/realpages), extracted with zero configuration.

The ground truth below was read by hand from each page's HTML, not from vigie's output: the
count of posts a reader sees (and how it was counted), a few posts with their local time,
headline and first words, the posts shown among the key moments, and text that is page chrome.
Every page is read twice: with its source's timezone, and with none (the zone the page tells,
its sample times checked to the minute in UTC). The pages stay outside the repository
(publishers' content): without them these tests skip, except under CI=true, where the folder
must be present (tests/shared.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from crawler.documents import extract_document
from crawler.extract.page import extract_page
from crawler.models import PageExtraction, SourceSpec
from tests.shared import realpages_dir

JSONLD_SCRIPT = re.compile(rb"<script[^>]*application/ld\+json[^>]*>.*?</script>", re.S | re.I)
MOJIBAKE = ("â€", "Ã©", "Ã¨", "Ã¤", "Ã¼", "Ã¶", "\ufffd")

pytestmark = pytest.mark.realpages


@dataclass(frozen=True)
class Sample:
    """One post as the page shows it: its index in page order, local time, headline, start."""

    index: int
    time: str  # "HH:MM" in the source's timezone
    headline: str
    starts: str


@dataclass(frozen=True)
class Truth:
    file: str
    url: str
    timezone: str
    path: str
    count: int
    counted: str  # how the count was established from the HTML
    days: tuple[date, ...]
    samples: tuple[Sample, ...]
    highlighted: tuple[str, ...] = ()  # headline (or first words) of each key-moment post
    chrome: tuple[str, ...] = ()  # texts of the page that are no post text
    without_body: int = 0  # posts that are a photo or an embed with a headline only
    html_count: int | None = None  # posts the HTML alone shows (JSON-LD removed), if fewer
    utc: tuple[str, ...] = ()  # each sample's time in UTC, "YYYY-MM-DD HH:MM" (same order)


TRUTHS = (
    Truth(
        file="guardian-2023-05-15-russia-ukraine-war.html",
        url="https://www.theguardian.com/world/live/2023/may/15/russia-ukraine-war-latest-g7-live",
        timezone="Europe/London",
        path="jsonld",
        count=10,
        counted="10 article.block[id^=block-] in #liveblog-body = 10 liveBlogUpdate; the pinned"
        " post repeats block-646210cc without an id; the key-events carousel links 12 posts,"
        " 3 of them on this page. Every JSON-LD update has the page's datePublished"
        " (11:50:54Z) and the page's title as headline: times come from each block's"
        " <time datetime>, headlines from its <h2> (3 blocks have one).",
        days=(date(2023, 5, 15),),
        samples=(
            Sample(0, "12:50", "", "Jennifer Rankin reports from Brussels"),
            Sample(
                2,
                "12:24",
                "Stoltenberg: no point discussing how Ukraine can join Nato if it does not"
                " prevail in war first",
                "Nato’s secretary general has said he expects",
            ),
            Sample(
                5,
                "12:05",
                "Sunak: 'not a straightforward thing' to supply fighter jets to Ukraine",
                "The UK’s prime minister, Rishi Sunak,",
            ),
            Sample(
                9,
                "11:42",
                "Zelenskiy discussed 'coalition of jets' with Sunak on UK visit",
                "Volodymyr Zelenskiy has said that he discussed “a coalition of jets”",
            ),
        ),
        highlighted=(
            "Stoltenberg: no point discussing how Ukraine can join Nato if it does not"
            " prevail in war first",
            "Sunak: 'not a straightforward thing' to supply fighter jets to Ukraine",
            "Zelenskiy discussed 'coalition of jets' with Sunak on UK visit",
        ),
        chrome=("Updated at", "m ago", "BST"),
        utc=("2023-05-15 11:50", "2023-05-15 11:24", "2023-05-15 11:05", "2023-05-15 10:42"),
    ),
    Truth(
        file="independent-2023-08-14-womens-world-cup.html",
        url="https://www.independent.co.uk/sport/football/womens-world-cup-england-news-latest"
        "-australia-b2392480.html",
        timezone="Europe/London",
        path="jsonld",
        count=10,
        counted="10 div[id^=post-] in the amp-live-list = 10 liveBlogUpdate (paired by number:"
        " #liveblogPost1288914 ~ id=post-1288914); the key-points aside links 3 of them."
        " 8 of 10 carry the label headline 'Women’s World Cup' (JSON-LD and <h3>): none."
        " Times: JSON-LD datePublished (= data-sort-time); the AMP page prints later"
        " times (amp-timeago, epoch text).",
        days=(date(2023, 8, 14),),
        samples=(
            Sample(0, "05:20", "", "The Lionesses will be ready to face Australia"),
            Sample(
                4,
                "05:19",
                "Who and when do England play next? Lionesses route to the World Cup final",
                "England face Australia in the Women’s World Cup semi-finals",
            ),
            Sample(9, "05:15", "", "England are preparing to face Australia"),
        ),
        highlighted=(  # the key-points aside links #post-1288922, #post-1288912, #post-1288930
            "Australia Prime Minister Anthony Albanese on Monday backed calls",
            "Who and when do England play next?",
            "England held a training session yesterday",
        ),
        chrome=("Jamie Braidwood", "1692003712", "England set up old rivalry"),
        utc=("2023-08-14 04:20", "2023-08-14 04:19", "2023-08-14 04:15"),
    ),
    Truth(
        file="mirror-2024-08-05-uk-riots.html",
        url="https://www.mirror.co.uk/news/uk-news/uk-riots-live-least-15-33386398",
        timezone="Europe/London",
        path="jsonld",
        count=428,
        counted="428 liveBlogUpdate in the JSON-LD; the HTML shows the latest 30"
        " div.live-event-entry, whose ids are all among the 428: the union is 428. Key Events"
        " block: 5 links (data-id).",
        days=(date(2024, 8, 2), date(2024, 8, 3), date(2024, 8, 4), date(2024, 8, 5)),
        samples=(
            Sample(0, "21:00", "Loud bang heard at Plymouth scene", "Local reporters have said"),
            Sample(
                427,
                "18:42",
                "UK police braced for 'at least 15' protests over the weekend",
                "Police across the UK are expecting a wave of protests",
            ),
        ),
        highlighted=(
            "Plymouth protests erupt in violence as multiple people injured by rioters"
            " 'throwing stones",
            "Muslim graves desecrated in Burnley",
            "Exact date far right thugs plan to plunge UK into chaos with 39 more protests",
            "Sky News stops Birmingham broadcast as rioters swear and make gun signs",
            "Manchester mayor Andy Burnham says city 'must not let rioters prevail'",
        ),
        chrome=("Antony Clements-Thrower",),
        without_body=18,
        html_count=30,
        utc=("2024-08-05 20:00", "2024-08-02 17:42"),
    ),
    Truth(
        file="corkbeo-2020-10-06-level3-covid.html",
        url="https://www.corkbeo.ie/news/local-news/level-3-live-cork-ireland-19056312",
        timezone="Europe/Dublin",
        path="jsonld",
        count=26,
        counted="26 div.live-event-entry = 26 liveBlogUpdate, same ids. 5 posts are a photo or"
        " a Facebook embed under a headline (empty articleBody, no text in the HTML).",
        days=(date(2020, 10, 6),),
        samples=(
            Sample(0, "21:22", "Goodnight", "We are logging off for the night"),
            Sample(
                25,
                "08:44",
                "'Circuit breaker' plan - NPHET vs Government",
                "Last night Tanaiste Leo Varadkar revealed",
            ),
        ),
        highlighted=("Coronavirus Ireland: One death and 432 new cases",),
        chrome=("Frances Watkins",),
        without_body=5,
        utc=("2020-10-06 20:22", "2020-10-06 07:44"),
    ),
    Truth(
        file="timesofindia-2020-10-02-ipl-csk-srh.html",
        url="https://timesofindia.indiatimes.com/sports/cricket/ipl/live-blog/ipl-2020-live"
        "-cricket-score-chennai-super-kings-vs-sunrisers-hyderabad-match-14-dubai/liveblog"
        "/78447140.cms",
        timezone="Asia/Kolkata",
        path="jsonld",
        count=8,
        counted="8 div._2tvI3 stamped 'HH:MM (IST), Oct 02' = 8 liveBlogUpdate. The page shows"
        " no headlines: the JSON-LD ones are '19:02(IST) ' + the body's first words.",
        days=(date(2020, 10, 2),),
        samples=(
            Sample(0, "19:02", "", "TOSS: Sunrisers Hyderabad win toss, opt to bat"),
            Sample(1, "18:32", "", "Hello and welcome to the Live coverage of Match 14"),
            Sample(7, "18:16", "", "Ambati Rayudu's much-awaited comeback"),
        ),
        chrome=("(IST)",),
        utc=("2020-10-02 13:32", "2020-10-02 13:02", "2020-10-02 12:46"),
    ),
    Truth(
        file="br24-2024-08-27-nahost-ticker.html",
        url="https://www.br.de/nachrichten/deutschland-welt/krieg-in-israel-und-gaza-im-news"
        "-ticker-vom-26-august-bis-1-september,UMXw2qF",
        timezone="Europe/Berlin",
        path="detected",
        count=7,
        counted="No LiveBlogPosting: 7 <h2>'HH.MM Uhr: headline'</h2> each followed by its"
        " paragraphs in one div, then a day heading 'Dienstag, 27. August 2024' below them."
        " The summary list at the top repeats 3 of the headlines.",
        days=(date(2024, 8, 27),),
        samples=(
            Sample(
                0,
                "12:31",
                "Ultraorthodoxe jüdische Zeitung lehnt Tempelberg-Aussagen von"
                " Sicherheitsminister ab",
                "Mit einem Aufmacher auf Arabisch",
            ),
            Sample(5, "05:20", "Mittlerweile 640 Tote im Westjordanland", "Bei einem israeli"),
            Sample(
                6,
                "02:02",
                "Risiko eines breiteren Nahost-Krieges offenbar gesunken",
                "Nach dem jüngsten Schlagabtausch",
            ),
        ),
        highlighted=(
            "Offenbar mehrere Kinder bei israelischen Angriffen getötet",
            "Palästinenser mutmaßlich von Siedlern erschossen",
            "Mittlerweile 640 Tote im Westjordanland",
        ),
        chrome=("Uhr:", "Mit Informationen der ARD", "BISHERIGEN ENTWICKLUNGEN", "Dienstag, 27."),
        utc=("2024-08-27 10:31", "2024-08-27 03:20", "2024-08-27 00:02"),
    ),
    Truth(
        file="sportsfr-lorient-ol-match-live.html",
        url="https://www.sports.fr/direct-foot/50918/177512/lorient-olympique-lyonnais.html",
        timezone="Europe/Paris",
        path="detected",
        count=75,
        counted="No LiveBlogPosting: 75 div.live-match-comment stamped with a match minute"
        " (95' … 3'), between 4 block titles ('Fin du match', …); kick-off '17h00' printed"
        " beside 'DATE : 27/09/2020'. Minute N is taken as 17:00 + N.",
        days=(date(2020, 9, 27),),
        samples=(
            Sample(0, "18:35", "", "C'est terminé au Moustoir !"),
            Sample(3, "18:31", "", "Bruno cherche à porter le danger"),  # minute after text
            Sample(74, "17:03", "", "Les deux équipes se cherchent en ce début de match."),
        ),
        chrome=("95'", "Fin du match", "François Cros", "Mi-temps"),
        utc=("2020-09-27 16:35", "2020-09-27 16:31", "2020-09-27 15:03"),
    ),
)


def extract(truth: Truth, data: bytes | None = None, *, configured: bool = True) -> PageExtraction:
    body = data if data is not None else (realpages_dir() / truth.file).read_bytes()
    return extract_page(body, truth.url, timezone=truth.timezone if configured else None)


def utc_minute(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else None


IDS = [t.file.split("-")[0] for t in TRUTHS]


@pytest.mark.parametrize("configured", [True, False], ids=["timezone", "no-timezone"])
@pytest.mark.parametrize("truth", TRUTHS, ids=IDS)
def test_zero_config_extraction_matches_the_page(truth: Truth, configured: bool) -> None:
    """With the source's timezone, and without one: the page tells its own zone."""
    result = extract(truth, configured=configured)
    assert result.timezone == truth.timezone, result.timezone_from
    assert [utc_minute(result.posts[s.index].published_at) for s in truth.samples] == list(
        truth.utc
    )
    posts = result.posts
    assert result.path == truth.path
    assert abs(len(posts) - truth.count) <= 0.05 * truth.count, (len(posts), truth.counted)
    zone = ZoneInfo(truth.timezone)
    for p in posts:
        assert p.published_at is not None and p.published_at.tzinfo is not None
        assert p.published_at.astimezone(zone).date() in truth.days, (p.headline, p.body[:40])
        assert p.headline or p.body
        for text in (p.headline, p.body):
            assert not any(m in text for m in MOJIBAKE), text[:80]
            assert not any(c in text for c in truth.chrome), text[:200]
    for s in truth.samples:
        post = posts[s.index]
        assert post.published_at is not None
        assert post.published_at.astimezone(zone).strftime("%H:%M") == s.time, s
        assert post.headline == s.headline, s
        assert post.body.startswith(s.starts), (s, post.body[:80])
    assert sum(1 for p in posts if not p.body) == truth.without_body
    assert sorted(p.headline or p.body for p in posts if p.highlighted) == sorted(
        next(q.headline or q.body for q in posts if (q.headline or q.body).startswith(h))
        for h in truth.highlighted
    )
    keys = [p.key for p in posts if p.key]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "truth", [t for t in TRUTHS if t.path != "detected"], ids=lambda t: t.file.split("-")[0]
)
@pytest.mark.parametrize("configured", [True, False], ids=["timezone", "no-timezone"])
def test_the_html_alone_gives_the_posts_it_shows(truth: Truth, configured: bool) -> None:
    """Without its JSON-LD, each structured page is read by the detector: same posts (those the
    HTML shows), times on the same days."""
    data = JSONLD_SCRIPT.sub(b"", (realpages_dir() / truth.file).read_bytes())
    result = extract(truth, data, configured=configured)
    assert result.timezone == truth.timezone, result.timezone_from
    expected = truth.html_count or truth.count
    assert result.path == "detected"
    assert abs(len(result.posts) - expected) <= 0.05 * expected
    zone = ZoneInfo(truth.timezone)
    assert all(
        p.published_at and p.published_at.astimezone(zone).date() in truth.days
        for p in result.posts
    )
    first = result.posts[0]
    sample = truth.samples[0]
    assert first.published_at is not None
    assert first.published_at.astimezone(zone).strftime("%H:%M") == sample.time or (
        truth.file.startswith("independent")  # the AMP page prints its own times
    )
    assert first.body.startswith(sample.starts)


@pytest.mark.parametrize("kind", ["liveblog", "auto"])
@pytest.mark.parametrize("truth", TRUTHS, ids=IDS)
def test_documents_of_both_kinds(truth: Truth, kind: str) -> None:
    spec = SourceSpec(name="real", url=truth.url, kind=kind, timezone=truth.timezone)
    body = (realpages_dir() / truth.file).read_bytes()
    result = extract_document(body, truth.url, spec, content_type="text/html", had_posts=True)
    assert result.path == truth.path and len(result.posts) >= 0.95 * truth.count
    times = [utc_minute(p.published_at) for p in result.posts]
    del result  # one 1.2 MB page's tree and posts at a time
    zero = extract_document(body, truth.url, SourceSpec(name="real", url=truth.url, kind=kind))
    assert zero.path == truth.path
    assert [utc_minute(p.published_at) for p in zero.posts] == times
