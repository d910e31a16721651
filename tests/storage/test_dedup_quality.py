"""The numbers docs/dedup.md reports, checked: precision and recall of the thresholds."""

from __future__ import annotations

from tests.storage.dedup_quality import edit_score, story_score


def test_edit_matching_finds_every_edit_and_confuses_no_posts() -> None:
    score = edit_score()
    assert (score.true_pos, score.false_neg) == (110, 0)
    assert (score.false_pos, score.true_neg) == (0, 231)
    same_minute = edit_score(same_minute_only=True)
    assert same_minute.false_pos == 0 and same_minute.true_neg == 2


def test_story_links_are_precise_and_find_every_feed_copy() -> None:
    links, candidates = story_score()
    assert links.false_pos == 0
    # 19 first-paragraph summaries + 3 rewrites by another outlet; the rewrites are the misses.
    assert links.true_pos + links.false_neg == 22
    assert links.true_pos >= 19
    assert candidates.recall >= links.recall
