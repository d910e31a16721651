"""The words of a search marked in the text shown: the query's words and phrases (not its
exclusions) found the way the index finds them, accents and case folded, and a snippet
of a body around its first match. Pieces of text come out, never markup: the template
wraps the matched ones in <mark> and escapes them all."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from storage.search import SQLITE_FOLDS, parse_query

# The words of storage.search's tokenizer (letters and digits, their combining accents).
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_FOLD = str.maketrans(dict(SQLITE_FOLDS))
SCAN_CHARS = 20_000  # of a body looked through for its first match
FIRST_SCAN = 2_000  # looked through first: most first matches are near the start
SNIPPET_CHARS = 280

Pieces = list[tuple[str, bool]]  # (text, matched)


@lru_cache(maxsize=65_536)  # news text repeats its words: each is folded once
def fold(word: str) -> str:
    """A word as the index compares it: œ → oe and the like, no accents, no case."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class Marker:
    """The matches of one query in any text."""

    def __init__(self, query: str | None) -> None:
        parsed = parse_query(query or "")
        self.terms = [tuple(fold(w) for w in t.tokens) for t in parsed.include]

    def _spans(self, text: str) -> list[tuple[int, int]]:
        if not self.terms:
            return []
        words = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(text)]
        folded = [w[2] for w in words]
        firsts = {term[0] for term in self.terms}
        spans: list[tuple[int, int]] = []
        for i in range(len(words)):
            if folded[i] not in firsts:
                continue
            for term in self.terms:
                if tuple(folded[i : i + len(term)]) == term:
                    end = words[i + len(term) - 1][1]
                    if spans and words[i][0] <= spans[-1][1]:
                        spans[-1] = (spans[-1][0], max(spans[-1][1], end))
                    else:
                        spans.append((words[i][0], end))
        return spans

    def pieces(self, text: str) -> Pieces:
        """The text cut into matched and unmatched pieces, in order."""
        out: Pieces = []
        at = 0
        for start, end in self._spans(text):
            if start > at:
                out.append((text[at:start], False))
            out.append((text[start:end], True))
            at = end
        if at < len(text) or not out:
            out.append((text[at:], False))
        return out

    def snippet(self, body: str, width: int = SNIPPET_CHARS) -> Pieces:
        """About `width` characters of the body around its first match (its start when
        nothing matches), cut at spaces, with … where text was left out."""
        spans = self._spans(body[:FIRST_SCAN]) or self._spans(body[:SCAN_CHARS])
        first = spans[0][0] if spans else 0
        start = max(0, first - width // 3)
        if start:
            space = body.find(" ", start, first)
            start = space + 1 if space >= 0 else start
        end = min(len(body), start + width)
        if end < len(body):
            space = body.rfind(" ", max(start, first + 1), end)
            end = space if space > start else end
        text = " ".join(body[start:end].split())
        out = self.pieces(text)
        if start:
            out.insert(0, ("… ", False))
        if end < len(body):
            out.append((" …", False))
        return out
