"""What a source already holds, read before its crawl (storage/known.py): `post in known`
answers whether saving the post would change nothing, by the same rules a save applies,
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from crawler.models import CrawlResult, RawPost
from storage.crawls import save_crawl
from storage.db import Store
from storage.known import stored_posts
from storage.sources import ensure_sources

WHEN = datetime(2026, 2, 10, 21, 22, tzinfo=UTC)
KEYED = RawPost(
    "Des vagues de huit mètres",
    "La houle frappe la digue de Saint-Guénolé depuis le début de la soirée.",
    published_at=WHEN,
    key="https://news.example/live#post-7",
    alt_keys=("https://news.example/live#moment-7",),
)
UNKEYED = RawPost(
    "Routes coupées",
    "Trois routes départementales sont fermées dans le Finistère sud ce soir.",
    published_at=WHEN + timedelta(minutes=5),
)
ROUGH = RawPost(  # its time read from "il y a 5 min": it drifts from one fetch to the next
    "Alerte rouge",
    "Météo-France place le Finistère en vigilance rouge vagues-submersion.",
    published_at=WHEN + timedelta(minutes=8),
    time_approximate=True,
)


def _saved(store: Store) -> dict[str, int]:
    with store.session() as session:
        ids = ensure_sources(
            session, [(n, f"https://news.example/{n}", "liveblog") for n in ("a", "b", "c")]
        )
    with store.session() as session:
        save_crawl(session, ids["a"], CrawlResult("a", "", posts=[KEYED, UNKEYED, ROUGH]))
        save_crawl(session, ids["b"], CrawlResult("b", "", posts=[UNKEYED]))
    return ids


def test_held_posts_are_known_by_their_keys_or_their_print(store: Store) -> None:
    ids = _saved(store)
    with store.read_session() as session:
        known = stored_posts(session, [ids["a"]])[ids["a"]]
    assert KEYED in known and UNKEYED in known and ROUGH in known
    # Found again by any one key, or by its print when its key is new to the store.
    assert replace(KEYED, alt_keys=()) in known
    assert replace(KEYED, key=None) in known
    assert replace(KEYED, key="https://news.example/live#new-anchor") in known
    # An approximate time drifts by minutes between polls: still the same post.
    assert replace(ROUGH, published_at=ROUGH.published_at + timedelta(minutes=1)) in known
    # Spacing and quote style are not changes (the store would write nothing).
    assert replace(UNKEYED, body="  " + UNKEYED.body.replace(" ", "  ")) in known


def test_new_or_changed_posts_are_not_known(store: Store) -> None:
    ids = _saved(store)
    with store.read_session() as session:
        known = stored_posts(session, [ids["a"]])[ids["a"]]
    assert replace(KEYED, body=KEYED.body + " Un second paragraphe.") not in known  # edited
    assert replace(UNKEYED, headline="Routes rouvertes") not in known  # edited, no key
    # The same text at another exact minute is another post (a print has the minute).
    assert replace(UNKEYED, published_at=UNKEYED.published_at + timedelta(minutes=1)) not in known
    assert RawPost("Nouveau", "Un message que la source n'a jamais publié.") not in known


def test_each_source_is_known_apart(store: Store) -> None:
    ids = _saved(store)
    with store.read_session() as session:
        known = stored_posts(session, list(ids.values()))
    assert set(known) == set(ids.values())
    assert KEYED in known[ids["a"]] and KEYED not in known[ids["b"]]
    assert UNKEYED in known[ids["b"]]
    assert UNKEYED not in known[ids["c"]] and ROUGH not in known[ids["c"]]  # holds nothing


def test_a_post_found_at_another_elements_anchor_is_known_by_either(store: Store) -> None:
    """A structured post whose bare id names an element "block-<id>" is stored under both;
    the next poll may show it in the HTML (the anchor) or only in the JSON-LD (the id)."""
    bare = replace(
        KEYED,
        key="https://news.example/live#646219",
        alt_keys=(),
        anchor="https://news.example/live#block-646219",
    )
    with store.session() as session:
        ids = ensure_sources(session, [("a", "https://news.example/a", "liveblog")])
        save_crawl(session, ids["a"], CrawlResult("a", "", posts=[bare]))
    with store.read_session() as session:
        known = stored_posts(session, [ids["a"]])[ids["a"]]
    later = replace(bare, published_at=WHEN + timedelta(hours=1))  # another print
    assert replace(later, anchor=None) in known
    assert replace(later, key=None) in known
    assert replace(later, key=None, anchor=None) not in known
