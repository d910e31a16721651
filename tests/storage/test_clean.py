"""The store's text sanitiser: whatever a crawl hands over, no NUL, no control character but
newline and tab, and no lone surrogate reaches the database, on SQLite and PostgreSQL
(which refuses NUL outright); the same crawl again changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crawler.models import CrawlResult, RawPost, Validators
from storage.clean import clean_text
from storage.crawls import save_crawl
from storage.db import Store
from storage.known import stored_posts
from storage.models import CrawlRun, HttpValidator, Revision, Source, Update, UpdateKey
from storage.sources import ensure_sources
from tests.hostile import BASE

UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
DIRTY = [
    "nul\x00byte",
    "esc\x1b[2Jclear",
    "osc\x1b]8;;https://evil.example\x1b\\link",
    "bell\x07",
    "back\x08\x08space",
    "del\x7f",
    "c1\x9bcsi\x85nel",
    "lone \ud800 surrogate",
    "vertical\x0btab\x0cfeed",
    "crlf\r\nline\rcr",
    "kept: tab\tand\nnewline",
]


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("nul\x00byte", "nulbyte"),
        ("crlf\r\nline\rcr", "crlf\nline\ncr"),
        ("kept: tab\tand\nnewline", "kept: tab\tand\nnewline"),
        ("c1\x9bcsi\x85nel", "c1csinel"),
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("é 日本 👍🏽 \u202e", "é 日本 👍🏽 \u202e"),  # printable (bidi is the terminal's job)
    ],
)
def test_clean_text(dirty: str, clean: str) -> None:
    assert clean_text(dirty) == clean


def _crawl(dirty: str) -> CrawlResult:
    post = RawPost(
        headline=f"headline {dirty}",
        body=f"body {dirty}\n\nsecond paragraph",
        published_at=BASE,
        url=f"https://news.example/live#{dirty}",
        key=f"key {dirty}",
        alt_keys=(f"alt {dirty}",),
    )
    result = CrawlResult("live", "https://news.example/live", posts=[post], http_status=200)
    result.warnings.append(f"warning {dirty}")
    result.validators["https://news.example/live"] = Validators(f'"etag {dirty}"', dirty)
    return result


def _texts(store: Store) -> list[str]:
    with store.session() as session:
        found: list[str | None] = []
        for u in session.execute(select(Update)).scalars():
            found += [u.headline, u.body, u.url]
        for r in session.execute(select(Revision)).scalars():
            found += [r.headline, r.body]
        found += list(session.execute(select(UpdateKey.key)).scalars())
        for v in session.execute(select(HttpValidator)).scalars():
            found += [v.url, v.etag, v.last_modified]
        for s in session.execute(select(Source)).scalars():
            found += [s.name, s.url, s.last_error]
        found += list(session.execute(select(CrawlRun.error)).scalars())
    return [t for t in found if t is not None]


@pytest.mark.parametrize("dirty", DIRTY)
def test_no_control_character_reaches_the_store(store: Store, dirty: str) -> None:
    with store.session() as session:
        sid = ensure_sources(session, [("live", "https://news.example/live", "liveblog")])["live"]
    with store.session() as session:
        counts = save_crawl(session, sid, _crawl(dirty))
    assert counts.new == 1
    failed = CrawlResult("live", "https://news.example/live", status="error", error=dirty)
    with store.session() as session:
        save_crawl(session, sid, failed)
    texts = _texts(store)
    assert texts and not [t for t in texts if UNWANTED.search(t)]
    assert any("second paragraph" in t and "\n\n" in t for t in texts)
    # The same dirty crawl again is the same update, unchanged, and known as such.
    with store.session() as session:
        again = save_crawl(session, sid, _crawl(dirty))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 1)
    with store.read_session() as session:
        known = stored_posts(session, [sid])[sid]
        assert [p in known for p in _crawl(dirty).posts] == [True]
