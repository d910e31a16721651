"""A store seeded with the fixture live blog without crawling it: the 22 posts saved through
`storage.crawls.save_crawl`, once as a live blog and once as a feed that carries copies of
the same posts (so every post has a story across the two sources)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from crawler.models import CrawlResult, RawPost
from storage.crawls import save_crawl
from storage.db import Store
from storage.sources import ensure_sources
from tests.newsroom.timeline import State, fixture_state

SOURCES = ("live", "feed")
ARRIVAL = "CELLULE DE CRISE À L’ÉLYSÉE"  # the one headline naming the Élysée


def raw_posts(source: str, state: State | None = None) -> list[RawPost]:
    state = state or fixture_state()
    return [
        RawPost(
            headline=p.headline,
            body=p.body,
            published_at=p.published_at.astimezone(UTC),
            updated_at=p.updated_at.astimezone(UTC),
            url=f"https://news.example/{source}#post-{p.n}",
            key=f"https://news.example/{source}#post-{p.n}",
            highlighted=p.n in state.key_moments,
        )
        for p in state.stream
    ]


def save(store: Store, source_id: int, source: str, posts: list[RawPost], **kw: Any) -> Any:
    with store.session() as session:
        result = CrawlResult(source, f"https://news.example/{source}", posts=posts)
        return save_crawl(session, source_id, result, **kw)


def seed(store: Store) -> dict[str, int]:
    """The fixture's posts in both sources; returns source name -> id."""
    with store.session() as session:
        ids = ensure_sources(
            session, [(name, f"https://news.example/{name}", "auto") for name in SOURCES]
        )
    for name in SOURCES:
        save(store, ids[name], name, raw_posts(name))
    return ids


def edit_headline(store: Store, source_id: int, source: str, old: str, new: str) -> None:
    """Crawl the source again with one headline corrected (a new revision of that post)."""
    posts = [
        dataclasses.replace(p, headline=new, updated_at=datetime.now(UTC))
        if p.headline == old
        else p
        for p in raw_posts(source)
    ]
    save(store, source_id, source, posts)
