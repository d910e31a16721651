"""A live blog copied from a news page as text, and its parser.

The format is the one a reader gets by copying a TF1info live page (the reference seed in
../shared/seed is such a copy): an intro paragraph, a "Les éléments marquants" block with one
copy of a post, then "Minute par minute", the stream, newest first. A post starts with
`HEADLINEHH:MM` (the time glued to the headline) followed by a date line (`10 février 2026`).
Page chrome that got copied along (tweets, photo credits, a video card, article cards, a teaser
of other lives, the signature) is recognised by the small explicit rules below and kept apart
from the bodies.

The newsroom serves the project's own text in that format (`FIXTURE_PATH`, written for the
project: a storm on the French Atlantic coast); the real seed is read only by the tests that
check the parser, the extractors and dedup on it, when ../shared is present.

Whitespace is normalised: non-breaking spaces become plain spaces, runs of spaces collapse,
lines are stripped. Everything else (accents, “ ” ’, the text's own typos) is kept as is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

FIXTURE_PATH = Path(__file__).resolve().parent / "data" / "tempete-ysolde-2026-02-10.txt"
PARIS = ZoneInfo("Europe/Paris")
KEY_MOMENTS_HEADER = "Les éléments marquants"
STREAM_HEADER = "Minute par minute"
CHROME_KINDS = frozenset({"tweet", "credit", "video", "related", "read_also", "teaser"})

MONTHS = {
    name: i
    for i, name in enumerate(
        (
            "janvier", "février", "mars", "avril", "mai", "juin",
            "juillet", "août", "septembre", "octobre", "novembre", "décembre",
        ),
        start=1,
    )
}  # fmt: skip
# A post starts with "HEADLINEHH:MM" (headline may be empty) immediately followed by a date line.
POST_START_RE = re.compile(r"^(?P<headline>.*?)(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)$")
DATE_RE = re.compile(r"^(?P<day>\d{1,2}) (?P<month>[a-zéû]+) (?P<year>\d{4})$")
# "text… pic.twitter.com/x — Name (@handle) January 6, 2026": an embedded tweet, flattened.
TWEET_RE = re.compile(
    r"^(?P<text>.*?)\s*(?P<pic>pic\.twitter\.com/\w+)\s+— (?P<author>.+) "
    r"\(@(?P<handle>\w+)\) (?P<date>[A-Z][a-z]+ \d{1,2}, \d{4})$"
)
# A video card: its title glued to "Source : <site>", then again to the play button's alt text.
VIDEO_RE = re.compile(r"^(?P<title>.+?)(?P<tail>Source : (?P<source>.+)|Logo lecture)$")
# The date line of an article card ("Publié le 5 janvier 2026 à 18h36").
CARD_DATE_RE = re.compile(r"^Publié le \d{1,2} [a-zéû]+ \d{4} à \d{1,2}h\d{2}$")
READ_ALSO = "Lire aussi"
TEASER = "Suivez nos directs du moment :"
SIGNATURE_RE = re.compile(r"^La rédaction de \S+$")


class BlogTextError(ValueError):
    """The text does not have the expected shape."""


@dataclass
class Chrome:
    """One piece of page chrome found inside a post: not part of its body.

    `position` is the number of body paragraphs that precede it in the page; `raw` holds the
    text lines it came from; `attrs` holds what a renderer needs (tweet author, card date, ...).
    """

    kind: str
    text: str
    position: int
    raw: tuple[str, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in CHROME_KINDS:
            raise BlogTextError(f"blog text: unknown chrome kind {self.kind!r}")


@dataclass
class Post:
    """One post of the live blog. `modified_at` is set only by timeline edits."""

    n: int
    headline: str
    paragraphs: list[str]
    published_at: datetime
    time_text: str
    date_text: str
    chrome: list[Chrome] = field(default_factory=list)
    key_moment: bool = False
    modified_at: datetime | None = None

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def updated_at(self) -> datetime:
        """When the post last changed: its edit time, else its publication time."""
        return self.modified_at or self.published_at


@dataclass
class BlogPage:
    """The whole page: intro paragraph, posts (oldest first) and the closing signature."""

    intro: str
    posts: list[Post]
    signature: str


def normalise(line: str) -> str:
    """Non-breaking spaces to spaces, runs of spaces collapsed, ends stripped."""
    return re.sub(r"[ \t\u00a0\u202f]+", " ", line).strip()


def parse_date(date_text: str, time_text: str) -> datetime:
    """ "10 février 2026" + "21:10" → an aware Europe/Paris datetime."""
    m = DATE_RE.match(date_text)
    if not m or m["month"] not in MONTHS:
        raise BlogTextError(f"blog text: not a French date: {date_text!r}")
    hour, minute = (int(x) for x in time_text.split(":"))
    return datetime(int(m["year"]), MONTHS[m["month"]], int(m["day"]), hour, minute, tzinfo=PARIS)


# --- chrome rules: each takes (lines, index) and returns (Chrome fields, lines consumed) or None.
ChromeMatch = tuple[str, str, dict[str, str], int]  # kind, text, attrs, lines consumed


def _tweet(lines: list[str], i: int) -> ChromeMatch | None:
    m = TWEET_RE.match(lines[i])
    if not m:
        return None
    attrs = {"author": m["author"], "handle": m["handle"], "date": m["date"], "pic": m["pic"]}
    return "tweet", m["text"], attrs, 1


def _credit(lines: list[str], i: int) -> ChromeMatch | None:
    """A photo credit is printed twice, glued: "AFPAFP" (caption and copyright)."""
    line, half = lines[i], len(lines[i]) // 2
    if len(line) % 2 or not half or line[:half] != line[half:]:
        return None
    return "credit", line[:half], {}, 1


def _video(lines: list[str], i: int) -> ChromeMatch | None:
    m = VIDEO_RE.match(lines[i])
    if not m or not m["source"]:
        return None
    used = 1
    nxt = _next_text(lines, i)
    follow = VIDEO_RE.match(lines[nxt]) if nxt is not None else None
    if follow and follow["title"] == m["title"] and not follow["source"]:
        used = nxt - i + 1  # the same card's "…Logo lecture" line
    return "video", m["title"], {"source": m["source"]}, used


def _related(lines: list[str], i: int) -> ChromeMatch | None:
    """An article card: a rubric line ("International") then "Publié le … à 18h36"."""
    nxt = _next_text(lines, i)
    if nxt is None or not CARD_DATE_RE.match(lines[nxt]) or len(lines[i].split()) > 3:
        return None
    return "related", lines[i], {"published": lines[nxt]}, nxt - i + 1


def _read_also(lines: list[str], i: int) -> ChromeMatch | None:
    """The "Lire aussi" label, then on the next line the title of the linked article."""
    nxt = _next_text(lines, i)
    if lines[i] != READ_ALSO or nxt is None:
        return None
    return "read_also", lines[nxt], {"label": READ_ALSO}, nxt - i + 1


def _teaser(lines: list[str], i: int) -> ChromeMatch | None:
    return ("teaser", TEASER, {}, 1) if lines[i] == TEASER else None


CHROME_RULES: tuple[Callable[[list[str], int], ChromeMatch | None], ...] = (
    _tweet,
    _credit,
    _video,
    _related,
    _read_also,
    _teaser,
)


def _next_text(lines: list[str], i: int) -> int | None:
    """Index of the next non-blank line after i, if any."""
    return next((j for j in range(i + 1, len(lines)) if lines[j]), None)


def _post_start(lines: list[str], i: int) -> re.Match[str] | None:
    m = POST_START_RE.match(lines[i])
    nxt = i + 1
    return m if m and nxt < len(lines) and DATE_RE.match(lines[nxt]) else None


def parse_blog(text: str) -> BlogPage:
    """Parse the text into its page: stream posts oldest first, numbered 1..N."""
    lines = [normalise(line) for line in text.splitlines()]
    intro: list[str] = []
    signature = ""
    sections: dict[str, list[Post]] = {"key": [], "stream": []}
    section: str | None = None
    post: Post | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if line in (KEY_MOMENTS_HEADER, STREAM_HEADER):
            section, post = ("key" if line == KEY_MOMENTS_HEADER else "stream"), None
            i += 1
            continue
        start = _post_start(lines, i)
        if start and section:
            time_text, date_text = f"{start['hour']}:{start['minute']}", lines[i + 1]
            post = Post(
                n=0,
                headline=start["headline"].strip(),
                paragraphs=[],
                published_at=parse_date(date_text, time_text),
                time_text=time_text,
                date_text=date_text,
            )
            sections[section].append(post)
            i += 2
            continue
        if SIGNATURE_RE.match(line):
            signature, post = line, None
            i += 1
            continue
        match = next((m for rule in CHROME_RULES if (m := rule(lines, i))), None)
        if match and post is not None:
            kind, chrome_text, attrs, used = match
            raw = tuple(x for x in lines[i : i + used] if x)
            post.chrome.append(Chrome(kind, chrome_text, len(post.paragraphs), raw, attrs))
            i += used
            continue
        if post is not None:
            post.paragraphs.append(line)
        elif section is None:
            intro.append(line)
        else:
            raise BlogTextError(f"blog text: line {i + 1} belongs to no post: {line!r}")
        i += 1
    posts = list(reversed(sections["stream"]))
    for n, p in enumerate(posts, start=1):
        p.n = n
    _mark_key_moments(posts, sections["key"])
    return BlogPage(intro="\n\n".join(intro), posts=posts, signature=signature)


def _mark_key_moments(posts: list[Post], copies: list[Post]) -> None:
    """Each key-moments copy is one stream post shown twice: find it and flag it."""
    for c in copies:
        same = [
            p
            for p in posts
            if (p.headline, p.time_text, p.date_text) == (c.headline, c.time_text, c.date_text)
        ]
        if len(same) != 1 or same[0].paragraphs != c.paragraphs:
            raise BlogTextError(f"blog text: key moment {c.headline!r} has no single stream twin")
        same[0].key_moment = True


@cache
def _load_page(path: Path) -> BlogPage:
    return parse_blog(path.read_text(encoding="utf-8"))


def load_page(path: Path = FIXTURE_PATH) -> BlogPage:
    """The parsed page (a fresh copy: callers may change it freely)."""
    return copy.deepcopy(_load_page(path))


def load_posts(path: Path = FIXTURE_PATH) -> list[Post]:
    """The page's posts, oldest first, `n` = 1..N (the fixture's 22 by default)."""
    return load_page(path).posts
