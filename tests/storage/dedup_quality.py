"""Precision and recall of the dedup thresholds on the seed fixtures.

Run `python -m tests.storage.dedup_quality` to print the tables written in docs/dedup.md;
`test_dedup_quality.py` checks the same numbers.

- Edits: positive pairs are a post and an edited version of it (five kinds of edit on each
  of the 22 posts); negative pairs are two different posts of the blog (231 pairs), the
  harder subset being the posts published in the same minute.
- Stories: positive pairs are a live-blog post and the same news elsewhere (its full feed
  entry, its first-paragraph summary, and for three posts another outlet's rewrite of the
  same AFP dispatch); negative pairs are a post and any other post's copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from storage import dedup
from tests.newsroom.seed import SeedPost, load_seed

Text = tuple[str, str]  # (headline, body)

EDITS: dict[str, Callable[[SeedPost], Text]] = {
    "typo in headline": lambda p: (p.headline.replace("E", "É", 1) + "S", p.body),
    "number changed": lambda p: (p.headline, p.body.replace("35", "36").replace("un ", "deux ")),
    "paragraph appended": lambda p: (
        p.headline,
        p.body + "\n\nMise à jour : précisions de l'Élysée attendues dans la soirée.",
    ),
    "headline rewritten": lambda p: ("LE POINT SUR : " + p.headline, p.body),
    "last paragraph cut": lambda p: (p.headline, "\n\n".join(p.paragraphs[:-1]) or p.body[:80]),
}

# Another outlet's version of the same dispatch: different headline, reworded lead, the
# AFP paragraph kept (as regional and national sites do with agency copy).
REWRITES: dict[str, Text] = {
    "ZELENSKY ARRIVE À L’ÉLYSÉE": (
        "Ukraine : Volodymyr Zelensky reçu par Emmanuel Macron à l'Elysée",
        "Le président ukrainien est arrivé ce mardi midi à Paris. Volodymyr Zelensky est "
        "arrivé mardi à la mi-journée au palais de l’Elysée à Paris, accueilli par Emmanuel "
        "Macron, pour un sommet des pays alliés de l’Ukraine, ont constaté des journalistes "
        "de l’AFP.",
    ),
    "DES TROUPES ALLEMANDES DANS LA FORCE MULTINATIONALE ?": (
        "Berlin pourrait envoyer des soldats dans un pays voisin de l'Ukraine",
        "Les troupes allemandes pourraient participer à la force multinationale, une fois un "
        "cessez-le-feu conclu avec la Russie, mais dans un pays membre de l’Otan, voisin de "
        "l’Ukraine, a déclaré mardi Friedrich Merz.",
    ),
    "UN MORT APRÈS UNE ATTAQUE DE DRONE EN RUSSIE": (
        "Russie : un mort dans une attaque de drone à Tver",
        "Une personne est décédée après une attaque de drone contre Tver, dans l’ouest de la "
        "Russie, indique le gouvernement régional. Les forces russes disent avoir abattu 129 "
        "drones ukrainiens dans la nuit.",
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


def edit_score(posts: list[SeedPost] | None = None, *, same_minute_only: bool = False) -> Score:
    posts = posts or load_seed()
    positives = [
        dedup.is_edit_of(p.headline, p.body, *edit(p)) for p in posts for edit in EDITS.values()
    ]
    negatives = [
        dedup.is_edit_of(a.headline, a.body, b.headline, b.body)
        for a in posts
        for b in posts
        if a.n < b.n and (not same_minute_only or dedup.same_minute(a.published_at, b.published_at))
    ]
    return _score(positives, negatives)


def _copies(p: SeedPost) -> list[Text]:
    copies = [(p.headline, p.body), (p.headline, p.paragraphs[0])]
    if p.headline in REWRITES:
        copies.append(REWRITES[p.headline])
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


def story_score(posts: list[SeedPost] | None = None) -> tuple[Score, Score]:
    """(verified links, LSH candidates) over live-blog posts against every copy."""
    posts = posts or load_seed()
    pos_link, neg_link, pos_cand, neg_cand = [], [], [], []
    for p in posts:
        mine = (p.headline, p.body)
        for q in posts:
            for copy in _copies(q):
                if q.n == p.n and copy == mine:
                    continue  # the post itself
                linked = _linked(mine, copy) and _candidate(mine, copy)
                (pos_link if q.n == p.n else neg_link).append(linked)
                (pos_cand if q.n == p.n else neg_cand).append(_candidate(mine, copy))
    return _score(pos_link, neg_link), _score(pos_cand, neg_cand)


def report() -> str:
    rows = [
        ("edits, all pairs", edit_score()),
        ("edits, same-minute pairs", edit_score(same_minute_only=True)),
    ]
    links, candidates = story_score()
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


if __name__ == "__main__":
    print(report())
