"""Which watch an update matches: the watches as the store sees them, and the matching of
a stored update's text against a watch's query, in Python (pure).

The query is the syntax of `vigie updates --search` (storage/search.py): words AND-ed,
"phrases", -exclusions. It is matched here on the text itself rather than by the index,
so that matching costs no query per watch inside the crawl's transaction: the text is cut
into words once per update (the index's words: accents and case folded, every punctuation
mark a separator), then each watch tests a few sets. A phrase matches its words in a row
within the headline or within the body, as the index's phrases do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from storage.search import SearchQuery, Term, parse_query
from storage.search import tokens as index_tokens

EVENTS = ("new", "edited")
FIRST_CRAWL = ("digest", "each", "none")


FOLD_CACHE = 16_384  # words whose folding is remembered (most of a text's are repeats)
FOLD_CACHED_CHARS = 40  # longer words are folded each time: a hostile page's do not stay


def fold(word: str) -> str:
    """A word as both indexes compare it: accents and case folded."""
    if word.isascii():  # nothing to decompose: the common case, at the cost of lower()
        return word.lower()
    if len(word) <= FOLD_CACHED_CHARS:
        return _fold_cached(word)
    return _fold(word)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_fold_cached = lru_cache(maxsize=FOLD_CACHE)(_fold)


def words_of(text: str) -> tuple[str, ...]:
    return tuple(map(fold, index_tokens(text)))


@dataclass(frozen=True, slots=True)
class Text:
    """An update's text cut into words once, for every watch to test."""

    headline: tuple[str, ...]
    body: tuple[str, ...]
    words: frozenset[str]

    @classmethod
    def of(cls, headline: str, body: str) -> Text:
        h, b = words_of(headline), words_of(body)
        return cls(h, b, frozenset(h) | frozenset(b))

    def has(self, term: tuple[str, ...]) -> bool:
        if len(term) == 1:
            return term[0] in self.words
        if not self.words.issuperset(term):
            return False
        return _in_row(term, self.headline) or _in_row(term, self.body)


def _in_row(term: tuple[str, ...], words: tuple[str, ...]) -> bool:
    n = len(term)
    first = term[0]
    return any(words[i] == first and words[i : i + n] == term for i in range(len(words) - n + 1))


@dataclass(frozen=True, slots=True)
class Query:
    """A watch's query, folded and split once: the words every match needs (a cheap
    first test), the terms it must hold and those it must not."""

    text: str
    include: tuple[tuple[str, ...], ...]
    exclude: tuple[tuple[str, ...], ...]
    needed: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Query:
        parsed: SearchQuery = parse_query(text)

        def folded(terms: Sequence[Term]) -> tuple[tuple[str, ...], ...]:
            return tuple(tuple(fold(t) for t in term.tokens) for term in terms)

        include, exclude = folded(parsed.include), folded(parsed.exclude)
        return cls(text, include, exclude, frozenset(w for t in include for w in t))

    @property
    def empty(self) -> bool:
        return not self.include

    def matches(self, text: Text) -> bool:
        if not self.needed <= text.words:
            return False
        return all(text.has(t) for t in self.include) and not any(text.has(t) for t in self.exclude)


@dataclass(frozen=True, slots=True)
class Watch:
    """One `[[alerts]]` entry, as matching and the outbox need it."""

    name: str
    query: Query | None = None  # None: every update
    sources: frozenset[str] | None = None  # None: every source
    highlighted: bool = False  # only the page's key moments
    on: frozenset[str] = frozenset(EVENTS)
    digest: float | None = None  # seconds: what matches within this window is one message
    burst: int = 5  # more matches than this in one poll: one digest for the poll
    first_crawl: str = "digest"  # a source's first crawl: digest | each | none

    def wants_source(self, source: str) -> bool:
        return self.sources is None or source in self.sources

    def matches(self, text: Text, *, highlighted: bool) -> bool:
        if self.highlighted and not highlighted:
            return False
        return self.query is None or self.query.matches(text)


@dataclass(frozen=True, slots=True)
class HealthWatch:
    """`[health_alerts]`: a source failing `after_failures` polls in a row, a live blog
    whose posts disappeared, and their recovery, once each."""

    after_failures: int = 3
    sources: frozenset[str] | None = None
    name: str = "health"

    def wants_source(self, source: str) -> bool:
        return self.sources is None or source in self.sources


@dataclass(frozen=True, slots=True)
class Watches:
    """Every watch of a config (empty when it has none)."""

    updates: tuple[Watch, ...] = ()
    health: HealthWatch | None = None
    by_source: dict[str, tuple[Watch, ...]] = field(default_factory=dict, compare=False)

    def for_source(self, source: str) -> tuple[Watch, ...]:
        found = self.by_source.get(source)
        if found is None:
            found = self.by_source[source] = tuple(
                w for w in self.updates if w.wants_source(source)
            )
        return found

    @property
    def empty(self) -> bool:
        return not self.updates and self.health is None
