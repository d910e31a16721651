"""storage/dedup_page.py: which of one page's posts are one, decided on the facts the crawler
reports (keys as published, the element's anchor, the key-moments copy), nothing rewritten
before. Pure functions, no store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crawler.models import RawPost
from storage.dedup import post_print
from storage.dedup_page import lookup_keys, merge_page, positional_keys, stream_twins

LIVE = "https://x/live"
T0 = datetime(2026, 2, 10, 21, 0, tzinfo=UTC)
TEXTS = (
    ("Des vagues de huit mètres", "La houle frappe la digue de Saint-Guénolé depuis le soir."),
    ("Routes coupées", "Trois routes départementales sont fermées dans le Finistère sud."),
    ("Alerte rouge", "Météo-France place le Finistère en vigilance rouge vagues-submersion."),
    ("Trains supprimés", "La SNCF annule les TER entre Quimper et Brest jusqu'à demain midi."),
)


def post(n: int, **facts: object) -> RawPost:
    """Post n of a stream whose times run from the newest down, one minute apart."""
    headline, body = TEXTS[n]
    found = RawPost(headline, body, published_at=T0 - timedelta(minutes=n))
    return replace(found, **facts)


def counted(ids: list[str], **change: object) -> list[RawPost]:
    return [
        post(i, key=f"{LIVE}#{name}", url=f"{LIVE}#{name}", **change) for i, name in enumerate(ids)
    ]


@pytest.mark.parametrize(
    ("ids", "positional"),
    [
        (["post1", "post2", "post3"], True),  # counts the posts from the newest down
        (["post3", "post2", "post1"], False),  # creation numbers count down: kept
        (["post1", "post3", "post4"], False),  # a gap: no counter
        (["post1", "item2", "post3"], False),  # two names
        (["post1", "post2", "block-x"], False),  # one id that counts nothing
        (["post1"], False),  # one post proves nothing
        (["post-1", "post-2"], True),
    ],
)
def test_keys_that_only_count_the_posts_identify_nothing(ids: list[str], positional: bool) -> None:
    posts = counted(ids)
    assert positional_keys(posts) == ({p.key for p in posts} if positional else set())
    merged = merge_page(posts)
    assert len(merged) == len(posts)
    for m, p in zip(merged, posts, strict=True):
        if positional:  # known by their print only, linked to the page itself
            assert m.keys == [post_print(p)] and m.url == LIVE
        else:
            assert m.keys == [p.key, post_print(p)] and m.url == p.url


def test_counting_keys_need_every_time_and_times_from_the_newest_down() -> None:
    untimed = counted(["post1", "post2", "post3"])
    untimed[1].published_at = None
    assert positional_keys(untimed) == set()
    oldest_first = list(reversed(counted(["post3", "post2", "post1"])))
    assert [p.key for p in oldest_first] == [f"{LIVE}#post{n}" for n in (1, 2, 3)]
    assert positional_keys(oldest_first) == set()


def test_a_key_moments_copy_neither_makes_nor_breaks_a_counter() -> None:
    posts = counted(["post1", "post2", "post3"])
    copy = replace(posts[1], key=f"{LIVE}#km-1", url=f"{LIVE}#km-1", in_key_moments=True)
    assert positional_keys([copy, *posts]) == {p.key for p in posts}


def test_an_id_naming_another_element_is_known_by_that_elements_anchor_first() -> None:
    bare = post(0, key=f"{LIVE}#646219", url=LIVE, anchor=f"{LIVE}#block-646219")
    [m] = merge_page([bare])
    assert m.keys == [f"{LIVE}#block-646219", f"{LIVE}#646219", post_print(bare)]
    assert m.url == f"{LIVE}#block-646219"
    own = post(0, key=f"{LIVE}#block-1", url=f"{LIVE}#block-1", anchor=f"{LIVE}#block-1")
    [m] = merge_page([own])
    assert m.keys == [f"{LIVE}#block-1", post_print(own)] and m.url == f"{LIVE}#block-1"


@pytest.mark.parametrize(
    ("copy_id", "stream_id", "twins"),
    [
        ("post-16-hl", "post-16", True),
        ("post-16_km", "post-16", True),
        ("post-160", "post-16", False),  # another number, not an extension
        ("km-post-16", "post-16", False),
    ],
)
def test_a_copy_whose_anchor_extends_a_stream_posts_is_its_twin(
    copy_id: str, stream_id: str, twins: bool
) -> None:
    copy = post(0, key=f"{LIVE}#{copy_id}", highlighted=True, in_key_moments=True)
    copy.headline, copy.body = "Vagues", "Huit mètres à Saint-Guénolé."  # a short copy
    copy.published_at = None
    stream = [post(1, key=f"{LIVE}#other"), post(0, key=f"{LIVE}#{stream_id}")]
    assert stream_twins([copy, *stream]) == ({0: 2} if twins else {})


def test_a_copy_with_the_same_text_is_its_twin_whatever_its_time_and_punctuation() -> None:
    copy = post(2, key=f"{LIVE}#km", highlighted=True, in_key_moments=True, published_at=None)
    copy.headline = "ALERTE ROUGE !"
    copy.body = copy.body.replace("é", "e")
    stream = [post(0, key=f"{LIVE}#a"), post(2, key=f"{LIVE}#c")]
    assert stream_twins([copy, *stream]) == {0: 2}
    other_copy = replace(copy, key=f"{LIVE}#km2")  # copies are twins of stream posts only
    assert stream_twins([copy, other_copy]) == {}


def test_a_copy_joins_its_twin_under_the_twins_key_and_link() -> None:
    stream = [post(0, key=f"{LIVE}#post-7", url=f"{LIVE}#post-7"), post(1, key=f"{LIVE}#post-3")]
    longer = stream[0].body + " Les secours sont sur place."  # the copy is the richer one
    copy = replace(stream[0], key=f"{LIVE}#post-7-hl", url=f"{LIVE}#post-7-hl", body=longer)
    copy.highlighted = copy.in_key_moments = True
    merged = merge_page([copy, *stream])
    assert len(merged) == 2
    first = merged[0]
    assert first.post.body == longer and first.highlighted
    assert first.url == f"{LIVE}#post-7"  # the stream post's link, not the copy's
    publisher = [k for k in first.keys if not k.startswith("fp:")]
    assert publisher == [f"{LIVE}#post-7", f"{LIVE}#post-7-hl"]
    assert not merged[1].highlighted


def test_a_copy_of_a_stream_post_without_a_key_joins_it_by_its_print() -> None:
    stream = post(0, key=None, url=LIVE)  # no key to join by, and the copy has no time
    copy = replace(stream, key=f"{LIVE}#km", url=f"{LIVE}#km", published_at=None)
    copy.highlighted = copy.in_key_moments = True
    merged = merge_page([copy, stream])
    assert len(merged) == 1
    assert merged[0].highlighted and merged[0].post is stream and merged[0].url == LIVE


def test_a_counter_stream_with_a_post_without_an_id_keeps_its_counters_out() -> None:
    # The JSON-LD lists the newest posts as #post1..#post3; the HTML shows one more, older,
    # without an id. The counters are still counters (the next poll moves them).
    posts = [*counted(["post1", "post2", "post3"]), post(3, key=None, url=LIVE)]
    assert positional_keys(posts) == {p.key for p in posts[:3]}


def test_counters_are_judged_page_by_page() -> None:
    second = "https://x/live?page=2"
    first_page = counted(["post1", "post2"])
    other = [post(i, key=f"{second}#post{i - 1}") for i in (2, 3)]
    assert positional_keys([*first_page, *other]) == {p.key for p in [*first_page, *other]}


def test_a_copy_named_after_a_counter_is_no_identity() -> None:
    stream = counted(["post1", "post2", "post3"])
    short = stream[0].body[:30]
    copy = replace(stream[0], key=f"{LIVE}#post1-hl", anchor=f"{LIVE}#post1-hl", body=short)
    copy.published_at, copy.highlighted, copy.in_key_moments = None, True, True
    merged = merge_page([copy, *stream])
    assert len(merged) == 3  # the shortened, untimed copy joined its stream post
    assert merged[0].highlighted and merged[0].post is stream[0]
    assert not any("#post" in k for m in merged for k in m.keys)


def test_many_copies_are_paired_by_index() -> None:
    n = 2000
    stream = [
        RawPost(f"Titre {i}", f"Corps {i} " * 5, published_at=T0, key=f"{LIVE}#post-{i}")
        for i in range(n)
    ]
    copies = [
        RawPost(f"T{i}", "", key=f"{LIVE}#post-{i}-a-b-c-d", in_key_moments=True, highlighted=True)
        for i in range(n)
    ]
    assert stream_twins([*copies, *stream]) == {i: n + i for i in range(n)}


def test_a_post_is_looked_up_by_every_key_it_may_be_stored_under() -> None:
    bare = post(0, key=f"{LIVE}#646219", alt_keys=(f"{LIVE}#m",), anchor=f"{LIVE}#block-646219")
    assert lookup_keys(bare) == [
        f"{LIVE}#block-646219",
        f"{LIVE}#646219",
        f"{LIVE}#m",
        post_print(bare),
    ]
    assert lookup_keys(post(1)) == [post_print(post(1))]
