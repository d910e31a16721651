"""The numbers docs/dedup.md reports, checked: precision and recall of the thresholds, on the
fixture live blog and on the real seed (../shared, when present)."""

from __future__ import annotations

from pathlib import Path

from storage import dedup
from tests.newsroom.blogtext import load_posts
from tests.storage.dedup_quality import edit_score, hardest_negatives, story_score


def test_edit_matching_finds_every_edit_and_confuses_no_posts() -> None:
    score = edit_score()
    # 5 kinds × 22 posts, less the two that change nothing in the six-word closing post
    assert (score.true_pos, score.false_neg) == (108, 0)
    assert (score.false_pos, score.true_neg) == (0, 231)
    same_minute = edit_score(same_minute_only=True)
    assert same_minute.false_pos == 0 and same_minute.true_neg == 2


def test_the_fixture_holds_a_hard_negative() -> None:
    # A recap post repeats most of an earlier post's words: an overlap of single words would
    # take it for an edit of that post, the overlap of word bigrams does not.
    words, bigrams = hardest_negatives()
    assert words >= dedup.EDIT_MIN_OVERLAP > bigrams


def test_story_links_are_precise_and_find_every_feed_copy() -> None:
    links, candidates = story_score()
    assert links.false_pos == 0
    # 19 first-paragraph summaries + 3 rewrites by another outlet; the rewrites are the misses.
    assert links.true_pos + links.false_neg == 22
    assert links.true_pos >= 19
    assert candidates.recall >= links.recall


def test_the_real_seed_gives_the_same_answers(real_seed: Path) -> None:
    posts = load_posts(real_seed)
    score = edit_score(posts)
    assert (score.false_neg, score.false_pos, score.true_neg) == (0, 0, 231)
    assert score.true_pos == 105  # 5 kinds × 22 posts, less the 5 that change nothing
    assert edit_score(posts, same_minute_only=True).true_neg == 2
    links, _ = story_score(posts, rewrites={})
    assert (links.true_pos, links.false_neg, links.false_pos) == (19, 0, 0)
