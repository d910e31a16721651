"""Synthetic news text, deterministic: posts, live-blog pages and feeds for the benchmarks.

Words follow a Zipf law over a vocabulary of common French words and made-up ones, so that
full-text postings and shingle sets look like those of real news (a few very common words,
a long tail of rare ones). Posts have a headline and two to four paragraphs. Everything is
drawn from a seeded generator: the same arguments give the same text on every machine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from html import escape

import numpy as np

COMMON = (
    "de la le et les des à en du un une que pour dans sur au est a qui par pas plus il "
    "ne se ce sont avec son sa ses elle ont été aux ou mais nous on leurs leur tout cette "
    "comme être fait après avant selon contre entre sans deux trois depuis lors encore "
    "aussi très bien où dont même alors ainsi"
)
NEWS = (
    "président gouvernement ministre guerre paix sommet accord armée frappe drone missile "
    "ukraine russie france europe paris kiev moscou washington élysée conférence réunion "
    "annonce déclaration soldats civils blessés morts attaque défense sécurité garanties "
    "cessez-le-feu négociations diplomatie alliés otan coalition troupes frontière "
    "région ville habitants électricité énergie économie sanctions aide humanitaire "
    "journalistes presse direct minute heure matin soir nuit jour semaine janvier "
    "zelensky macron starmer merz trump poutine émissaire délégation document signature "
    "premier dernier nouveau nouvelle grand grande national international européen "
    "militaire politique officiel public opposition parlement vote loi budget"
)
SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go la le li lo lu "
    "ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti "
    "to tu va ve vi vo an en in on ou eau ier ion ent ais ette elle ance isme"
)
VOCABULARY_SIZE = 30_000
ZIPF_S = 1.07


@cache
def vocabulary() -> tuple[list[str], np.ndarray]:
    """The words, most frequent first, and their cumulative probabilities."""
    rng = np.random.default_rng(12345)
    words: list[str] = list(dict.fromkeys(COMMON.split() + NEWS.split()))
    seen = set(words)
    syllables = SYLLABLES.split()
    while len(words) < VOCABULARY_SIZE:
        n = int(rng.integers(2, 5))
        word = "".join(syllables[int(i)] for i in rng.integers(0, len(syllables), n))
        if word not in seen:
            seen.add(word)
            words.append(word)
    ranks = np.arange(1, len(words) + 1, dtype=np.float64)
    weights = 1.0 / ranks**ZIPF_S
    return words, np.cumsum(weights / weights.sum())


@dataclass(frozen=True, slots=True)
class Post:
    """One synthetic post: what a page or feed shows of it."""

    n: int
    headline: str
    paragraphs: tuple[str, ...]
    published_at: datetime

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


class Writer:
    """Draws words, sentences and posts from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.words, self.cumulative = vocabulary()

    def draw(self, count: int) -> list[str]:
        picks = np.searchsorted(self.cumulative, self.rng.random(count))
        words = self.words
        return [words[min(int(i), len(words) - 1)] for i in picks]

    def sentence(self, low: int, high: int) -> str:
        return self._sentence(self.draw(int(self.rng.integers(low, high))))

    def _sentence(self, w: list[str]) -> str:
        w[0] = w[0].capitalize()
        # a number now and then, as news has ("180 kilomètres", "35 pays")
        if self.rng.random() < 0.5:
            w.insert(int(self.rng.integers(1, len(w) + 1)), str(int(self.rng.integers(2, 999))))
        return " ".join(w) + "."

    def headline(self) -> str:
        w = self.draw(int(self.rng.integers(4, 10)))
        return " ".join(w).upper() if self.rng.random() < 0.3 else " ".join(w).capitalize()

    def paragraph(self) -> str:
        return " ".join(self.sentence(8, 22) for _ in range(int(self.rng.integers(1, 4))))

    def post(self, n: int, published_at: datetime) -> Post:
        """A headline and 2 to 4 paragraphs of 1 to 3 sentences of 8 to 21 words."""
        sentences = self.rng.integers(1, 4, int(self.rng.integers(2, 5)))
        lengths = self.rng.integers(8, 22, int(sentences.sum()))
        words = self.draw(int(lengths.sum()))
        said = [
            self._sentence(words[end - size : end])
            for size, end in zip(lengths.tolist(), np.cumsum(lengths).tolist(), strict=True)
        ]
        paragraphs, at = [], 0
        for count in sentences.tolist():
            paragraphs.append(" ".join(said[at : at + count]))
            at += count
        return Post(n, self.headline(), tuple(paragraphs), published_at)


def posts(seed: int, count: int, start: datetime, step: timedelta) -> list[Post]:
    """`count` posts, oldest first, one every `step` from `start`."""
    w = Writer(seed)
    return [w.post(n, start + step * n) for n in range(count)]


def edited(post: Post, seed: int) -> Post:
    """The same post after an edit: one number or word of its last paragraph changed."""
    w = Writer(seed)
    last = post.paragraphs[-1].split(" ")
    i = int(w.rng.integers(0, len(last)))
    last[i] = w.draw(1)[0] + ("." if last[i].endswith(".") else "")
    return Post(post.n, post.headline, (*post.paragraphs[:-1], " ".join(last)), post.published_at)


BASE_TIME = datetime(2026, 1, 6, 5, 0, tzinfo=UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def liveblog_page(url: str, title: str, items: Sequence[Post], *, ended: bool = False) -> str:
    """A live-blog page as news sites make them: JSON-LD `LiveBlogPosting` with every post,
    and the same posts in the HTML stream (newest first) among page chrome."""
    stream = sorted(items, key=lambda p: (p.published_at, p.n), reverse=True)
    updates = [
        {
            "@type": "BlogPosting",
            "@id": f"{url}#post-{p.n}",
            "url": f"{url}#post-{p.n}",
            "headline": p.headline,
            "articleBody": p.body,
            "datePublished": _iso(p.published_at),
            "dateModified": _iso(p.published_at),
        }
        for p in stream
    ]
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": url,
        "url": url,
        "headline": title,
        "coverageStartTime": _iso(BASE_TIME),
        "liveBlogUpdate": updates,
    }
    if ended and stream:
        data["coverageEndTime"] = _iso(stream[0].published_at)
    script = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    articles = "\n".join(
        f'<article class="post" id="post-{p.n}">'
        f'<time datetime="{_iso(p.published_at)}">{p.published_at:%H:%M}</time>'
        f'<h2 class="post-title">{escape(p.headline)}</h2>'
        f'<div class="post-body">{"".join(f"<p>{escape(x)}</p>" for x in p.paragraphs)}</div>'
        '<div class="share"><a href="#">Partager</a><a href="#">Copier le lien</a></div>'
        "</article>"
        for p in stream
    )
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f'<link rel="canonical" href="{escape(url)}">'
        f'<script type="application/ld+json">{script}</script></head><body>'
        '<header><nav><a href="/">Accueil</a><a href="/international">International</a>'
        "</nav></header><main>"
        f'<h1 class="live-title">{escape(title)}</h1>'
        f'<section class="live-stream">{articles}</section></main>'
        "<footer><p>La rédaction</p></footer></body></html>"
    )


def rss_feed(url: str, title: str, items: Sequence[Post]) -> str:
    """An RSS 2.0 feed of the posts, newest first, each with its guid and full text."""
    stream = sorted(items, key=lambda p: (p.published_at, p.n), reverse=True)
    entries = "".join(
        "<item>"
        f"<title>{escape(p.headline)}</title>"
        f"<link>{escape(url)}/{p.n}</link>"
        f'<guid isPermaLink="false">{escape(url)}#{p.n}</guid>'
        f"<pubDate>{p.published_at:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
        f"<description>{escape(''.join(f'<p>{x}</p>' for x in p.paragraphs))}</description>"
        "</item>"
        for p in stream
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(url)}</link>"
        f"<description>{escape(title)}</description>{entries}</channel></rss>"
    )
