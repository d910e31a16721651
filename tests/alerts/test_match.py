"""Watch matching on an update's text: the search syntax (words, "phrases", -exclusions),
folded as the index folds (accents, case, punctuation), the highlighted and sources
filters; and agreement with the database's own search on the same texts."""

from __future__ import annotations

import pytest

from storage.alert_match import FOLD_CACHED_CHARS, Query, Text, Watch, Watches, _fold, fold

CASES = [
    # (query, headline, body, matches)
    ("zelensky", "Zelensky à Bruxelles", "", True),
    ("zelensky", "", "Le président ZELENSKY est arrivé.", True),
    ("zelensky", "Poutine", "rien", False),
    ("zélensky", "Zelensky", "", True),  # accents folded both ways
    ("Élysée", "", "réunion à l'elysee ce soir", True),  # l'Élysée -> l, elysee
    ("cessez-le-feu", "", "un cessez le feu est signé", True),  # a phrase of its parts
    ("cessez-le-feu", "", "le feu a cessé", False),
    ('"sans commentaire"', "", "il est parti sans commentaire", True),
    ('"sans commentaire"', "", "commentaire sans objet", False),
    ('zelensky -"sans commentaire"', "Zelensky", "parti sans commentaire", False),
    ('zelensky -"sans commentaire"', "Zelensky", "sans un commentaire", True),
    ("zelensky -poutine", "Zelensky et Poutine", "", False),
    ("zelensky biden", "Zelensky", "et Biden", True),  # words: anywhere, both columns
    ('"zelensky biden"', "Zelensky", "Biden", False),  # a phrase never spans headline/body
    ("œuvre", "", "une oeuvre", True),  # the index's œ -> oe fold
    ("straße", "", "die STRASSE", True),
    ("(zelensky*)", "", "zelensky", True),  # operators in a query are plain text
    ("zelensky", "", "zelenskyy", False),  # whole words only
]


@pytest.mark.parametrize(("query", "headline", "body", "expected"), CASES)
def test_query_matches_like_the_search(
    query: str, headline: str, body: str, expected: bool
) -> None:
    assert Query.parse(query).matches(Text.of(headline, body)) is expected


def test_a_query_of_exclusions_only_means_the_words() -> None:
    # As `updates --search -macron`: the word, not "everything but".
    assert Query.parse("-macron").matches(Text.of("Macron", ""))


@pytest.mark.parametrize("junk", ["", "   ", '""', "- -", "***", "(", '"'])
def test_queries_without_words_are_empty(junk: str) -> None:
    assert Query.parse(junk).empty


def test_highlighted_and_sources_filters() -> None:
    text = Text.of("Zelensky", "")
    key_only = Watch("w", Query.parse("zelensky"), highlighted=True)
    assert not key_only.matches(text, highlighted=False)
    assert key_only.matches(text, highlighted=True)
    some = Watch("s", None, sources=frozenset({"afp"}))
    watches = Watches((key_only, some))
    assert watches.for_source("afp") == (key_only, some)
    assert watches.for_source("tf1") == (key_only,)
    assert Watch("all").matches(Text.of("", ""), highlighted=False)


def test_huge_text_is_matched_in_linear_time() -> None:
    # A hostile post: a million words, the phrase's first word everywhere.
    body = "sans " * 1_000_000
    q = Query.parse('"sans commentaire"')
    assert not q.matches(Text.of("", body))


def test_folding_is_the_same_on_every_path() -> None:
    """ASCII words take a shortcut and short ones are remembered: both fold as the full
    decomposition does (accents, case, ligatures, other scripts, long hostile words)."""
    words = [chr(c) for c in range(128)]
    words += ["Élysée", "ÉLYSÉE", "straße", "ﬁn", "İstanbul", "Ǆemal", "Ωμέγα", "ｆｕｌｌ", "n̈"]
    words += ["é" * (FOLD_CACHED_CHARS + 1), "A" * 10_000, "Zelensky", "COVID-19"]
    for word in words:
        assert fold(word) == fold(word) == _fold(word), word
