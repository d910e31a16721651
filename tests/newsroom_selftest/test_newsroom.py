"""Self-tests of the newsroom fixture site: the fixture text and its parser, renderers,
timeline, HTTP server; and the parser on the real seed (../shared), when it is present."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import extruct
import feedparser
import pytest
from lxml import etree
from parsel import Selector

from tests.newsroom import (
    FIXTURE_PATH,
    Newsroom,
    PageNotFound,
    Post,
    State,
    expected_revisions,
    expected_updates,
    fixture_state,
    load_page,
    load_posts,
    render_atom,
    render_jsonld,
    render_microdata,
    render_paged,
    render_plain,
    render_rss,
    timeline,
)
from tests.newsroom.blogtext import normalise

BASE = "http://127.0.0.1:9"
REPO = Path(__file__).resolve().parents[2]
# Text that only page chrome carries: none of it may end up in a post body.
CHROME_MARKERS = [
    "pic.twitter.com", "@MeteoLittoral", "@PompiersLittoral", "AFP" + "AFP",
    "Maëlle Quéré / Le Phare Info", "Source : Le Phare Info", "Logo lecture",
    "Publié le 9 février", "Lire aussi", "Tempêtes d’hiver : pourquoi", "Suivez nos directs",
    "La rédaction de LePhareInfo", "Partager", "Copier le lien", "cookies", "Mentions légales",
]  # fmt: skip
KEY_MOMENT = "LA TEMPÊTE YSOLDE À SON PAROXYSME"
TYPO = "LE GOUVERNEMENT PROMET DES INDEMINSATIONS RAPIDES"
FIXED = "LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES"


def post_by_time(posts: list[Post], time_text: str, word: str = "") -> Post:
    return next(p for p in posts if p.time_text == time_text and word in p.headline)


def check_every_line_accounted_for_once(path: Path) -> None:
    """Every non-blank line of the text is the intro, a header, the signature, a post's
    headline+time, date or paragraph, or a chrome line; the key moment's copy twice."""
    page = load_page(path)
    lines = [normalise(x) for x in path.read_text(encoding="utf-8").splitlines()]
    used = [page.intro, page.signature, "Les éléments marquants", "Minute par minute"]
    for p in page.posts:
        used += [p.headline + p.time_text, p.date_text, *p.paragraphs]
        used += [raw for c in p.chrome for raw in c.raw]
    key = next(p for p in page.posts if p.key_moment)  # printed twice in the text
    used += [key.headline + key.time_text, key.date_text, *key.paragraphs]
    assert sorted(used) == sorted(x for x in lines if x)


def check_typography(posts: list[Post]) -> None:
    text = " ".join(p.body for p in posts)
    for ch in "“”’éèçœ…":
        assert ch in text
    assert "\u00a0" not in text and "\u202f" not in text and "  " not in text


# --- the fixture text ------------------------------------------------------------------------


def test_fixture_has_22_posts_numbered_oldest_first() -> None:
    posts = load_posts()
    assert len(posts) == 22
    assert [p.n for p in posts] == list(range(1, 23))
    times = [p.published_at for p in posts]
    assert times == sorted(times)
    assert posts[0].headline == "BIENVENUE DANS CE DIRECT" and posts[0].time_text == "06:02"


def test_fixture_times_and_the_traps() -> None:
    posts = load_posts()
    pair_2110 = [p for p in posts if p.time_text == "21:10"]
    assert [p.headline for p in pair_2110] == [KEY_MOMENT, "UN HOMME GRIÈVEMENT BLESSÉ À QUIMPERLÉ"]
    assert {p.published_at.isoformat() for p in pair_2110} == {"2026-02-10T21:10:00+01:00"}
    assert expected_updates(fixture_state())[5]["published_at"] == "2026-02-10T20:10:00Z"
    pair_0930 = [p for p in posts if p.time_text == "09:30"]
    assert [p.headline for p in pair_0930] == [
        "LES ÉCOLES FERMÉES DANS QUATRE DÉPARTEMENTS",
        "UN CHALUTIER EN DIFFICULTÉ AU LARGE DE LA POINTE DU RAZ",
    ]
    assert pair_0930[0].body != pair_0930[1].body
    # After midnight in Paris, still the evening before in UTC: the date line decides the day.
    night = post_by_time(posts, "00:20")
    assert night.date_text == "11 février 2026"
    assert night.published_at.isoformat() == "2026-02-11T00:20:00+01:00"
    assert expected_updates(fixture_state())[1]["published_at"] == "2026-02-10T23:20:00Z"
    closing = posts[-1]
    assert (closing.headline, closing.time_text, closing.date_text) == (
        "",
        "07:30",
        "11 février 2026",
    )
    assert closing.paragraphs == ["Ce live est à présent terminé."]
    assert expected_updates(fixture_state())[0]["published_at"] == "2026-02-11T06:30:00Z"
    assert post_by_time(posts, "21:11").headline == TYPO
    assert [p.n for p in posts if p.key_moment] == [16]


def test_fixture_chrome_is_classified_and_kept_out_of_bodies() -> None:
    posts = load_posts()
    found = sorted((p.time_text, c.kind, c.position) for p in posts for c in p.chrome)
    assert found == [
        ("06:02", "read_also", 3), ("07:30", "teaser", 1), ("08:20", "related", 2),
        ("09:30", "credit", 1), ("10:48", "tweet", 2), ("11:35", "credit", 2),
        ("12:20", "tweet", 2), ("16:05", "video", 1),
    ]  # fmt: skip
    credits = {c.text for p in posts for c in p.chrome if c.kind == "credit"}
    assert credits == {"AFP", "Maëlle Quéré / Le Phare Info"}
    tweet = next(c for p in posts for c in p.chrome if c.kind == "tweet" and "Belle" in c.text)
    assert tweet.attrs["handle"] == "MeteoLittoral" and tweet.attrs["date"] == "February 10, 2026"
    video = next(c for p in posts for c in p.chrome if c.kind == "video")
    assert video.attrs["source"] == "Le Phare Info"  # "Source\u00a0:" read as "Source :"
    for p in posts:
        for marker in CHROME_MARKERS:
            assert marker not in p.body, (p.n, marker)
        assert "Météo" not in p.paragraphs  # the article card's rubric
    welcome = posts[0]
    assert len(welcome.paragraphs) == 4
    assert welcome.paragraphs[3].startswith("Une cellule interministérielle de crise")


def test_every_fixture_line_is_accounted_for_once() -> None:
    check_every_line_accounted_for_once(FIXTURE_PATH)


def test_fixture_keeps_typography_and_normalises_spaces() -> None:
    check_typography(load_posts())
    raw = FIXTURE_PATH.read_text(encoding="utf-8")
    assert "\u00a0" in raw and "\u202f" in raw  # no-break spaces the parser must fold
    assert "38 000 foyers" in post_by_time(load_posts(), "07:10").body
    assert "«" in post_by_time(load_posts(), "22:25").body


# --- the real seed (../shared/seed) ------------------------------------------------------------


def test_real_seed_has_22_posts_and_its_traps(real_seed: Path) -> None:
    posts = load_posts(real_seed)
    assert [p.n for p in posts] == list(range(1, 23))
    assert posts[0].headline == "BONJOUR" and posts[0].time_text == "06:33"
    pair_2008 = [p for p in posts if p.time_text == "20:08"]
    assert [p.headline for p in pair_2008] == [
        "35 PAYS VALIDENT LA “DÉCLARATION DE PARIS”",
        "DES TROUPES ALLEMANDES DANS LA FORCE MULTINATIONALE ?",
    ]
    assert {p.published_at.isoformat() for p in pair_2008} == {"2026-01-06T20:08:00+01:00"}
    pair_1115 = [p for p in posts if p.time_text == "11:15"]
    assert [p.headline for p in pair_1115] == [
        "FRANCOIS HOLLANDE",
        "EMMANUEL MACRON A REÇU MARK CARNEY",
    ]
    assert pair_1115[0].body != pair_1115[1].body
    closing = posts[-1]
    assert (closing.headline, closing.time_text, closing.date_text) == (
        "",
        "00:00",
        "7 janvier 2026",
    )
    assert closing.paragraphs == ["Ce live est à présent terminé."]
    assert expected_updates(fixture_state(posts))[0]["published_at"] == "2026-01-06T23:00:00Z"
    assert "SUBSTANCIELS" in post_by_time(posts, "20:09").headline
    assert [p.n for p in posts if p.key_moment] == [16]


def test_real_seed_chrome_is_classified_and_kept_out_of_bodies(real_seed: Path) -> None:
    posts = load_posts(real_seed)
    found = sorted((p.time_text, c.kind, c.position) for p in posts for c in p.chrome)
    assert found == [
        ("00:00", "teaser", 1), ("06:33", "read_also", 4), ("08:37", "related", 2),
        ("11:15", "credit", 1), ("12:13", "tweet", 2), ("12:46", "credit", 2),
        ("13:43", "tweet", 2), ("16:51", "video", 1),
    ]  # fmt: skip
    credits = {c.text for p in posts for c in p.chrome if c.kind == "credit"}
    assert credits == {"AFP", "Hans Lucas via AFP"}
    tweet = next(c for p in posts for c in p.chrome if c.kind == "tweet" and "France" in c.text)
    assert tweet.attrs["handle"] == "ZelenskyyUa" and tweet.attrs["date"] == "January 6, 2026"
    markers = [
        "pic.twitter.com", "@ZelenskyyUa", "@CEMA_FR", "AFP" + "AFP", "Hans Lucas via AFP",
        "Source : TF1 Info", "Logo lecture", "Publié le 5 janvier", "Lire aussi",
        "Washington envoie l’émissaire", "Suivez nos directs", "La rédaction de TF1info",
    ]  # fmt: skip
    for p in posts:
        for marker in markers:
            assert marker not in p.body, (p.n, marker)
        assert "International" not in p.paragraphs
    bonjour = posts[0]
    assert len(bonjour.paragraphs) == 5
    assert bonjour.paragraphs[4].startswith("Les dirigeants doivent s’engager")


def test_every_real_seed_line_is_accounted_for_once(real_seed: Path) -> None:
    check_every_line_accounted_for_once(real_seed)


def test_real_seed_keeps_typography(real_seed: Path) -> None:
    check_typography(load_posts(real_seed))


# --- renderers -------------------------------------------------------------------------------


def ld_blocks(html: str) -> list[dict]:
    scripts = Selector(text=html).css('script[type="application/ld+json"]::text').getall()
    return [json.loads(s) for s in scripts]


def p_texts(node: Selector) -> str:
    return "\n\n".join("".join(p.css("::text").getall()) for p in node.xpath("./p"))


def test_jsonld_page() -> None:
    state = fixture_state()
    html = render_jsonld(state, BASE)
    live, crumbs = ld_blocks(html)
    url = BASE + "/live/jsonld"
    assert (live["@type"], live["@id"], live["url"]) == ("LiveBlogPosting", url, url)
    assert live["coverageStartTime"] == "2026-02-10T06:02:00+01:00"
    assert live["coverageEndTime"] == "2026-02-11T07:30:00+01:00"
    assert crumbs["@type"] == "BreadcrumbList"
    updates = live["liveBlogUpdate"]
    assert [u["@id"] for u in updates] == [f"{url}#post-{n}" for n in range(22, 0, -1)]
    assert updates[6]["headline"] == KEY_MOMENT
    assert updates[6]["datePublished"] == updates[6]["dateModified"] == "2026-02-10T21:10:00+01:00"
    assert [u["articleBody"] for u in updates] == [p.body for p in state.stream]
    sel = Selector(text=html)
    assert sel.css("section.key-events li a::attr(href)").getall() == ["#post-16"]
    assert len(sel.css("article.post")) == 22
    for art, post in zip(sel.css("article.post"), state.stream, strict=True):
        assert art.attrib["id"] == f"post-{post.n}"
        assert p_texts(art.css("div.post-content")[0]) == post.body
        assert art.css("button::text").getall() == ["Partager", "Copier le lien"]
    assert len(sel.css("blockquote.twitter-tweet")) == 2
    assert len(sel.css("figure figcaption")) == 2 and len(sel.css("div.video-player")) == 1
    assert len(sel.css("aside.read-also")) == 2 and len(sel.css("div.teaser-lives a")) == 2
    assert sel.css("#cookie-banner") and sel.css("nav.main-nav") and sel.css("footer")
    assert sel.css('link[rel="canonical"]::attr(href)').get() == url
    assert sel.css('meta[property="og:url"]::attr(content)').get() == url


def test_jsonld_before_the_end_and_script_escaping() -> None:
    state = timeline()[0]
    last = dataclasses.replace(state.posts[-1], headline="A </script><b>B")
    hostile = State([*state.posts[:-1], last], [], ended=False, step=0)
    html = render_jsonld(hostile, BASE)
    live = ld_blocks(html)[0]
    assert "coverageEndTime" not in live
    assert live["liveBlogUpdate"][0]["headline"] == "A </script><b>B"
    assert not Selector(text=html).css("section.key-events")


def test_microdata_page_has_a_full_copy_of_the_key_moment() -> None:
    state = timeline()[-1]
    html = render_microdata(state, BASE)
    live = extruct.extract(html, syntaxes=["microdata"], uniform=False)["microdata"]
    assert len(live) == 1 and live[0]["type"] == "https://schema.org/LiveBlogPosting"
    props = live[0]["properties"]
    assert props["coverageEndTime"] == "2026-02-11T06:30:00Z"
    updates = props["liveBlogUpdate"]
    assert len(updates) == 23  # 22 posts + the key-moment copy
    copy, stream = updates[0]["properties"], [u["properties"] for u in updates[1:]]
    twin = next(u for u in stream if u.get("headline") == copy["headline"])
    assert copy["datePublished"] == twin["datePublished"] == "2026-02-10T20:10:00Z"
    assert {u["dateModified"] for u in stream if "dateModified" in u} == {
        "2026-02-10T09:30:00Z", "2026-02-10T12:20:00Z", "2026-02-10T23:45:00Z",
    }  # fmt: skip
    sel = Selector(text=html)
    assert sel.css("section.highlights article::attr(id)").getall() == ["post-16-hl"]
    assert p_texts(sel.css("#post-9 div[itemprop=articleBody]")[0]) == state.post(9).body
    assert "coverageEndTime" not in render_microdata(timeline()[3], BASE)


def test_plain_page_has_no_structured_data() -> None:
    state = fixture_state()
    html = render_plain(state, BASE)
    sel = Selector(text=html)
    assert not ld_blocks(html) and "itemscope" not in html and 'id="post-' not in html
    assert len(sel.css("div.entry")) == 23
    entries = sel.css("section.minute-par-minute div.entry")
    assert len(entries) == 22
    assert len(sel.css("section.elements-marquants div.entry")) == 1
    first = entries[0]
    assert not first.css(".entry-title") and p_texts(first.css(".entry-text")[0]).startswith(
        "Ce live est à présent terminé."
    )
    assert html.count("Ce live est à présent terminé.") == 1
    when = " ".join(entries[6].css(".entry-when ::text").getall())
    assert re.sub(r"\s+", " ", when).strip() == "21:10 10 février 2026"
    titles = entries.css(".entry-title::text").getall()
    assert titles == [p.headline for p in state.stream if p.headline]


def test_paged_pages_chain_with_rel_next() -> None:
    state = fixture_state()
    ids: list[str] = []
    for page in (1, 2, 3):
        sel = Selector(text=render_paged(state, BASE, page))
        ids += sel.css("section.stream article::attr(id)").getall()
        nxt = sel.css('head link[rel="next"]::attr(href)').get()
        body_next = sel.css('a[rel="next"]::attr(href)').get()
        if page < 3:
            assert nxt == body_next == f"{BASE}/live/paged?page={page + 1}"
        else:
            assert nxt is None and body_next is None
        assert bool(sel.css("section.highlights")) == (page == 1)
    assert ids == [f"post-{p.n}" for p in state.stream]
    with pytest.raises(PageNotFound):
        render_paged(state, BASE, 4)


def test_rss_feed() -> None:
    state = fixture_state()
    xml = render_rss(state, BASE)
    feed = feedparser.parse(xml)
    assert feed.bozo == 0 and feed.version == "rss20"
    assert len(feed.entries) == 22
    for entry, post in zip(feed.entries, state.stream, strict=True):
        assert entry.link == (
            f"{BASE}/live/jsonld?utm_source=rss&utm_medium=feed&xtor=RSS-3#post-{post.n}"
        )
        assert entry.published_parsed[:5] == post.published_at.utctimetuple()[:5]
        assert "<p>" in entry.summary and "pic.twitter.com" not in entry.summary
    root = etree.fromstring(xml.encode())
    items = root.findall("channel/item")
    guids = {i.findtext("guid") for i in items}
    assert guids == {f"phare-live-post-{n}" for n in range(1, 23) if n % 5} | {None}
    assert items[0].find("title") is None
    assert items[6].findtext("pubDate") == "Tue, 10 Feb 2026 21:10:00 +0100"


def test_atom_feed() -> None:
    state = timeline()[-1]
    feed = feedparser.parse(render_atom(state, BASE))
    assert feed.bozo == 0 and feed.version == "atom10"
    assert len(feed.entries) == 22
    assert [e.id for e in feed.entries] == [f"urn:newsroom:post-{p.n}" for p in state.stream]
    assert feed.feed.updated == "2026-02-11T07:30:00+01:00"
    edited = {e.id for e in feed.entries if e.updated != e.published}
    assert edited == {"urn:newsroom:post-3", "urn:newsroom:post-9", "urn:newsroom:post-18"}
    assert feed.entries[4].title == FIXED
    assert feed.entries[0].link == f"{BASE}/live/jsonld#post-22"


# --- timeline --------------------------------------------------------------------------------


def test_timeline_grows_and_ends() -> None:
    states = timeline()
    assert len(states) >= 12
    assert [s.step for s in states] == list(range(len(states)))
    assert [p.n for p in states[0].posts] == [1, 2, 3]
    counts = [len(s.posts) for s in states]
    assert counts == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 21, 22]
    assert [s.ended for s in states] == [False] * 11 + [True]
    assert states[-1].posts[-1].headline == "" and not states[-2].ended
    as_of = [s.as_of for s in states]
    assert as_of == sorted(as_of) and len(set(as_of)) == len(as_of)


def test_timeline_edits_and_highlight() -> None:
    states = timeline()

    def versions(n: int) -> list[tuple[int, str, str]]:
        return [(s.step, s.post(n).headline, s.post(n).body) for s in states if n <= len(s.posts)]

    typo = versions(18)
    assert typo[0][1] == TYPO and typo[-1][1] == FIXED
    assert len({v[1] for v in typo}) == 2
    number = versions(3)
    assert "quelque 38 000 foyers" in number[0][2] and "quelque 46 000 foyers" in number[-1][2]
    crisis = versions(9)
    assert crisis[-1][2].startswith(crisis[0][2] + "\n\n") and crisis[-1][2] != crisis[0][2]
    for n in (3, 9, 18):
        last = states[-1].post(n)
        assert last.modified_at is not None and last.modified_at > last.published_at
    first_16 = next(s.step for s in states if len(s.posts) >= 16)
    assert 16 not in states[first_16].key_moments and not states[first_16].post(16).key_moment
    assert 16 in states[-1].key_moments and states[-1].post(16).key_moment
    highlighted_from = next(s.step for s in states if s.key_moments)
    assert highlighted_from > first_16
    assert expected_revisions() == {n: 2 if n in (3, 9, 18) else 1 for n in range(1, 23)}


def test_fixture_state_and_expected_updates() -> None:
    state = fixture_state()
    assert state.ended and state.key_moments == [16] and len(state.posts) == 22
    assert all(p.modified_at is None for p in state.posts)
    updates = expected_updates(state)
    assert [u["n"] for u in updates] == list(range(22, 0, -1))
    assert [u["n"] for u in updates if u["highlighted"]] == [16]
    assert all(re.fullmatch(r"2026-02-1[01]T\d\d:\d\d:00Z", u["published_at"]) for u in updates)
    assert [u["published_at"][:10] for u in updates[:2]] == ["2026-02-11", "2026-02-10"]
    assert updates[4]["headline"] == TYPO
    assert expected_updates(timeline()[0])[-1]["n"] == 1


# --- server ----------------------------------------------------------------------------------

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with OPENER.open(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


@pytest.fixture
def site() -> Iterator[Newsroom]:
    with Newsroom() as newsroom:
        yield newsroom


def test_server_serves_every_route(site: Newsroom) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base_url)
    kinds = {
        "/live/jsonld": "text/html; charset=utf-8", "/live/microdata": "text/html; charset=utf-8",
        "/live/plain": "text/html; charset=utf-8", "/live/paged": "text/html; charset=utf-8",
        "/feeds/rss.xml": "application/rss+xml", "/feeds/atom.xml": "application/atom+xml",
    }  # fmt: skip
    for path, content_type in kinds.items():
        status, headers, body = fetch(site.url(path))
        assert (status, headers["Content-Type"]) == (200, content_type), path
        assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])
        assert parsedate_to_datetime(headers["Last-Modified"]).year == 2026
        assert body
    status, _, body = fetch(site.url("/robots.txt"))
    assert status == 200 and body.decode() == "User-agent: *\nDisallow: /private/\n"
    assert fetch(site.url("/private/page"))[0] == 200
    assert fetch(site.url("/nowhere"))[0] == 404
    assert fetch(site.url("/live/paged?page=2"))[0] == 404  # step 0: one page only
    site.step = site.last_step
    assert fetch(site.url("/live/paged?page=3"))[0] == 200
    assert site.count("/live/") == 6 and site.count("/live/paged", 404) == 1
    assert site.requests[0].headers["Host"] == site.base_url.removeprefix("http://")


def test_server_conditional_get(site: Newsroom) -> None:
    url = site.url("/live/jsonld")
    status, headers, _ = fetch(url)
    assert status == 200
    etag, modified = headers["ETag"], headers["Last-Modified"]
    status, headers, body = fetch(url, {"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert fetch(url, {"If-Modified-Since": modified})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200
    site.advance()
    status, headers, _ = fetch(url, {"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    later = parsedate_to_datetime(headers["Last-Modified"])
    assert later > parsedate_to_datetime(modified)
    assert fetch(url, {"If-Modified-Since": modified})[0] == 200
    assert site.count("/live/jsonld", 304) == 2


def test_server_last_modified_is_when_the_resource_last_changed() -> None:
    with Newsroom(step=9) as site:
        first = {path: fetch(site.url(path))[1] for path in ("/live/paged?page=3", "/live/paged")}
        site.step = 10  # an edit-only step: the typo fix shows on page 1, page 3 stays as it was
        again = {path: fetch(site.url(path))[1] for path in first}
    old = first["/live/paged?page=3"]
    assert again["/live/paged?page=3"]["Last-Modified"] == old["Last-Modified"]
    assert again["/live/paged?page=3"]["ETag"] == old["ETag"]
    assert again["/live/paged"]["ETag"] != first["/live/paged"]["ETag"]
    changed = parsedate_to_datetime(again["/live/paged"]["Last-Modified"])
    assert changed == datetime(2026, 2, 10, 23, 45, tzinfo=UTC)  # the 00:45 Paris typo fix
    assert changed > parsedate_to_datetime(first["/live/paged"]["Last-Modified"])


def test_server_static_resources_keep_their_date() -> None:
    state = fixture_state()
    with Newsroom(states=[state, state]) as site:
        before = fetch(site.url("/feeds/atom.xml"))[1]
        site.advance()
        after = fetch(site.url("/feeds/atom.xml"), {"If-None-Match": before["ETag"]})
        assert after[0] == 304 and after[1]["Last-Modified"] == before["Last-Modified"]
        robots = fetch(site.url("/robots.txt"))[1]["Last-Modified"]
        assert robots == "Mon, 09 Feb 2026 09:00:00 GMT"


def test_server_test_routes(site: Newsroom) -> None:
    site.set_route("/slow", 503, {"Retry-After": "7"}, b"busy")
    status, headers, body = fetch(site.url("/slow"))
    assert (status, headers["Retry-After"], body) == (503, "7", b"busy")
    site.set_route("/static.xml", 200, {"Content-Type": "application/xml"}, "<a/>")
    status, headers, _ = fetch(site.url("/static.xml"))
    assert headers["Content-Type"] == "application/xml"
    assert fetch(site.url("/static.xml"), {"If-None-Match": headers["ETag"]})[0] == 304
    site.extra_routes["/live/jsonld"] = lambda request: (418, {}, request.target.encode())
    status, _, body = fetch(site.url("/live/jsonld?x=1"))
    assert (status, body) == (418, b"/live/jsonld?x=1")
    site.extra_routes["/boom"] = lambda request: 1 / 0
    assert fetch(site.url("/boom"))[0] == 500
    assert fetch(site.url("/feeds/rss.xml"))[0] == 200  # still serving
    assert [r.status for r in site.requests] == [503, 200, 304, 418, 500, 200]


def test_server_auto_advance() -> None:
    with Newsroom(auto_advance=0.05) as site:
        deadline = time.monotonic() + 5
        while site.step < site.last_step and time.monotonic() < deadline:
            time.sleep(0.02)
        assert site.step == site.last_step
        assert fetch(site.url("/live/microdata"))[2].count(b'itemprop="coverageEndTime"') == 1


def test_cli_prints_the_base_url_and_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.newsroom", "serve", "--step", "11"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        status, _, body = fetch(base + "/feeds/atom.xml")
        assert status == 200 and len(feedparser.parse(body).entries) == 22
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
