"""Live updates: `vigie serve` in a subprocess streams what another process (this test, as
the daemon would) commits to the store, as server-sent events; a page that reconnects gets
what it missed; a page shown some sources hears of those only; one that missed too much is
told to reload. The store's change feed and hourly counts on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from crawler.models import RawPost
from storage.activity import arrivals_per_hour
from storage.changes import changes_after, latest_revision_id
from storage.db import Store
from tests.api.test_api import free_port, serve
from tests.seeded import raw_posts, save, seed
from tests.web.pages import seed_web, write_config
from vigie.web import live

WAIT = 20.0  # seconds an event may take on a loaded machine (a bound, not a target)


def read_events(resp: httpx.Response, want: int, deadline: float) -> list[dict[str, Any]]:
    """The next `want` named events of a stream (comments and retry lines skipped)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in resp.iter_lines():
        if time.monotonic() > deadline:
            break
        if not line:
            if "event" in current:
                events.append(current)
                if len(events) >= want:
                    break
            current = {}
        elif line.startswith(("id:", "event:", "data:")):
            key, _, value = line.partition(":")
            current[key] = value.strip()
    return events


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, int]]]:
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'vigie.db'}"
    ids = seed_web(url)
    with serve(write_config(folder, url)) as base:
        yield base, url, ids


def publish(url: str, source_id: int, source: str, headline: str) -> None:
    """What the daemon does when a post appears: a crawl saved (from another process)."""
    store = Store(url)
    try:
        post = RawPost(
            headline=headline,
            body=f"{headline}. Le texte du post publié pendant que la page est ouverte.",
            published_at=datetime.now(UTC),
            url=f"https://news.example/{source}#{abs(hash(headline))}",
            key=f"https://news.example/{source}#{abs(hash(headline))}",
        )
        save(store, source_id, source, [*raw_posts(source), post])
    finally:
        store.close()


def newest_revision(url: str) -> int:
    store = Store(url)
    try:
        with store.read_session() as session:
            return latest_revision_id(session)
    finally:
        store.close()


def test_a_commit_reaches_an_open_page(served: tuple[str, str, dict[str, int]]) -> None:
    base, url, ids = served
    after = newest_revision(url)
    headers = {"Accept": "text/event-stream"}
    with (
        httpx.Client(base_url=base, timeout=WAIT) as client,
        client.stream("GET", "/live", params={"after": after, "lang": "fr"}, headers=headers) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        publish(url, ids["live"], "live", "UN NOUVEAU POST EN DIRECT")
        events = read_events(r, 1, time.monotonic() + WAIT)
    assert [e["event"] for e in events] == ["update"]
    data = json.loads(events[0]["data"])
    assert data["kind"] == "new" and data["revision"] == 1
    assert data["row"]["headline"] == "UN NOUVEAU POST EN DIRECT"
    assert int(events[0]["id"]) > after
    assert '<li class="update' in data["html"] and "UN NOUVEAU POST EN DIRECT" in data["html"]
    assert 'lang="fr"' not in data["html"] and "Moment clé" not in data["html"]

    # The page reconnects (Last-Event-ID): an edit made meanwhile comes first.
    store = Store(url)
    try:
        posts = [
            dataclasses.replace(p, body=p.body + " Correction.") if i == 0 else p
            for i, p in enumerate(raw_posts("live"))
        ]
        save(store, ids["live"], "live", posts)
    finally:
        store.close()
    headers["Last-Event-ID"] = events[0]["id"]
    with (
        httpx.Client(base_url=base, timeout=WAIT) as client,
        client.stream("GET", "/live", headers=headers) as r,
    ):
        missed = read_events(r, 1, time.monotonic() + WAIT)
    assert [json.loads(e["data"])["kind"] for e in missed] == ["edited"]
    assert json.loads(missed[0]["data"])["revision"] == 2


def test_a_page_of_some_sources_hears_of_those_only(
    served: tuple[str, str, dict[str, int]],
) -> None:
    base, url, ids = served
    after = newest_revision(url)
    with (
        httpx.Client(base_url=base, timeout=WAIT) as client,
        client.stream("GET", "/live", params={"after": after, "source": "feed"}) as r,
    ):
        publish(url, ids["live"], "live", "SEULEMENT DANS LE DIRECT")
        publish(url, ids["feed"], "feed", "SEULEMENT DANS LE FLUX")
        events = read_events(r, 1, time.monotonic() + WAIT)
    assert [json.loads(e["data"])["row"]["headline"] for e in events] == ["SEULEMENT DANS LE FLUX"]


def test_bad_live_parameters_are_400s(served: tuple[str, str, dict[str, int]]) -> None:
    base = served[0]
    for query in ("after=-1", "after=abc", "source=nowhere", f"after={2**63}"):
        resp = httpx.get(f"{base}/live?{query}", timeout=WAIT)
        assert resp.status_code == 400, query
        assert "detail" in resp.json()
    # a Last-Event-ID that is not a number is ignored, as a browser may send anything
    with httpx.stream(
        "GET", f"{base}/live", headers={"Last-Event-ID": "x<y>"}, timeout=WAIT
    ) as resp:
        assert resp.status_code == 200


# --- the change feed in process ------------------------------------------------------------


def test_a_page_that_missed_too_much_is_told_to_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    seed(Store(url))
    monkeypatch.setattr(live, "REPLAY", 5)
    store = Store(url)

    def render(session: Any, changes: Any, key: Any) -> list[live.Event]:
        return [live.Event(c.revision_id, "update", "{}") for c in changes]

    async def first_chunks(after: int) -> list[bytes]:
        feed = live.ChangeFeed(store, render, poll=0.05)
        try:
            stream = await feed.stream(("k",), after)
            return [chunk async for chunk in stream]
        finally:
            await feed.close()

    try:
        chunks = asyncio.run(asyncio.wait_for(first_chunks(0), WAIT))
    finally:
        store.close()
    assert chunks[0].startswith(b"retry: ")
    assert b"event: stale" in chunks[1] and len(chunks) == 2


def test_many_pages_cost_one_read_per_tick(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    store = Store(url)
    ids = seed(store)
    rendered: list[Any] = []

    def render(session: Any, changes: Any, key: Any) -> list[live.Event]:
        rendered.append(key)
        return [live.Event(c.revision_id, "update", json.dumps(key)) for c in changes]

    async def scenario() -> tuple[list[list[bytes]], int]:
        feed = live.ChangeFeed(store, render, poll=0.05)
        after = await asyncio.to_thread(newest_revision, url)
        got: list[list[bytes]] = [[] for _ in range(20)]

        async def read(stream: Any, into: list[bytes]) -> None:
            async for chunk in stream:  # as the server sends a page its stream
                if not chunk.startswith(b":"):  # heartbeats aside
                    into.append(chunk)

        streams = [await feed.stream((f"kind{i % 2}",), after) for i in range(20)]
        readers = [asyncio.create_task(read(s, g)) for s, g in zip(streams, got, strict=True)]
        await asyncio.sleep(0.3)  # every page is open and has read what it missed: nothing
        await asyncio.to_thread(publish, url, ids["live"], "live", "POUR VINGT PAGES")
        deadline = time.monotonic() + WAIT
        while not all(len(g) >= 2 for g in got) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        ticks = feed.ticks
        await feed.close()
        await asyncio.gather(*readers)
        return got, ticks

    try:
        got, ticks = asyncio.run(scenario())
    finally:
        store.close()
    assert all(b"event: update" in g[1] for g in got)
    assert sorted(set(rendered)) == [("kind0",), ("kind1",)]  # once per kind, not per page
    assert len(rendered) == 2 and ticks < 200


# --- the store's side, on both databases ---------------------------------------------------


def test_changes_and_hourly_arrivals(store: Store) -> None:
    with store.read_session() as session:
        assert latest_revision_id(session) == 0
        assert changes_after(session, 0) == []
    ids = seed(store)
    with store.read_session() as session:
        first = changes_after(session, 0, limit=1000)
        assert len(first) == 44 and all(c.new for c in first)
        assert [c.revision_id for c in first] == sorted(c.revision_id for c in first)
        assert {c.source for c in first} == {"live", "feed"}
        assert all(c.story is not None for c in first)
        newest = latest_revision_id(session)
        assert changes_after(session, newest) == []
        again = changes_after(session, newest, also=[first[0].revision_id])
        assert [c.revision_id for c in again] == [first[0].revision_id]
        start, counts = arrivals_per_hour(session)
    assert set(counts) == {"live", "feed"}
    assert sum(counts["live"]) == 22 and counts["live"][-1] == 22 and len(counts["live"]) == 24
    assert start.tzinfo is not None and start.minute == 0
    posts = [dataclasses.replace(p, body=p.body + " Corrigé.") for p in raw_posts("live")[:2]]
    save(store, ids["live"], "live", posts + raw_posts("live")[2:])
    with store.read_session() as session:
        edits = changes_after(session, newest)
        assert [c.number for c in edits] == [2, 2] and not any(c.new for c in edits)
        tomorrow = datetime.now(UTC) + timedelta(days=1, hours=1)
        _, later = arrivals_per_hour(session, 24, now=tomorrow, names=["live"])
    assert later == {"live": [0] * 24}
    with pytest.raises(ValueError, match="hours"), store.read_session() as session:
        arrivals_per_hour(session, 0)


async def next_event(stream: Any) -> bytes:
    """The next chunk of a live stream that is not a heartbeat (`: ping`, sent whenever
    nothing happened for a while: on a loaded machine, between any two steps of a test)."""
    while (chunk := await anext(stream)).startswith(b":"):
        pass
    return chunk


def test_a_render_that_fails_costs_only_its_kind_of_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    store = Store(url)
    ids = seed(store)

    def render(session: Any, changes: Any, key: Any) -> list[live.Event]:
        if key == ("bad",):
            raise ValueError("a template bug")
        return [live.Event(c.revision_id, "update", "{}") for c in changes]

    async def scenario() -> list[bytes]:
        feed = live.ChangeFeed(store, render, poll=0.05)
        after = await asyncio.to_thread(newest_revision, url)
        good, bad = await feed.stream(("good",), after), await feed.stream(("bad",), after)
        await anext(good), await anext(bad)
        await asyncio.to_thread(publish, url, ids["live"], "live", "MALGRÉ UN BUG")
        got = [await asyncio.wait_for(next_event(good), WAIT)]
        await asyncio.to_thread(publish, url, ids["live"], "live", "ET ENCORE UN")
        got.append(await asyncio.wait_for(next_event(good), WAIT))  # the watcher went on
        await feed.close()
        return got

    try:
        got = asyncio.run(scenario())
    finally:
        store.close()
    assert all(b"event: update" in g for g in got), got


def _serving(tmp_path: Path, stderr: int) -> tuple[subprocess.Popen[bytes], str]:
    """`vigie serve` on a seeded store, once it answers; the process and its base URL."""
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    seed_web(url)
    port = free_port()
    config = write_config(tmp_path, url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigie", "--config", str(config), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/openapi.json", timeout=2)
            return proc, base
        except httpx.TransportError:
            if time.monotonic() >= deadline or proc.poll() is not None:
                proc.kill()
                proc.wait()
                raise AssertionError("vigie serve did not answer within 60 s") from None
            time.sleep(0.2)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_asked_to_stop_ends_with_success(tmp_path: Path, stop: int) -> None:
    proc, _ = _serving(tmp_path, subprocess.PIPE)
    try:
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=WAIT)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_stops_promptly_with_live_pages_open(tmp_path: Path) -> None:
    proc, base = _serving(tmp_path, subprocess.DEVNULL)
    try:
        with httpx.Client(timeout=WAIT) as client, contextlib.ExitStack() as opened:
            for _ in range(3):
                stream = opened.enter_context(client.stream("GET", f"{base}/live"))
                assert next(stream.iter_lines()).startswith("retry:")
            proc.terminate()
            # within the grace given to open streams, and a stop asked for is a success
            assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
