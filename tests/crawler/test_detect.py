"""crawler.extract.detect (and days, read): posts found on pages without structured data.

Each test builds the smallest page that shows one shape real live blogs use: repeated blocks
with a stamp, a flat ticker of headings with a time prefix, clocks without a date, match
minutes, AMP epoch stamps, lists of links that must not be taken for posts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.documents import NoPostsError, extract_document
from crawler.extract.page import extract_page
from crawler.models import SourceSpec

PAGE = "https://news.example/live/ticker"
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
PARIS = "Europe/Paris"
TEXTS = (
    "Les 35 pays de la coalition ont validé mardi la déclaration de Paris.",
    "Les troupes allemandes pourraient participer à la force multinationale.",
    "Le président ukrainien a salué un accord « historique » avec ses alliés.",
    "Washington ne s’est pas engagé à fournir une garantie de sécurité.",
    "Le sommet s’est achevé par une conférence de presse commune à l’Élysée.",
)
NAV = "".join(
    f'<li><a href="/a{i}.html">{10 + i}:00 Autre article numéro {i}</a></li>' for i in range(6)
)


def page(body: str, *, head: str = "", title: str = "Direct") -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>'
        f'<nav class="menu"><ul>{NAV}</ul></nav><main>{body}</main>'
        "<footer><p>© Le Journal 2026</p></footer></body></html>"
    )


def blocks(times: list[str], *, cls: str = "x9f2k", tag: str = "div") -> str:
    return "".join(
        f'<{tag} class="{cls} a7Bq" id="p{len(times) - i}"><div class="m1">{t}'
        f'<span class="au">Jean Dupont</span></div><h3>Titre {i}</h3><p>{TEXTS[i % 5]}</p>'
        f'<div class="share"><button>Partager</button></div></{tag}>'
        for i, t in enumerate(times)
    )


def test_repeated_blocks_with_clocks_and_obfuscated_classes() -> None:
    html = page("<h1>Guerre en Ukraine, 6 janvier 2026</h1>" + blocks(["20:08", "19:57", "19:28"]))
    result = extract_page(html, PAGE, timezone=PARIS, now=NOW)
    assert result.path == "detected" and not result.is_liveblog
    first, second, third = result.posts
    assert (first.headline, first.body) == ("Titre 0", TEXTS[0])  # no author, no share bar
    assert first.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)  # 20:08 in Paris
    assert third.published_at == datetime(2026, 1, 6, 18, 28, tzinfo=UTC)
    assert first.key == first.url == f"{PAGE}#p3"
    assert second.key == f"{PAGE}#p2"


def test_machine_readable_time_wins_and_updated_is_read() -> None:
    posts = "".join(
        f'<article class="post"><header><a href="{PAGE}?page=with:b{n}#b{n}">'
        f'<time datetime="2023-05-15T1{n}:00:00Z">{n}h ago</time></a></header><p>{TEXTS[n]}</p>'
        f'<footer><time datetime="2023-05-15T1{n}:05:00Z">Updated at 1{n}.05 BST</time></footer>'
        "</article>"
        for n in (3, 2, 1)
    )
    result = extract_page(page(f"<div>{posts}</div>"), PAGE, timezone="Europe/London", now=NOW)
    first = result.posts[0]
    assert first.published_at == datetime(2023, 5, 15, 13, 0, tzinfo=UTC)
    assert first.updated_at == datetime(2023, 5, 15, 13, 5, tzinfo=UTC)
    assert first.key == f"{PAGE}#b3"  # the permalink around the stamp
    assert first.body == TEXTS[3] and first.headline == ""


def test_amp_timeago_with_epoch_text() -> None:
    posts = "".join(
        f'<div class="sc-1 q" data-sort-time="{1691986806 - 60 * n}000"><a href="#post-{n}">'
        f'<amp-timeago datetime="2023-08-14T0{9 - n}:01:52.000Z" locale="en">'
        f"{1692003712 - 3600 * n}</amp-timeago></a><p>{TEXTS[n]}</p></div>"
        for n in range(3)
    )
    result = extract_page(page(posts), PAGE, timezone="Europe/London", now=NOW)
    assert [p.published_at for p in result.posts] == [
        datetime(2023, 8, 14, h, 1, 52, tzinfo=UTC) for h in (9, 8, 7)
    ]
    assert all("169" not in p.body for p in result.posts)  # the epoch text is no body
    assert result.posts[0].key == f"{PAGE}#post-0"


def test_epoch_attribute_gives_seconds_when_it_shows_the_printed_clock() -> None:
    posts = "".join(
        f'<div class="e" data-post-time="{1722888018921 - 600000 * n}"><time>{21 - n}:00</time>'
        f"<p>{TEXTS[n]}</p></div>"
        for n in range(3)
    )
    result = extract_page(
        page(posts, title="UK riots 5 August 2024"), PAGE, timezone="Europe/London"
    )
    assert result.posts[0].published_at == datetime(2024, 8, 5, 20, 0, 18, 921000, tzinfo=UTC)
    assert result.posts[1].published_at == datetime(2024, 8, 5, 19, 0, tzinfo=UTC)  # mismatch


def test_flat_ticker_of_headings_with_a_time_prefix_and_a_closing_day_heading() -> None:
    ticker = "".join(
        f"<h2>{t} Uhr: Meldung {i}</h2><p>{TEXTS[i]}</p><p>Zweiter Absatz {i}.</p>"
        for i, t in enumerate(["12.31", "11.39", "02.02"])
    )
    html = page(
        "<p><b>Die wichtigsten News</b></p><ul><li>Meldung 1 (11.39 Uhr)</li>"
        f"<li>Meldung 2 (02.02 Uhr)</li></ul><div>{ticker}</div>"
        "<div><h2>Dienstag, 27. August 2024</h2></div>"
    )
    result = extract_page(html, PAGE, timezone="Europe/Berlin", now=NOW)
    assert result.path == "detected"
    assert [p.headline for p in result.posts] == ["Meldung 0", "Meldung 1", "Meldung 2"]
    assert result.posts[0].body == f"{TEXTS[0]}\n\nZweiter Absatz 0."
    assert [p.published_at for p in result.posts] == [
        datetime(2024, 8, 27, 10, 31, tzinfo=UTC),
        datetime(2024, 8, 27, 9, 39, tzinfo=UTC),
        datetime(2024, 8, 27, 0, 2, tzinfo=UTC),
    ]
    assert [p.highlighted for p in result.posts] == [False, True, True]  # the summary list


def test_day_headings_above_their_posts() -> None:
    ticker = (
        "<h3>Mardi 6 janvier 2026</h3>"
        + "".join(
            f"<p><strong>{t}</strong> {TEXTS[i]}</p>" for i, t in enumerate(["23:10", "09:00"])
        )
        + "<h3>Lundi 5 janvier 2026</h3>"
        + "".join(
            f"<p><strong>{t}</strong> {TEXTS[i + 2]}</p>" for i, t in enumerate(["22:00", "08:15"])
        )
    )
    result = extract_page(page(f"<div>{ticker}</div>"), PAGE, timezone=PARIS, now=NOW)
    assert [p.published_at for p in result.posts] == [
        datetime(2026, 1, 6, 22, 10, tzinfo=UTC),
        datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 21, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 7, 15, tzinfo=UTC),
    ]
    assert result.posts[0].body == TEXTS[0]  # the clock is no body text


def test_clock_going_forward_down_the_page_means_the_day_before() -> None:
    html = page("<h1>Live, 7 janvier 2026</h1>" + blocks(["01:10", "00:05", "23:50", "22:30"]))
    result = extract_page(html, PAGE, timezone=PARIS, now=NOW)
    assert [p.published_at for p in result.posts] == [
        datetime(2026, 1, 7, 0, 10, tzinfo=UTC),
        datetime(2026, 1, 6, 23, 5, tzinfo=UTC),
        datetime(2026, 1, 6, 22, 50, tzinfo=UTC),
        datetime(2026, 1, 6, 21, 30, tzinfo=UTC),
    ]


def test_match_minutes_count_from_the_kick_off_printed_beside_the_date() -> None:
    comments = "".join(
        f'<div class="comment {side}"><div class="t"><span>{m}</span></div>'
        f'<div class="b">{TEXTS[i]}</div></div>'
        for i, (m, side) in enumerate([("95'", "l"), ("45+2'", "r"), ("3'", "l")])
    )
    header = "<ul><li>DATE : <span>27/09/2020</span></li><li>Horaires : 17h00</li></ul>"
    head = '<meta property="article:published_time" content="2020-09-27T16:45:00+00:00">'
    result = extract_page(page(header + f"<div>{comments}</div>", head=head), PAGE, timezone=PARIS)
    assert [p.published_at for p in result.posts] == [
        datetime(2020, 9, 27, 16, 35, tzinfo=UTC),
        datetime(2020, 9, 27, 15, 47, tzinfo=UTC),
        datetime(2020, 9, 27, 15, 3, tzinfo=UTC),
    ]
    assert [p.body for p in result.posts] == list(TEXTS[:3])
    without = extract_page(page(f"<div>{comments}</div>", head=head), PAGE, timezone=PARIS)
    assert [p.published_at for p in without.posts] == [None, None, None]  # no kick-off known


def test_a_list_of_links_with_times_is_navigation_not_posts() -> None:
    links = "".join(f'<li><a href="/n{i}.html">1{i}:30 {TEXTS[i]}</a></li>' for i in range(5))
    result = extract_page(page(f'<ul class="latest">{links}</ul><p>Article.</p>'), PAGE, now=NOW)
    assert result.posts == [] and result.path == ""


def test_two_stamped_blocks_are_not_a_live_blog() -> None:
    html = page("<h1>6 janvier 2026</h1>" + blocks(["20:08", "19:57"]))
    assert extract_page(html, PAGE, now=NOW).posts == []


def test_configured_selectors_win_over_detection() -> None:
    from crawler.models import Selectors

    html = page("<h1>6 janvier 2026</h1>" + blocks(["20:08", "19:57", "19:28"]))
    result = extract_page(html, PAGE, timezone=PARIS, now=NOW, selectors=Selectors(post="h3"))
    assert result.path == "selectors"
    assert [p.body for p in result.posts] == ["Titre 0", "Titre 1", "Titre 2"]


def test_pinned_copy_without_id_is_one_update_highlighted() -> None:
    stream = blocks(["20:08", "19:57", "19:28"])
    pinned = (
        '<div id="pinned-post"><article><a href="#p2">19:57</a><h3>Titre 1</h3>'
        f"<p>{TEXTS[1]}</p></article></div>"
    )
    html = page(f"<h1>6 janvier 2026</h1>{pinned}<section>{stream}</section>")
    result = extract_page(html, PAGE, timezone=PARIS, now=NOW)
    assert [p.key for p in result.posts] == [f"{PAGE}#p3", f"{PAGE}#p2", f"{PAGE}#p1"]
    assert [p.highlighted for p in result.posts] == [False, True, False]


def test_label_headlines_and_page_titles_are_no_headlines() -> None:
    posts = "".join(
        f'<div class="p"><time datetime="2026-01-06T1{n}:00:00Z">1{n}:00</time>'
        f"<h3>{'Guerre en Ukraine' if n else 'Un vrai titre'}</h3><p>{TEXTS[n]}</p></div>"
        for n in range(4)
    )
    result = extract_page(page(posts, title="Direct Ukraine"), PAGE, now=NOW)
    assert [p.headline for p in result.posts] == ["Un vrai titre", "", "", ""]


def test_zero_width_spaces_and_entities_in_detected_text() -> None:
    html = page(
        "<h1>6 janvier 2026</h1>"
        + "".join(
            f'<div class="p"><span>1{n}:00</span><p>\u200bAT&amp;T et l&#8217;{TEXTS[n]}</p></div>'
            for n in range(3)
        )
    )
    posts = extract_page(html, PAGE, now=NOW).posts
    assert posts[0].body == f"AT&T et l’{TEXTS[0]}"


def test_no_posts_on_a_page_that_had_some_is_an_error() -> None:
    spec = SourceSpec(name="t", url=PAGE, kind="liveblog", timezone=PARIS)
    before = page("<h1>6 janvier 2026</h1>" + blocks(["20:08", "19:57", "19:28"]))
    assert len(extract_document(before.encode(), PAGE, spec, now=NOW).posts) == 3
    after = page("<div id='app'>Chargement…</div>")
    with pytest.raises(NoPostsError, match="page structure changed"):
        extract_document(after.encode(), PAGE, spec, now=NOW, had_posts=True)
    with pytest.raises(NoPostsError, match=r"add \[sources.selectors\]"):
        extract_document(after.encode(), PAGE, spec, now=NOW)


def test_relative_times_with_an_epoch_attribute_or_an_hatom_abbr() -> None:
    entries = "".join(
        f'<div class="liveblog-entry"><header><a href="#e{n}" class="liveblog-time" '
        f'data-timestamp="{1767726480 - 600 * n}">{n + 1} hours ago</a></header>'
        f"<div class='liveblog-entry-text'><p>{TEXTS[n]}</p></div></div>"
        for n in range(3)
    )
    posts = extract_page(page(entries), PAGE, timezone=PARIS, now=NOW).posts
    assert [p.published_at for p in posts] == [
        datetime(2026, 1, 6, 19, 8, tzinfo=UTC),
        datetime(2026, 1, 6, 18, 58, tzinfo=UTC),
        datetime(2026, 1, 6, 18, 48, tzinfo=UTC),
    ]
    assert [p.body for p in posts] == list(TEXTS[:3])
    hatom = "".join(
        f'<div class="hentry"><abbr class="published" title="2026-01-06T2{n}:00:00+01:00">'
        f"il y a {n} h</abbr><p class='entry-content'>{TEXTS[n]}</p></div>"
        for n in range(3)
    )
    posts = extract_page(page(hatom), PAGE, timezone=PARIS, now=NOW).posts
    assert [p.published_at for p in posts] == [
        datetime(2026, 1, 6, 19 + n, 0, tzinfo=UTC) for n in range(3)
    ]
