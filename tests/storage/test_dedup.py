"""The matching rules as table tests over the fixture live blog's text (pure functions, no
store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.models import RawPost
from storage import dedup, dedup_page
from tests.newsroom.blogtext import load_posts

POSTS = {p.n: p for p in load_posts()}


def post(n: int, **change: object) -> RawPost:
    p = POSTS[n]
    raw = RawPost(headline=p.headline, body=p.body, published_at=p.published_at.astimezone(UTC))
    for k, v in change.items():
        setattr(raw, k, v)
    return raw


def by_headline(text: str) -> int:
    return next(n for n, p in POSTS.items() if text in p.headline)


def test_folding_for_identity_ignores_spacing_quotes_and_case() -> None:
    assert dedup.fold_for_identity("  L’Élysée\u00a0 “Paris” \u200b") == 'l\'élysée "paris"'
    assert dedup.words("ÉLYSÉE, sécurité!") == ["elysee", "securite"]


def test_content_hash_ignores_spacing_but_not_words() -> None:
    assert dedup.content_hash("A  b", "x\n\ny") == dedup.content_hash("a b", "x y")
    assert dedup.content_hash("A", "200 km") != dedup.content_hash("A", "180 km")


def test_same_minute_posts_have_different_prints() -> None:
    injured, peak = by_headline("GRIÈVEMENT BLESSÉ"), by_headline("PAROXYSME")
    a, b = post(injured), post(peak)
    assert dedup.same_minute(a.published_at, b.published_at)
    assert dedup.content_print(a.headline, a.body, a.published_at) != dedup.content_print(
        b.headline, b.body, b.published_at
    )


EDITS = [
    (
        "typo in headline",
        "INDEMINSATIONS",
        lambda p: (p.headline.replace("INDEMINSATIONS", "INDEMNISATIONS"), p.body),
    ),
    (
        "number in body",
        "PREMIÈRES COUPURES",
        lambda p: (p.headline, p.body.replace("38 000", "46 000")),
    ),
    (
        "paragraph appended",
        "CRISE À L’ÉLYSÉE",
        lambda p: (p.headline, p.body + "\n\nLe chef de l’Etat se rendra jeudi à Quimper."),
    ),
    (
        "headline rewritten",
        "AUCUN TRAIN",
        lambda p: ("TRAFIC FERROVIAIRE INTERROMPU À L’OUEST DE RENNES", p.body),
    ),
    (
        "body shortened",
        "VIGILANCE ROUGE",
        lambda p: (p.headline, p.body.split("\n\n")[0]),
    ),
]


@pytest.mark.parametrize(("what", "headline", "edit"), EDITS, ids=[e[0] for e in EDITS])
def test_edits_are_recognised(what: str, headline: str, edit: object) -> None:
    p = POSTS[by_headline(headline)]
    new_headline, new_body = edit(p)  # type: ignore[operator]
    assert (new_headline, new_body) != (p.headline, p.body)
    assert dedup.is_edit_of(p.headline, p.body, new_headline, new_body)


def test_different_posts_are_not_edits_of_each_other() -> None:
    pairs = 0
    for a in POSTS.values():
        for b in POSTS.values():
            if a.n < b.n:
                pairs += 1
                assert not dedup.is_edit_of(a.headline, a.body, b.headline, b.body), (a.n, b.n)
    assert pairs == 22 * 21 // 2


def test_merge_page_joins_key_moment_copies() -> None:
    peak = by_headline("PAROXYSME")
    stream = [post(n) for n in sorted(POSTS)]
    copy = post(peak, highlighted=True)
    merged = dedup_page.merge_page([copy, *stream])
    assert len(merged) == 22
    [m] = [m for m in merged if m.post.headline == POSTS[peak].headline]
    assert m.highlighted


def test_merge_page_joins_copy_with_its_own_anchor_and_a_short_copy() -> None:
    peak = by_headline("PAROXYSME")
    full = post(peak, key="https://x/live#post-16")
    anchored = post(peak, key="https://x/live#post-16-hl", highlighted=True)
    short = post(peak, body=POSTS[peak].paragraphs[0], highlighted=True)
    merged = dedup_page.merge_page([anchored, short, full])
    assert len(merged) == 1
    m = merged[0]
    assert m.highlighted and m.post.body == POSTS[peak].body
    assert {"https://x/live#post-16", "https://x/live#post-16-hl"} <= set(m.keys)
    assert m.keys[-1].startswith("fp:")


def test_a_key_shared_by_different_posts_identifies_nothing() -> None:
    # A feed giving every entry the live blog's URL as link.
    posts = [post(n, key="https://x/live") for n in (3, 4, 5)]
    assert dedup_page.ambiguous_keys(posts) == {"https://x/live"}
    merged = dedup_page.merge_page(posts)
    assert len(merged) == 3
    assert all(k.startswith("fp:") for m in merged for k in m.keys)


def test_story_signatures_find_the_same_news_and_only_it() -> None:
    peak = POSTS[by_headline("PAROXYSME")]
    feed_summary = dedup.shingles(peak.headline, peak.paragraphs[0])
    full = dedup.shingles(peak.headline, peak.body)
    assert dedup.same_story(feed_summary, full)
    bands_a, bands_b = (
        dedup.lsh_bands(full),
        dedup.lsh_bands(dedup.shingles(peak.headline, peak.body)),
    )
    assert bands_a == bands_b and len(bands_a) == dedup.BANDS
    others = [p for p in POSTS.values() if p.n != peak.n]
    assert not any(dedup.same_story(full, dedup.shingles(o.headline, o.body)) for o in others)


def test_minute_is_stable_across_timezones() -> None:
    t = datetime(2026, 2, 10, 20, 10, 30, tzinfo=UTC)
    assert dedup.minute(t) == dedup.minute(t.astimezone().replace(second=0))
    assert dedup.minute(t) != dedup.minute(t + timedelta(minutes=1))


def test_bands_of_a_batch_are_the_bands_of_each_text() -> None:
    texts = [(p.headline, p.body) for p in POSTS.values()] + [("", ""), ("Paix", ""), ("a b", "")]
    batch = dedup.lsh_bands_many([dedup.tokens(h, b) for h, b in texts])
    assert batch == [dedup.lsh_bands(dedup.shingles(h, b)) for h, b in texts]
    assert batch[-3] == [] and all(len(bs) == dedup.BANDS for bs in batch[:-3] + batch[-2:])
    assert len({b for bs in batch for b in bs}) == dedup.BANDS * (len(texts) - 1)


def test_bands_are_the_stored_scheme() -> None:
    # Stored lsh_bands rows were computed by this function: a change of any of these values
    # needs a migration that recomputes them (as 0003 did).
    bands = dedup.lsh_bands(
        dedup.shingles("Réunion à l'Élysée", "Les chefs de parti reçus ce soir")
    )
    assert bands[:4] == [
        -8201359140082551934,
        -5266311839192743971,
        -2008070971337622357,
        -6942646061482324391,
    ]
    assert dedup.lsh_bands({"paix"})[0] == 5997222137546244307
