"""The seed live blog as it evolves from poll to poll: a list of immutable page states.

Step 0 shows the three oldest posts; every step up to step 9 adds the next two (so step 9 shows
the 21 posts of the day); step 10 adds nothing but corrects a headline typo (an edit-only pass,
as newsrooms do); step 11 adds the closing post and ends the live. Three edits happen on the way,
each visible from one step on, and the "35 pays" post joins the key moments two steps after it
first appears. `seed_state()` is the page exactly as the seed shows it (no edits applied).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from tests.newsroom.seed import PARIS, SeedPost, load_seed

FIRST_POSTS = 3
POSTS_PER_STEP = 2
TYPO = "ZELENSKY SALUE DES “DOCUMENTS SUBSTANCIELS”"
TYPO_FIXED = "ZELENSKY SALUE DES “DOCUMENTS SUBSTANTIELS”"
DRONE_BEFORE, DRONE_AFTER = "à quelque 200 kilomètres", "à quelque 180 kilomètres"
# Invented for the fixture: the paragraph the newsroom appends to the 12:46 post.
APPENDED_PARAGRAPH = (
    "Les deux dirigeants se sont brièvement adressés aux photographes sur le perron avant de "
    "rejoindre le salon où doit se tenir le déjeuner."
)


@dataclass(frozen=True)
class Edit:
    """A change to one post (found by its `time_text`), visible from `step` on, made `at`."""

    time_text: str
    step: int
    at: datetime
    apply: Callable[[SeedPost], SeedPost]
    description: str


def _fix_typo(p: SeedPost) -> SeedPost:
    return dataclasses.replace(p, headline=p.headline.replace("SUBSTANCIELS", "SUBSTANTIELS"))


def _drone_distance(p: SeedPost) -> SeedPost:
    paragraphs = [x.replace(DRONE_BEFORE, DRONE_AFTER) for x in p.paragraphs]
    return dataclasses.replace(p, paragraphs=paragraphs)


def _append_paragraph(p: SeedPost) -> SeedPost:
    return dataclasses.replace(p, paragraphs=[*p.paragraphs, APPENDED_PARAGRAPH])


def _paris(hour: int, minute: int) -> datetime:
    return datetime(2026, 1, 6, hour, minute, tzinfo=PARIS)


EDITS: tuple[Edit, ...] = (
    Edit("07:46", 3, _paris(12, 30), _drone_distance, "200 km becomes 180 km"),
    Edit("12:46", 5, _paris(15, 0), _append_paragraph, "a paragraph is appended"),
    Edit("20:09", 10, _paris(21, 15), _fix_typo, "SUBSTANCIELS is corrected"),
)
KEY_MOMENT_DELAY = 2  # steps between the 35-pays post's arrival and its highlight
LAST_STEP = 11


@dataclass(frozen=True)
class State:
    """The page at one poll: visible posts (oldest first), key-moment post numbers, end flag."""

    posts: list[SeedPost]
    key_moments: list[int] = field(default_factory=list)
    ended: bool = False
    step: int = 0

    @property
    def stream(self) -> list[SeedPost]:
        """The posts newest first, as pages and feeds show them (ties: higher n first)."""
        return sorted(self.posts, key=lambda p: (p.published_at, p.n), reverse=True)

    @property
    def highlights(self) -> list[SeedPost]:
        """The key-moment posts, in the order of `key_moments`."""
        by_n = {p.n: p for p in self.posts}
        return [by_n[n] for n in self.key_moments if n in by_n]

    @property
    def as_of(self) -> datetime:
        """The latest publication or edit time on the page (start of coverage when empty)."""
        times = [p.updated_at for p in self.posts]
        return max(times) if times else _paris(6, 0)

    def post(self, n: int) -> SeedPost:
        return next(p for p in self.posts if p.n == n)


def _visible_count(step: int, total: int) -> int:
    if step == LAST_STEP:
        return total
    return min(FIRST_POSTS + POSTS_PER_STEP * step, total - 1)


@cache
def _timeline() -> tuple[State, ...]:
    seed = load_seed()
    edits = {next(p.n for p in seed if p.time_text == e.time_text): e for e in EDITS}
    key_n = next(p.n for p in seed if p.key_moment)
    key_arrival = next(k for k in range(LAST_STEP + 1) if _visible_count(k, len(seed)) >= key_n)
    states: list[State] = []
    for step in range(LAST_STEP + 1):
        key = [key_n] if step >= key_arrival + KEY_MOMENT_DELAY else []
        posts = [
            dataclasses.replace(
                _edited(p, edits[p.n], step) if p.n in edits else p, key_moment=p.n in key
            )
            for p in seed[: _visible_count(step, len(seed))]
        ]
        states.append(State(posts, key, ended=step == LAST_STEP, step=step))
    return tuple(states)


def _edited(post: SeedPost, edit: Edit, step: int) -> SeedPost:
    if step < edit.step:
        return post
    return dataclasses.replace(edit.apply(post), modified_at=edit.at)


def timeline() -> list[State]:
    """The page at every step, step 0 first (at least 12 steps)."""
    return copy.deepcopy(list(_timeline()))


def seed_state() -> State:
    """The page exactly as the seed shows it: all posts, seed texts, key moments, ended."""
    seed = load_seed()
    return State(seed, [p.n for p in seed if p.key_moment], ended=True, step=LAST_STEP)


def utc_iso(dt: datetime) -> str:
    """2026-01-06T19:08:00Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_updates(state: State) -> list[dict[str, object]]:
    """What a perfect crawl of `state` stores: one dict per distinct post, newest first."""
    return [
        {
            "n": p.n,
            "headline": p.headline,
            "body": p.body,
            "published_at": utc_iso(p.published_at),
            "highlighted": p.n in state.key_moments,
        }
        for p in state.stream
    ]


def expected_revisions() -> dict[int, int]:
    """For every post, how many distinct (headline, body) versions it shows over the timeline."""
    versions: dict[int, set[tuple[str, str]]] = {}
    for state in _timeline():
        for p in state.posts:
            versions.setdefault(p.n, set()).add((p.headline, p.body))
    return {n: len(v) for n, v in sorted(versions.items())}
