"""The fixture live blog as it evolves from poll to poll: a list of immutable page states.

Step 0 shows the three oldest posts; every step up to step 9 adds the next two (so step 9 shows
the 21 posts of the storm, the last one after midnight); step 10 adds nothing but corrects a
headline typo (an edit-only pass, as newsrooms do); step 11 adds the closing post of the next
morning and ends the live. Three edits happen on the way, each visible from one step on and
made between the previous step and its own, and the paroxysm post joins the key moments two
steps after it first appears. `fixture_state()` is the page exactly as the text shows it (no
edits applied).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from tests.newsroom.blogtext import PARIS, Post, load_posts

FIRST_POSTS = 3
POSTS_PER_STEP = 2
TYPO = "LE GOUVERNEMENT PROMET DES INDEMINSATIONS RAPIDES"
TYPO_FIXED = "LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES"
NUMBER_BEFORE, NUMBER_AFTER = "quelque 38 000 foyers", "quelque 46 000 foyers"
# The paragraph the newsroom appends to the 11:35 post once the crisis meeting is over.
APPENDED_PARAGRAPH = (
    "À l’issue de la réunion, le chef de l’Etat a annoncé qu’il se rendrait dans le Finistère "
    "dès que les conditions de sécurité le permettraient."
)


@dataclass(frozen=True)
class Edit:
    """A change to one post (found by its `time_text`), visible from `step` on, made `at`."""

    time_text: str
    step: int
    at: datetime
    apply: Callable[[Post], Post]
    description: str


def _fix_typo(p: Post) -> Post:
    return dataclasses.replace(p, headline=p.headline.replace(TYPO, TYPO_FIXED))


def _change_number(p: Post) -> Post:
    paragraphs = [x.replace(NUMBER_BEFORE, NUMBER_AFTER) for x in p.paragraphs]
    return dataclasses.replace(p, paragraphs=paragraphs)


def _append_paragraph(p: Post) -> Post:
    return dataclasses.replace(p, paragraphs=[*p.paragraphs, APPENDED_PARAGRAPH])


def _paris(day: int, hour: int, minute: int) -> datetime:
    """A time of the storm: 10 or 11 February 2026, Paris time."""
    return datetime(2026, 2, day, hour, minute, tzinfo=PARIS)


EDITS: tuple[Edit, ...] = (
    Edit("07:10", 3, _paris(10, 10, 30), _change_number, "38 000 homes become 46 000"),
    Edit("11:35", 5, _paris(10, 13, 20), _append_paragraph, "a paragraph is appended"),
    Edit("21:11", 10, _paris(11, 0, 45), _fix_typo, "INDEMINSATIONS is corrected"),
)
KEY_MOMENT_DELAY = 2  # steps between the paroxysm post's arrival and its highlight
LAST_STEP = 11


@dataclass(frozen=True)
class State:
    """The page at one poll: visible posts (oldest first), key-moment post numbers, end flag."""

    posts: list[Post]
    key_moments: list[int] = field(default_factory=list)
    ended: bool = False
    step: int = 0

    @property
    def stream(self) -> list[Post]:
        """The posts newest first, as pages and feeds show them (ties: higher n first)."""
        return sorted(self.posts, key=lambda p: (p.published_at, p.n), reverse=True)

    @property
    def highlights(self) -> list[Post]:
        """The key-moment posts, in the order of `key_moments`."""
        by_n = {p.n: p for p in self.posts}
        return [by_n[n] for n in self.key_moments if n in by_n]

    @property
    def as_of(self) -> datetime:
        """The latest publication or edit time on the page (start of coverage when empty)."""
        times = [p.updated_at for p in self.posts]
        return max(times) if times else _paris(10, 6, 0)

    def post(self, n: int) -> Post:
        return next(p for p in self.posts if p.n == n)


def _visible_count(step: int, total: int) -> int:
    if step == LAST_STEP:
        return total
    return min(FIRST_POSTS + POSTS_PER_STEP * step, total - 1)


@cache
def _timeline() -> tuple[State, ...]:
    posts = load_posts()
    edits = {next(p.n for p in posts if p.time_text == e.time_text): e for e in EDITS}
    key_n = next(p.n for p in posts if p.key_moment)
    key_arrival = next(k for k in range(LAST_STEP + 1) if _visible_count(k, len(posts)) >= key_n)
    states: list[State] = []
    for step in range(LAST_STEP + 1):
        key = [key_n] if step >= key_arrival + KEY_MOMENT_DELAY else []
        shown = [
            dataclasses.replace(
                _edited(p, edits[p.n], step) if p.n in edits else p, key_moment=p.n in key
            )
            for p in posts[: _visible_count(step, len(posts))]
        ]
        states.append(State(shown, key, ended=step == LAST_STEP, step=step))
    return tuple(states)


def _edited(post: Post, edit: Edit, step: int) -> Post:
    if step < edit.step:
        return post
    return dataclasses.replace(edit.apply(post), modified_at=edit.at)


def timeline() -> list[State]:
    """The page at every step, step 0 first (at least 12 steps)."""
    return copy.deepcopy(list(_timeline()))


def fixture_state(posts: list[Post] | None = None) -> State:
    """The page exactly as the text shows it: all posts, texts as written, key moments, ended.

    `posts` defaults to the fixture's; the real-seed tests pass the seed's."""
    posts = load_posts() if posts is None else posts
    return State(posts, [p.n for p in posts if p.key_moment], ended=True, step=LAST_STEP)


def utc_iso(dt: datetime) -> str:
    """2026-02-10T20:10:00Z."""
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
