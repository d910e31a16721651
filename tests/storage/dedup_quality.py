"""Precision and recall of the dedup thresholds on the fixture live blog (and on the real
seed, when ../shared is present).

Run `python -m tests.storage.dedup_quality` to print the tables written in docs/dedup.md;
`test_dedup_quality.py` checks the same numbers.

- Edits: positive pairs are a post and an edited version of it (five kinds of edit on each
  of the 22 posts, where the edit changes something: a closing post of six words has no
  number to change and no paragraph to cut); negative pairs are two different posts of the
  blog (231 pairs), the harder subsets being the posts published in the same minute and a
  recap post that repeats most of an earlier one's words.
- Stories: positive pairs are a live-blog post and the same news elsewhere (its full feed
  entry, its first-paragraph summary, and for three posts another outlet's rewrite of the
  same agency dispatch); negative pairs are a post and any other post's copies.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from storage import dedup
from tests.newsroom.blogtext import Post, load_posts
from tests.shared import REAL_SEED, find_shared, missing_reason

Text = tuple[str, str]  # (headline, body)


def _number_changed(p: Post) -> Text:
    """The first number of the body raised by one, else "un" become "deux"."""
    body = re.sub(r"\d+", lambda m: str(int(m[0]) + 1), p.body, count=1)
    return p.headline, body if body != p.body else p.body.replace("un ", "deux ", 1)


EDITS: dict[str, Callable[[Post], Text]] = {
    "typo in headline": lambda p: (p.headline.replace("E", "É", 1) + "S", p.body),
    "number changed": _number_changed,
    "paragraph appended": lambda p: (
        p.headline,
        p.body + "\n\nMise à jour : précisions de la préfecture attendues dans la soirée.",
    ),
    "headline rewritten": lambda p: ("LE POINT SUR : " + p.headline, p.body),
    "last paragraph cut": lambda p: (p.headline, "\n\n".join(p.paragraphs[:-1]) or p.body[:80]),
}

# Another outlet's version of the same dispatch: different headline, reworded lead, the
# agency paragraph kept (as regional and national sites do with agency copy).
REWRITES: dict[str, Text] = {
    "UN CHALUTIER EN DIFFICULTÉ AU LARGE DE LA POINTE DU RAZ": (
        "Finistère : six marins en détresse à bord d'un chalutier de Douarnenez",
        "Un appel de détresse a été lancé mardi matin au large du Finistère. Le chalutier "
        "Gwalarn, parti de Douarnenez avec six marins à bord, a lancé un appel de détresse "
        "vers 9 heures à une quinzaine de milles de la pointe du Raz, après une avarie de "
        "moteur, selon la préfecture maritime.",
    ),
    "UN HOMME GRIÈVEMENT BLESSÉ À QUIMPERLÉ": (
        "Tempête Ysolde : un automobiliste entre la vie et la mort après la chute d'un arbre",
        "Un arbre s'est abattu sur une voiture mardi soir à Quimperlé. Un homme d’une "
        "soixantaine d’années a été grièvement blessé par la chute d’un arbre sur sa voiture, "
        "a indiqué la préfecture. Son pronostic vital est engagé.",
    ),
    "UNE RAFALE À 174 KM/H À BELLE-ÎLE-EN-MER": (
        "Record de vent à Belle-Île : 174 km/h mesurés au sémaphore",
        "Le vent a soufflé à 174 km/h mardi à Belle-Île-en-Mer. Une rafale de 174 km/h a été "
        "enregistrée à 11 h 50 au sémaphore de l'île, la plus forte mesurée depuis le début de "
        "l’épisode, selon Météo-France.",
    ),
}


@dataclass(frozen=True)
class Score:
    true_pos: int
    false_neg: int
    false_pos: int
    true_neg: int

    @property
    def precision(self) -> float:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0


def _score(positives: Iterable[bool], negatives: Iterable[bool]) -> Score:
    pos, neg = list(positives), list(negatives)
    return Score(sum(pos), len(pos) - sum(pos), sum(neg), len(neg) - sum(neg))


def edit_score(posts: list[Post] | None = None, *, same_minute_only: bool = False) -> Score:
    posts = posts or load_posts()
    positives = [
        dedup.is_edit_of(p.headline, p.body, *edited)
        for p in posts
        for edit in EDITS.values()
        if (edited := edit(p)) != (p.headline, p.body)
    ]
    negatives = [
        dedup.is_edit_of(a.headline, a.body, b.headline, b.body)
        for a in posts
        for b in posts
        if a.n < b.n and (not same_minute_only or dedup.same_minute(a.published_at, b.published_at))
    ]
    return _score(positives, negatives)


def _copies(p: Post, rewrites: Mapping[str, Text]) -> list[Text]:
    copies = [(p.headline, p.body), (p.headline, p.paragraphs[0])]
    if p.headline in rewrites:
        copies.append(rewrites[p.headline])
    return copies


def _linked(a: Text, b: Text) -> bool:
    """The store's rule: the same headline, or verified shingle overlap."""
    same_headline = bool(dedup.headline_hash(a[0])) and dedup.headline_hash(
        a[0]
    ) == dedup.headline_hash(b[0])
    return same_headline or dedup.same_story(dedup.shingles(*a), dedup.shingles(*b))


def _candidate(a: Text, b: Text) -> bool:
    """Would the LSH bands (or the headline index) bring b up as a candidate for a?"""
    bands_a = set(dedup.lsh_bands(dedup.shingles(*a)))
    same_headline = bool(dedup.headline_hash(a[0])) and dedup.headline_hash(
        a[0]
    ) == dedup.headline_hash(b[0])
    return same_headline or bool(bands_a & set(dedup.lsh_bands(dedup.shingles(*b))))


def story_score(
    posts: list[Post] | None = None, rewrites: Mapping[str, Text] = REWRITES
) -> tuple[Score, Score]:
    """(verified links, LSH candidates) over live-blog posts against every copy."""
    posts = posts or load_posts()
    pos_link, neg_link, pos_cand, neg_cand = [], [], [], []
    for p in posts:
        mine = (p.headline, p.body)
        for q in posts:
            for copy in _copies(q, rewrites):
                if q.n == p.n and copy == mine:
                    continue  # the post itself
                linked = _linked(mine, copy) and _candidate(mine, copy)
                (pos_link if q.n == p.n else neg_link).append(linked)
                (pos_cand if q.n == p.n else neg_cand).append(_candidate(mine, copy))
    return _score(pos_link, neg_link), _score(pos_cand, neg_cand)


def report(posts: list[Post] | None = None, rewrites: Mapping[str, Text] = REWRITES) -> str:
    rows = [
        ("edits, all pairs", edit_score(posts)),
        ("edits, same-minute pairs", edit_score(posts, same_minute_only=True)),
    ]
    links, candidates = story_score(posts, rewrites)
    rows += [("stories, verified links", links), ("stories, LSH candidates", candidates)]
    lines = [
        "| rule | positives found | false positives | precision | recall |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, s in rows:
        lines.append(
            f"| {name} | {s.true_pos}/{s.true_pos + s.false_neg} | "
            f"{s.false_pos}/{s.false_pos + s.true_neg} | {s.precision:.3f} | "
            f"{s.recall:.3f} |"
        )
    return "\n".join(lines)


def hardest_negatives(posts: list[Post] | None = None) -> tuple[float, float]:
    """The highest word overlap and word-bigram overlap between two different posts."""
    posts = posts or load_posts()
    word_overlap = bigram_overlap = 0.0
    for a in posts:
        for b in posts:
            if a.n < b.n:
                ta, tb = a.headline + "\n" + a.body, b.headline + "\n" + b.body
                wa, wb = set(dedup.words(ta)), set(dedup.words(tb))
                word_overlap = max(word_overlap, len(wa & wb) / min(len(wa), len(wb)))
                bigram_overlap = max(bigram_overlap, dedup.text_similarity(ta, tb)[0])
    return word_overlap, bigram_overlap


def main() -> None:
    print("fixture live blog (tests/newsroom/data):")
    print(report())
    words, bigrams = hardest_negatives()
    print(f"different posts: word overlap up to {words:.2f}, bigram overlap up to {bigrams:.2f}")
    seed: Path | None = find_shared(*REAL_SEED)
    if seed is None:
        print(missing_reason(*REAL_SEED), file=sys.stderr)
        return
    print("\nreal seed (../shared/seed, no rewrites):")
    print(report(load_posts(seed), rewrites={}))
    words, bigrams = hardest_negatives(load_posts(seed))
    print(f"different posts: word overlap up to {words:.2f}, bigram overlap up to {bigrams:.2f}")


if __name__ == "__main__":
    main()
