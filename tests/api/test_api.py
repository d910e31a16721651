"""The HTTP API through a real server: `vigie serve` in a subprocess (uvicorn on a free
port) over a store holding the fixture live blog, queried with httpx; Atom feeds parsed back
with feedparser, as a feed reader would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from storage.db import Store
from storage.queries import search_updates
from tests.helpers import UPDATE_FIELDS
from tests.seeded import ARRIVAL, edit_headline, seed
from vigie.config import ConfigError, load_config

TYPO = "LE GOUVERNEMENT PROMET DES INDEMINSATIONS RAPIDES"
FIXED = "LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES"
TOKEN = "s3cret-token-for-tests-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, url: str, api: dict[str, Any] | None = None) -> Path:
    lines = ["[storage]", f'url = "{url}"', ""]
    if api:
        lines += ["[api]", *(f'{k} = "{v}"' for k, v in api.items()), ""]
    for name, kind in (("live", "liveblog"), ("feed", "feed")):
        lines += ["[[sources]]", f'name = "{name}"', f'url = "https://news.example/{name}"']
        lines += [f'kind = "{kind}"', ""]
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@contextmanager
def serve(config: Path, *extra: str) -> Iterator[str]:
    """`vigie serve` on a free port until the block ends; yields its base URL."""
    port = free_port()
    log = (config.parent / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigie",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(config.parent),
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"vigie serve exited {proc.returncode}: {log.name}")
            try:
                if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("vigie serve did not answer within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def seeded_store(url: str) -> dict[str, int]:
    store = Store(url)
    try:
        ids = seed(store)
        edit_headline(store, ids["live"], "live", TYPO, FIXED)
        return ids
    finally:
        store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, store URL) of a server over the fixture, one post edited once."""
    folder = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{folder / 'vigie.db'}"
    seeded_store(url)
    with serve(write_config(folder, url)) as base:
        yield base, url


@pytest.fixture(scope="module")
def api(site: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site[0], timeout=30) as client:
        yield client


def get(api: httpx.Client, path: str, **params: Any) -> Any:
    resp = api.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- JSON ---------------------------------------------------------------------------------


def test_search_over_http_matches_the_library(api: httpx.Client, site: tuple[str, str]) -> None:
    page = get(api, "/updates", search="elysee", source="live")
    assert page["updates"][0]["headline"] == ARRIVAL
    assert all(u["rank"] > 0 and u["source"] == "live" for u in page["updates"])
    store = Store(site[1])
    try:
        with store.read_session() as session:
            direct = search_updates(session, "elysee")
    finally:
        store.close()
    both = get(api, "/updates", search="elysee")
    assert [u["id"] for u in both["updates"]] == [r["id"] for r in direct]


def test_updates_fields_and_no_rank_without_search(api: httpx.Client) -> None:
    page = get(api, "/updates", limit=5)
    first = page["updates"][0]
    assert set(first) == UPDATE_FIELDS
    assert first["published_at"] == "2026-02-11T06:30:00Z"
    assert len(page["updates"]) == 5 and page["limit"] == 5


def test_next_links_walk_every_update_once(api: httpx.Client) -> None:
    everything = [u["id"] for u in get(api, "/updates", limit=1000)["updates"]]
    assert len(everything) == 44
    seen, url = [], "/updates?limit=7&source=live&source=feed"
    while url:
        resp = api.get(url)
        assert resp.status_code == 200
        seen += [u["id"] for u in resp.json()["updates"]]
        url = resp.json()["next"]
    assert seen == everything


@pytest.mark.parametrize("order", ["rank", "newest"])
def test_next_links_walk_a_search_once(api: httpx.Client, order: str) -> None:
    whole = get(api, "/updates", search="de", order=order, limit=1000)["updates"]
    assert len(whole) > 20
    seen, url = [], f"/updates?limit=6&search=de&order={order}"
    while url:
        resp = api.get(url)
        assert resp.status_code == 200
        seen += [(u["id"], u["rank"]) for u in resp.json()["updates"]]
        url = resp.json()["next"]
    assert seen == [(u["id"], u["rank"]) for u in whole]


def test_filters_and_collapse(api: httpx.Client) -> None:
    evening = get(
        api, "/updates", source="live", since="2026-02-10T17:00:00Z", until="2026-02-10T21:00:00Z"
    )
    assert [u["published_at"][11:16] for u in evening["updates"]] == [
        "20:40",
        "20:11",
        "20:10",
        "20:10",
        "17:40",
    ]
    edited = get(api, "/updates", edited="true")["updates"]
    assert [(u["source"], u["headline"]) for u in edited] == [("live", FIXED)]
    highlighted = get(api, "/updates", highlighted="true", source="live")["updates"]
    assert [u["headline"] for u in highlighted] == ["LA TEMPÊTE YSOLDE À SON PAROXYSME"]
    collapsed = get(api, "/updates", search="elysee", collapse="true")["updates"]
    assert [u["headline"] for u in collapsed].count(ARRIVAL) == 1
    assert collapsed[0]["headline"] == ARRIVAL and len(collapsed[0]["sources"]) == 1


def test_limit_is_capped(api: httpx.Client) -> None:
    page = get(api, "/updates", limit=5000)
    assert page["limit"] == 1000 and len(page["updates"]) == 44


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since: 'yesterday' is neither ISO 8601 nor a duration"),
        ({"until": "2026-13-45"}, "until:"),
        ({"limit": "0"}, "limit:"),
        ({"limit": "many"}, "limit:"),
        ({"highlighted": "perhaps"}, "highlighted:"),
        ({"cursor": "garbage"}, "invalid cursor"),
        ({"order": "rank"}, "rank order needs a search"),
        ({"order": "oldest"}, "unknown order"),
    ],
)
def test_bad_input_is_a_400_with_a_message(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    resp = api.get("/updates", params=params)
    assert resp.status_code == 400
    assert message in resp.json()["detail"]


def test_one_update_with_its_revisions_and_sightings(api: httpx.Client) -> None:
    edited = get(api, "/updates", edited="true")["updates"][0]
    detail = get(api, f"/updates/{edited['id']}")
    assert detail["revisions"] == 2 and detail["headline"] == FIXED
    assert [h["headline"] for h in detail["history"]] == [TYPO, FIXED]
    assert "diff" not in detail["history"][0]
    assert detail["history"][1]["diff"] == {
        "headline": "LE GOUVERNEMENT PROMET DES [-INDEMINSATIONS-]{+INDEMNISATIONS+} RAPIDES"
    }
    assert [s["source"] for s in detail["sightings"]] == ["feed"]
    missing = api.get("/updates/999999")
    assert missing.status_code == 404 and missing.json()["detail"] == "no update with id 999999"
    assert api.get("/updates/abc").status_code == 400


def test_sources(api: httpx.Client) -> None:
    rows = {r["name"]: r for r in get(api, "/sources")}
    assert set(rows) == {"live", "feed"}
    for row in rows.values():
        assert row["updates"] == 22 and row["last_status"] == "ok" and row["last_error"] is None
        assert row["url"].startswith("https://news.example/")


def test_stories(api: httpx.Client) -> None:
    arrival = get(api, "/updates", search='"cellule de crise à l élysée"', source="live")[
        "updates"
    ][0]
    story = get(api, f"/stories/{arrival['story']}")
    assert story["story"] == arrival["story"]
    assert sorted(u["source"] for u in story["updates"]) == ["feed", "live"]
    assert {u["headline"] for u in story["updates"]} == {ARRIVAL}
    assert api.get("/stories/999999").status_code == 404


def test_openapi_and_docs(api: httpx.Client) -> None:
    schema = get(api, "/openapi.json")
    assert {
        "/updates",
        "/updates/{update_id}",
        "/sources",
        "/stories/{story_id}",
        "/feeds/search.atom",
        "/feeds/{source}.atom",
    } <= set(schema["paths"])
    assert api.get("/docs").status_code == 200


# JSON types of an update's fields as the contract gives them ("?": may be null).
UPDATE_TYPES = {
    "id": "integer",
    "source": "string",
    "url": "string?",
    "headline": "string",
    "body": "string",
    "published_at": "string?",
    "updated_at": "string?",
    "first_seen_at": "string",
    "last_seen_at": "string",
    "revisions": "integer",
    "highlighted": "boolean",
    "story": "integer?",
}


def json_types(prop: dict[str, Any]) -> str:
    """The JSON type of an OpenAPI property: "string", or "string?" for a string or null."""
    kinds = [p.get("type") for p in prop.get("anyOf", [prop])]
    nullable = "null" in kinds
    named = [k for k in kinds if k != "null"]
    assert len(named) == 1, prop
    return str(named[0]) + ("?" if nullable else "")


def test_openapi_documents_every_field_of_an_update_with_its_type(api: httpx.Client) -> None:
    schemas = get(api, "/openapi.json")["components"]["schemas"]
    update = schemas["UpdateOut"]
    assert set(update["required"]) == UPDATE_FIELDS == set(UPDATE_TYPES)
    types = {name: json_types(prop) for name, prop in update["properties"].items()}
    assert types == UPDATE_TYPES | {"rank": "number?", "sources": "array?"}
    detail = schemas["UpdateDetail"]
    assert set(detail["required"]) == UPDATE_FIELDS | {"history", "sightings"}
    revision = {name: json_types(p) for name, p in schemas["RevisionOut"]["properties"].items()}
    assert revision == {
        "number": "integer",
        "headline": "string",
        "body": "string",
        "updated_at": "string?",
        "seen_at": "string",
        "diff": "object?",
    }


def test_the_api_is_read_only(api: httpx.Client) -> None:
    assert api.post("/updates", json={}).status_code == 405
    assert api.delete("/updates/1").status_code == 405


# --- Atom ---------------------------------------------------------------------------------


def test_source_feed_is_followed_by_a_feed_reader(api: httpx.Client) -> None:
    resp = api.get("/feeds/live.atom")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(resp.content)
    assert not feed.bozo and feed.version == "atom10"
    assert feed.feed.title == "live"
    assert feed.feed.link == "https://news.example/live"
    assert len(feed.entries) == 22
    rows = get(api, "/updates", source="live", limit=100)["updates"]
    assert [e.title for e in feed.entries[1:]] == [r["headline"] for r in rows[1:]]
    assert feed.entries[0].title == "Ce live est à présent terminé."  # no headline: the body
    assert [e.link for e in feed.entries] == [r["url"] for r in rows]
    assert len({e.id for e in feed.entries}) == 22
    for entry, row in zip(feed.entries, rows, strict=True):
        assert entry.updated_parsed is not None and entry.published_parsed is not None
        assert entry.id.endswith(f":{row['id']}:{row['revisions']}")
        assert entry.content[0].type == "text/html" and "<p>" in entry.content[0].value
    edited = next(e for e in feed.entries if e.title == FIXED)
    assert edited.id.endswith(":2")


def test_search_feed(api: httpx.Client) -> None:
    feed = feedparser.parse(api.get("/feeds/search.atom", params={"q": "elysee"}).content)
    assert not feed.bozo and feed.version == "atom10"
    titles = [e.title for e in feed.entries]
    assert titles.count(ARRIVAL) == 2 and "elysee" in feed.feed.title
    only_live = feedparser.parse(
        api.get("/feeds/search.atom", params={"q": "elysee", "source": "live"}).content
    )
    assert [e.title for e in only_live.entries].count(ARRIVAL) == 1
    assert api.get("/feeds/search.atom").status_code == 400
    empty = feedparser.parse(api.get("/feeds/search.atom", params={"q": '"'}).content)
    assert not empty.bozo and empty.entries == []


def test_unknown_source_feed_is_404(api: httpx.Client) -> None:
    resp = api.get("/feeds/nope.atom")
    assert resp.status_code == 404 and "nope" in resp.json()["detail"]


def test_a_feed_reader_sees_an_edit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    ids = seeded_store(url)
    with serve(write_config(tmp_path, url)) as base:
        before = feedparser.parse(httpx.get(base + "/feeds/live.atom").content)
        store = Store(url)
        try:
            edit_headline(store, ids["live"], "live", ARRIVAL, "CELLULE DE CRISE RÉUNIE À L’ÉLYSÉE")
        finally:
            store.close()
        after = feedparser.parse(httpx.get(base + "/feeds/live.atom").content)
    old = next(e for e in before.entries if e.title == ARRIVAL)
    new = next(e for e in after.entries if e.title == "CELLULE DE CRISE RÉUNIE À L’ÉLYSÉE")
    assert old.id != new.id and new.id.endswith(":2")
    assert new.updated_parsed > old.updated_parsed
    assert after.feed.updated_parsed >= new.updated_parsed
    assert len(after.entries) == 22


# --- token ----------------------------------------------------------------------------------


def test_a_configured_token_is_required(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    seeded_store(url)
    config = write_config(tmp_path, url, {"token": TOKEN})
    with serve(config) as base, httpx.Client(base_url=base) as client:
        for path in ("/updates", "/sources", "/updates/1", "/feeds/live.atom"):
            denied = client.get(path)
            assert denied.status_code == 401, path
            assert "Bearer" in denied.headers["www-authenticate"]
        wrong = client.get("/updates", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (
            client.get("/updates", params={"search": "elysee"}, headers=bearer).status_code == 200
        )
        # feed readers mostly speak Basic auth: the token as the password
        feed = client.get("/feeds/live.atom", auth=("reader", TOKEN))
        assert feed.status_code == 200 and len(feedparser.parse(feed.content).entries) == 22
        assert client.get("/feeds/live.atom", auth=("reader", "nope")).status_code == 401
        assert client.get("/openapi.json").status_code == 200  # the schema is not data


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_serve_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    seeded_store(pg_url)
    with serve(write_config(tmp_path, pg_url)) as base:
        page = httpx.get(base + "/updates", params={"search": "elysee", "source": "live"}).json()
        feed = feedparser.parse(httpx.get(base + "/feeds/feed.atom").content)
    assert page["updates"][0]["headline"] == ARRIVAL
    assert not feed.bozo and len(feed.entries) == 22


# --- the command and its config -------------------------------------------------------------


def test_serve_on_a_busy_port_fails_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    Store(url).close()
    config = write_config(tmp_path, url)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "vigie", "--config", str(config), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in proc.stderr


@pytest.mark.parametrize(
    ("table", "key", "reason"),
    [
        ('tokn = "x"', "api.tokn", "unknown key"),
        ('token = "short"', "api.token", "at least 16 characters"),
        ("port = 0", "api.port", "greater than or equal to 1"),
        ("port = 70000", "api.port", "less than or equal to 65535"),
        ('host = "0.0.0.0; rm -rf"', "api.host", "not a host name"),
    ],
)
def test_api_config_is_validated(tmp_path: Path, table: str, key: str, reason: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[api]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key and reason in err.value.reason
    assert "short" not in str(err.value) or "token" not in key  # the token is never echoed


def test_api_config_defaults_to_loopback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[api]\ntoken = "{TOKEN}"\n', encoding="utf-8")
    cfg = load_config(path)
    assert (cfg.api.host, cfg.api.port) == ("127.0.0.1", 8080)
    assert cfg.api.token is not None and cfg.api.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(cfg)
