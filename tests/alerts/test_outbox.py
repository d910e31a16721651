"""The outbox on real databases (SQLite and PostgreSQL): events written in the crawl's
transaction (rolled back with it), new and edited updates per watch, first crawls and
bursts as one batch, health changes once each; and the watch matching agreeing with the
database's own full-text search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crawler.models import CrawlResult, RawPost
from storage.alert_match import HealthWatch, Query, Watch, Watches
from storage.crawls import save_crawl
from storage.db import Store
from storage.models import AlertEvent, Update
from storage.outbox import CrawlOutcome, enqueue_crawl
from storage.queries import search_updates
from storage.sources import ensure_sources
from tests.alerts.test_match import CASES

T0 = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)


def post(n: int, text: str = "", *, headline: str | None = None, hl: bool = False) -> RawPost:
    return RawPost(
        headline=headline if headline is not None else f"Titre {n}",
        body=text or f"Texte numéro {n} du direct.",
        published_at=T0 + timedelta(minutes=n),
        key=f"https://x/live#p{n}",
        highlighted=hl,
    )


class Source:
    """One source, its crawls saved with their events as the poller does."""

    def __init__(self, store: Store, watches: Watches, name: str = "afp") -> None:
        self.store, self.watches, self.name = store, watches, name
        with store.session() as s:
            self.id = ensure_sources(s, [(name, f"https://x/{name}", "liveblog")])[name]
        self.had_posts = False
        self.failures = 0
        self.now = T0

    def crawl(
        self,
        posts: list[RawPost],
        *,
        error: str | None = None,
        fail: bool = False,
        status: str | None = None,
    ) -> int:
        self.now += timedelta(minutes=1)
        status = status or ("error" if error else "ok")
        result = CrawlResult(self.name, "https://x", posts=posts, status=status, error=error)
        before = self.failures
        after = before + 1 if error else 0
        with self.store.session() as s:
            counts = save_crawl(s, self.id, result, now=self.now)
            made = enqueue_crawl(
                s,
                self.watches,
                CrawlOutcome(
                    self.id,
                    self.name,
                    counts.new_ids,
                    counts.changed_ids,
                    counts.highlighted_ids,
                    had_posts=self.had_posts,
                    ok=result.ok,
                    gone=status == "gone",
                    error=error,
                    failures_before=before,
                    failures_after=after,
                ),
                self.now,
            )
            if fail:
                raise RuntimeError("the crawl's transaction fails after the events")
        self.failures = after
        self.had_posts = self.had_posts or bool(posts)
        return made


def events(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        rows = s.execute(select(AlertEvent).order_by(AlertEvent.id)).scalars()
        return [
            {"watch": e.watch, "kind": e.kind, "key": e.key, "batch": e.batch, "rev": e.revision}
            for e in rows
        ]


def test_new_and_edited_updates_per_watch(store: Store) -> None:
    watches = Watches(
        (
            Watch("zel", Query.parse("zelensky"), first_crawl="each"),
            Watch("edits", None, on=frozenset({"edited"})),
            Watch("key", None, highlighted=True, first_crawl="each"),
        )
    )
    src = Source(store, watches)
    src.crawl([post(1), post(2, "Zelensky arrive.")])
    assert [(e["watch"], e["kind"]) for e in events(store)] == [("zel", "new")]
    src.crawl([post(1), post(2, "Zelensky arrive à Kyiv."), post(3, hl=True)])
    got = [(e["watch"], e["kind"], e["rev"], e["batch"]) for e in events(store)[1:]]
    assert got == [
        ("zel", "edited", 2, None),
        ("edits", "edited", 2, None),
        ("key", "new", 1, None),
    ]
    keys = [e["key"] for e in events(store)]
    assert len(set(keys)) == len(keys)
    assert keys[1].endswith(":r2")
    # post 1 joins the key moments: it arrives for the watch of key moments
    src.crawl([post(1, hl=True), post(2, "Zelensky arrive à Kyiv."), post(3, hl=True)])
    assert [(e["watch"], e["kind"]) for e in events(store)[4:]] == [("key", "highlighted")]


def test_an_edit_that_removes_the_watched_words_is_reported(store: Store) -> None:
    src = Source(store, Watches((Watch("zel", Query.parse("zelensky")),)))
    src.had_posts = True
    src.crawl([post(1, "Zelensky parle.")])
    src.crawl([post(1, "Le président parle.")])
    assert [e["kind"] for e in events(store)] == ["new", "edited"]


def test_first_crawl_and_bursts_are_one_batch(store: Store) -> None:
    watches = Watches(
        (
            Watch("all", None, burst=3),
            Watch("quiet", None, first_crawl="none"),
            Watch("dig", None, digest=60.0),
        )
    )
    src = Source(store, watches)
    src.crawl([post(n) for n in range(1, 41)])  # a first crawl of 40 posts
    first = events(store)
    by_watch = {w: [e for e in first if e["watch"] == w] for w in ("all", "quiet", "dig")}
    assert len(by_watch["all"]) == 40 and len({e["batch"] for e in by_watch["all"]}) == 1
    assert by_watch["all"][0]["batch"].startswith("poll:")
    assert by_watch["quiet"] == []
    assert {e["batch"] for e in by_watch["dig"]} == {"digest"}
    src.crawl([post(n) for n in range(1, 43)])  # two new: alone
    later = [e for e in events(store)[len(first) :] if e["watch"] == "all"]
    assert [e["batch"] for e in later] == [None, None]
    src.crawl([post(n) for n in range(1, 50)])  # seven new, more than the burst of 3
    burst = [e for e in events(store) if e["watch"] == "all"][42:]
    assert len(burst) == 7 and len({e["batch"] for e in burst}) == 1 and burst[0]["batch"]
    quiet = [e for e in events(store) if e["watch"] == "quiet"]
    assert len(quiet) == 9  # after its first crawl, each new post alerts


def test_events_roll_back_with_the_crawl(store: Store) -> None:
    src = Source(store, Watches((Watch("all", None, first_crawl="each"),)))
    with pytest.raises(RuntimeError):
        src.crawl([post(1)], fail=True)
    assert events(store) == []
    with store.session() as s:
        assert s.execute(select(Update)).first() is None
    src.crawl([post(1)])
    assert len(events(store)) == 1


def test_health_changes_once_each(store: Store) -> None:
    src = Source(store, Watches((), HealthWatch(after_failures=3)))
    src.crawl([post(1)])
    for _ in range(5):
        src.crawl([], error="fetch: connection refused")
    src.crawl([post(1)])
    src.crawl([post(1)])
    for _ in range(3):
        src.crawl([], error="page: no posts found: page structure changed?")
    kinds = [e["kind"] for e in events(store)]
    assert kinds == ["failing", "recovered", "empty"]
    assert all(e["watch"] == "health" for e in events(store))


def test_a_page_gone_is_said_at_once(store: Store) -> None:
    """A 410 ends the polling of the source: no later poll would make `after_failures`."""
    src = Source(store, Watches((), HealthWatch(after_failures=3)))
    src.crawl([post(1)])
    src.crawl([], error="fetch: HTTP 410 Gone", status="gone")
    found = events(store)
    assert [e["kind"] for e in found] == ["gone"]
    with store.session() as s:
        detail = s.execute(select(AlertEvent.detail)).scalar_one()
    assert detail == "fetch: HTTP 410 Gone"


def test_health_of_some_sources_only(store: Store) -> None:
    watches = Watches((), HealthWatch(after_failures=1, sources=frozenset({"tf1"})))
    afp, tf1 = Source(store, watches, "afp"), Source(store, watches, "tf1")
    afp.crawl([], error="fetch: HTTP 500")
    tf1.crawl([], error="fetch: HTTP 500")
    assert [e["key"].split(":")[1] for e in events(store)] == [f"s{tf1.id}"]


def test_no_watches_costs_nothing(store: Store) -> None:
    assert Source(store, Watches()).crawl([post(1)]) == 0


def test_matching_agrees_with_the_database_search(store: Store) -> None:
    """The same query finds the same updates by the watch and by `updates --search`."""
    texts = sorted({(h, b) for _, h, b, _ in CASES})
    posts = [post(i, b or "-", headline=h) for i, (h, b) in enumerate(texts)]
    src = Source(store, Watches())
    src.crawl(posts)
    with store.session() as s:
        ids = {
            (u.headline, u.body if u.body != "-" else ""): u.id
            for u in s.execute(select(Update)).scalars()
        }
        for query in sorted({q for q, *_ in CASES}):
            q = Query.parse(query)
            from storage.alert_match import Text

            by_watch = {i for (h, b), i in ids.items() if q.matches(Text.of(h, b))}
            by_db = {r["id"] for r in search_updates(s, query)}
            assert by_watch == by_db, query
