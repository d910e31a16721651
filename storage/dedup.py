"""Deduplication rules as pure functions: text folded for identity, identity keys, in-page merging,
edit matching and near-duplicate signatures.

Identity of a post, strongest first:
1. a publisher key (JSON-LD url/@id, element id, feed guid, canonical link) — unless the
   same key is carried by posts that are plainly different (a feed giving every entry the
   live blog's URL), in which case that key identifies nothing and is dropped;
2. a content print: folded headline + body + published minute (`fp:` key); without the
   minute for a post whose time is approximate (read from "5 min ago": it drifts by a minute
   or so from one poll to the next, and a stored post's time is never moved by it);
3. for an edit (the prints differ), the stored post of the same source published in the same
   minute whose text is similar enough (`is_edit_of`), never the time alone.

Stories (the same news in other sources) use MinHash signatures over word shingles, banded
for LSH lookups in the database, verified by exact shingle overlap (`same_story`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from difflib import SequenceMatcher
from functools import cache, lru_cache
from typing import Any

from storage.inputs import PostIn

# Edit matching (same source, same published minute): tuned on the seed fixtures, see
# docs/dedup.md. overlap = |A∩B| / min(|A|,|B|) over word bigrams; jaccard = |A∩B| / |A∪B|.
EDIT_MIN_OVERLAP = 0.7
EDIT_MIN_JACCARD = 0.2
EDIT_HEADLINE_RATIO = 0.8  # a headline this similar is the same post if the body overlaps
EDIT_BODY_CONTAINED = 0.9  # body bigram overlap: one body holds the other
# Stories (other sources, published within STORY_WINDOW of each other).
STORY_MIN_JACCARD = 0.45  # word 3-shingles
STORY_MIN_CONTAINMENT = 0.7  # for a feed summary inside a full post
STORY_WINDOW_HOURS = 48
NUM_PERM = 64
BANDS, ROWS = 16, 4  # LSH: candidate when one band of 4 rows agrees (S-curve centre ~0.5)
SHINGLE = 3

_QUOTE_PAIRS = (
    ("’", "'"),
    ("‘", "'"),
    ("“", '"'),
    ("”", '"'),
    ("«", '"'),
    ("»", '"'),
    ("\u00a0", " "),
)
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=4096)  # one post's texts are folded for its print, hash and shingles
def fold_for_identity(text: str) -> str:
    """The form of a text that identity is computed on (content prints and hashes, edit
    matching): case, quote style, accents' composition and spacing folded away; words and
    punctuation kept. Not `crawler.text.loose_key`, the crawler's comparison key, which
    drops accents and punctuation too."""
    text = unicodedata.normalize("NFKC", text or "")
    for old, new in _QUOTE_PAIRS:  # str.replace of the few present beats str.translate
        if old in text:
            text = text.replace(old, new)
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split()).casefold()  # split() splits on what \s matches


class _CombiningMarks(dict[int, int | None]):
    """str.translate table deleting combining marks, filled as code points are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_NO_MARKS = _CombiningMarks()


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed if decomposed.isascii() else decomposed.translate(_NO_MARKS)


def words(text: str) -> list[str]:
    """Accent-free lowercase words."""
    return _WORD.findall(fold_accents(fold_for_identity(text)))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@lru_cache(maxsize=4096)  # a crawl hashes each key of its posts three times
def key_hash(key: str) -> str:
    return _digest(key)


def content_hash(headline: str, body: str) -> str:
    """Changes when the headline or body changes in more than spacing or quote style."""
    return _digest(fold_for_identity(headline) + "\x1f" + fold_for_identity(body))


def headline_hash(headline: str) -> str | None:
    folded = " ".join(words(headline))
    return _digest(folded) if folded else None


def minute(dt: datetime | None) -> str:
    """The published minute as a stable string (epoch minutes), "-" when unknown."""
    return "-" if dt is None else str(int(dt.timestamp()) // 60)


def post_print(post: PostIn) -> str:
    """The content print of a post; an approximate time ("5 min ago", counted from each
    fetch) is left out, so that the next poll's slightly different reading is the same post."""
    return content_print(
        post.headline, post.body, None if post.time_approximate else post.published_at
    )


def content_print(headline: str, body: str, published_at: datetime | None) -> str:
    """The `fp:` key of a post without (or beside) a publisher id."""
    text = (
        fold_for_identity(headline)
        + "\x1f"
        + fold_for_identity(body)
        + "\x1f"
        + minute(published_at)
    )
    return "fp:" + _digest(text)


def same_minute(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and minute(a) == minute(b)


# --- edits ------------------------------------------------------------------------------


def _ratio(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _bigrams(text: str) -> set[str]:
    w = words(text)
    if len(w) < 2:
        return set(w)
    return {w[i] + " " + w[i + 1] for i in range(len(w) - 1)}


def text_similarity(a: str, b: str) -> tuple[float, float]:
    """(overlap, jaccard) of the two texts' word bigrams.

    Bigrams, not single words: posts of one live blog share most of their vocabulary
    (on the seed, two different posts reach a word overlap of 0.76 but a bigram overlap of
    at most 0.57), while an edit keeps nearly all of its bigrams.
    """
    wa, wb = _bigrams(a), _bigrams(b)
    if not wa or not wb:
        return (1.0, 1.0) if wa == wb else (0.0, 0.0)
    inter = len(wa & wb)
    return inter / min(len(wa), len(wb)), inter / len(wa | wb)


def is_edit_of(headline_a: str, body_a: str, headline_b: str, body_b: str) -> bool:
    """Could these two texts be two versions of one post? (Time is checked by the caller.)"""
    overlap, jaccard = text_similarity(headline_a + "\n" + body_a, headline_b + "\n" + body_b)
    if overlap >= EDIT_MIN_OVERLAP and jaccard >= EDIT_MIN_JACCARD:
        return True
    body_overlap = text_similarity(body_a, body_b)[0]
    # One body inside the other (a paragraph added or cut) whatever the headline did; short
    # bodies of a few words prove nothing.
    if body_overlap >= EDIT_BODY_CONTAINED and min(len(words(body_a)), len(words(body_b))) >= 5:
        return True
    # A rewritten body under a nearly unchanged headline.
    return bool(
        headline_a
        and headline_b
        and _ratio(fold_for_identity(headline_a), fold_for_identity(headline_b))
        >= EDIT_HEADLINE_RATIO
        and body_overlap >= 0.5
    )


def edit_score(headline_a: str, body_a: str, headline_b: str, body_b: str) -> float:
    """How alike two versions are (higher is closer), to pick the best of several candidates."""
    overlap, jaccard = text_similarity(headline_a + "\n" + body_a, headline_b + "\n" + body_b)
    return overlap + jaccard


# --- stories ----------------------------------------------------------------------------

# MinHash over word 3-shingles, a batch of texts at a time in numpy. A shingle is hashed from
# its three words' hashes (blake2b of each word, memoized: news vocabulary repeats), mixed
# with MurmurHash3's 64-bit finalizer; its high 32 bits go through NUM_PERM permutations
# a * h + b mod 2^32 (a odd: a bijection), drawn by numpy's RandomState(MINHASH_SEED); a
# band key mixes its ROWS minima with the band number. Persisted bands depend on every step:
# changing one means recomputing lsh_bands (migration 0003 did it once).
MINHASH_SEED = 7
_WORD_HASHES: dict[str, int] = {}
_WORD_HASHES_MAX = 500_000
_GOLDEN = 0x9E3779B97F4A7C15  # stands in for missing words of a short text's one shingle


@cache
def _permutations() -> tuple[Any, Any]:
    import numpy as np  # imported on the first write, not by every command

    gen = np.random.RandomState(MINHASH_SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _fmix64(h: Any) -> Any:
    """MurmurHash3's finalizer on a uint64 array: an avalanching bijection."""
    h = h ^ (h >> 33)
    h = h * 0xFF51AFD7ED558CCD
    h = h ^ (h >> 33)
    h = h * 0xC4CEB9FE1A85EC53
    return h ^ (h >> 33)


def _word_hash(word: str) -> int:
    h = _WORD_HASHES.get(word)
    if h is None:
        if len(_WORD_HASHES) >= _WORD_HASHES_MAX:
            _WORD_HASHES.clear()
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        h = _WORD_HASHES[word] = int.from_bytes(digest, "little")
    return h


def tokens(headline: str, body: str) -> list[str]:
    """The words of "headline body" (no word spans the space); each part's folded text
    is likely cached already (its content print and hash were just taken)."""
    return words(headline) + words(body)


def shingles_of(token_list: Sequence[str]) -> set[str]:
    n = len(token_list)
    if n < SHINGLE:
        return {" ".join(token_list)} if token_list else set()
    return {" ".join(token_list[i : i + SHINGLE]) for i in range(n - SHINGLE + 1)}


def shingles(headline: str, body: str) -> set[str]:
    return shingles_of(tokens(headline, body))


def lsh_bands(shingle_set: set[str]) -> list[int]:
    """One signed 64-bit key per LSH band of the text's MinHash signature."""
    columns: tuple[list[int], list[int], list[int]] = ([], [], [])
    for shingle in shingle_set:
        if not shingle:
            continue
        hashes = [_word_hash(w) for w in shingle.split(" ")]
        for column, h in zip(columns, _padded(hashes), strict=True):
            column.append(h)
    return _bands(*columns, [len(columns[0])])[0]


def lsh_bands_many(token_lists: Sequence[Sequence[str]]) -> list[list[int]]:
    """`lsh_bands(shingles_of(t))` of each token list, the whole batch at once."""
    firsts: list[int] = []
    seconds: list[int] = []
    thirds: list[int] = []
    counts: list[int] = []
    known = _WORD_HASHES.get
    for token_list in token_lists:
        hashes = list(map(known, token_list))
        if None in hashes:
            hashes = [
                _word_hash(t) if h is None else h for t, h in zip(token_list, hashes, strict=True)
            ]
        if len(hashes) >= SHINGLE:
            firsts += hashes[:-2]
            seconds += hashes[1:-1]
            thirds += hashes[2:]
            counts.append(len(hashes) - 2)
        elif hashes:
            first, second, third = _padded(hashes)
            firsts.append(first)
            seconds.append(second)
            thirds.append(third)
            counts.append(1)
        else:
            counts.append(0)
    return _bands(firsts, seconds, thirds, counts)


def _padded(hashes: list[int]) -> tuple[int, int, int]:
    """The three word hashes of a shingle; a short text's one shingle has fewer words."""
    first, second, third = [*hashes, _GOLDEN, _GOLDEN][:SHINGLE]
    return first, second, third


def _bands(
    firsts: list[int], seconds: list[int], thirds: list[int], counts: list[int]
) -> list[list[int]]:
    """Band keys of each text, given its shingles' word hashes ([] for no shingle)."""
    import numpy as np

    out: list[list[int]] = [[] for _ in counts]
    if not firsts:
        return out
    w1, w2, w3 = (np.array(x, dtype=np.uint64) for x in (firsts, seconds, thirds))
    mixed = _fmix64(w1 ^ _fmix64(w2 + _fmix64(w3 ^ np.uint64(_GOLDEN))))
    a, b = _permutations()
    permuted = (mixed >> 32).astype(np.uint32)[:, None] * a + b  # wraps: mod 2^32
    full = [i for i, n in enumerate(counts) if n]
    starts = np.cumsum([0, *counts])[full]
    sig = np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint64)
    sig = sig.reshape(len(full), BANDS, 4)  # ROWS = 4: a band's minima are two uint64
    key = _fmix64(
        ((sig[:, :, 0] << 32) | sig[:, :, 1])
        ^ _fmix64(((sig[:, :, 2] << 32) | sig[:, :, 3]) + np.arange(1, BANDS + 1, dtype=np.uint64))
    )
    for i, row in zip(full, key.view(np.int64).tolist(), strict=True):
        out[i] = row
    return out


def same_story(a: set[str], b: set[str]) -> bool:
    """Verified near-duplicate: enough shared shingles, by Jaccard or by containment."""
    if not a or not b:
        return False
    inter = len(a & b)
    return (
        inter / len(a | b) >= STORY_MIN_JACCARD
        or inter / min(len(a), len(b)) >= STORY_MIN_CONTAINMENT
    )
