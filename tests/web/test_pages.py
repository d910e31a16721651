"""The web pages served at the API's URLs, through the app in process over a real SQLite
store: which requests get a page and which the JSON (exactly as before), what every page
carries (a strict CSP, no inline script, no event handler), hostile posts shown as text,
French and English, the token asked the way a browser can answer, and each page's data
(search marks, word diffs, who had a story first, arrivals per hour)."""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.db import Store
from tests.shared import ROOT
from tests.web.pages import (
    FIXED,
    HOSTILE,
    HOSTILE_HEADLINES,
    TOKEN,
    event_handlers,
    parse,
    seed_web,
    write_config,
)
from vigie.api import create_app
from vigie.config import load_config
from vigie.web.render import CSP

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON_ACCEPTS = (None, "*/*", "application/json", "application/json, text/html;q=0.5")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{path / 'vigie.db'}"
    seed_web(url)
    return path, url


def client_for(config: Path) -> Iterator[TestClient]:
    store = Store(load_config(config).storage.url)
    try:
        with TestClient(create_app(load_config(config), store)) as client:
            yield client
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(folder: tuple[Path, str]) -> Iterator[TestClient]:
    yield from client_for(write_config(folder[0], folder[1]))


def page(client: TestClient, path: str, status: int = 200, **headers: str) -> Any:
    resp = client.get(path, headers=HTML | headers)
    assert resp.status_code == status, resp.text[:2000]
    assert resp.headers["content-type"].startswith("text/html")
    return resp


def ids(client: TestClient) -> dict[str, Any]:
    """Some ids of the seeded store, read from the API: the edited update, a story."""
    rows = client.get("/updates", params={"limit": 1000}).json()["updates"]
    edited = next(r for r in rows if r["headline"] == FIXED)
    hostile = [r for r in rows if r["source"] == HOSTILE]
    return {"edited": edited, "hostile": hostile, "rows": rows}


PAGES = ("/", "/search?q=tempête", "/sources", "/updates/1", "/stories/{story}")


def paths(client: TestClient) -> list[str]:
    story = ids(client)["edited"]["story"]
    return [p.format(story=story) for p in PAGES]


# --- negotiation ---------------------------------------------------------------------------


def test_browsers_get_pages_and_api_clients_json(client: TestClient) -> None:
    for path in paths(client):
        resp = page(client, path)
        assert resp.headers["content-security-policy"] == CSP
        assert "<!doctype html>" in resp.text.lower()
        for accept in JSON_ACCEPTS:
            headers = {"Accept": accept} if accept else {}
            api = client.get(path, headers=headers)
            assert api.status_code == 200, (path, accept)
            assert api.headers["content-type"] == "application/json", (path, accept)
        forced = client.get(path + ("&" if "?" in path else "?") + "format=json", headers=HTML)
        assert forced.headers["content-type"] == "application/json", path
        plain = client.get(path, headers={"Accept": "application/json"}).json()
        if path != "/":  # the index names this server's endpoints, which do not move
            assert forced.json() == plain, path


def test_the_json_of_updates_is_the_apis_as_before(client: TestClient) -> None:
    resp = client.get("/updates", params={"search": "élysée", "limit": 3})
    body = resp.json()
    assert set(body) == {"updates", "limit", "next_cursor", "next"}
    assert body["limit"] == 3 and body["updates"][0]["rank"] > 0
    assert client.get("/search", params={"q": "élysée", "limit": 3}).json() == body | {
        "next": body["next"].replace(
            "/updates?search=%C3%A9lys%C3%A9e", "/search?q=%C3%A9lys%C3%A9e"
        )
        if body["next"]
        else None
    }


def test_the_timeline_json_is_the_page_data(client: TestClient) -> None:
    index = client.get("/?limit=10").json()
    assert index["name"] == "vigie" and "/updates" in index["endpoints"]
    assert index["live"].startswith("http://testserver/live?after=")
    rows = index["updates"]
    assert len(rows) == 10 and index["next_cursor"]
    # one row per story: the fixture's posts are in `live` and `feed`, each shown once
    stories = [r["story"] for r in rows if r["story"] is not None]
    assert len(stories) == len(set(stories))
    shared = [r for r in rows if r["copies"]]
    assert shared and all(
        r["sources"] == sorted({c["source"] for c in r["copies"]}) for r in shared
    )
    tree = parse(page(client, "/?limit=10").text)
    shown = [int(li.get("data-id")) for li in tree.cssselect("#updates > li.update")]
    assert shown == [r["id"] for r in rows]
    older = client.get(index["next"]).json()
    assert not {r["id"] for r in older["updates"]} & {r["id"] for r in rows}
    everything = client.get("/?limit=200").json()["updates"]
    assert len(everything) == 26  # 22 stories of the fixture in two sources, 4 hostile posts


def test_the_updates_page_for_people_is_the_search(client: TestClient) -> None:
    resp = client.get("/updates?search=t%C3%AAte&source=live", headers=HTML, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/search?q=t%C3%AAte&source=live"


def test_blank_form_fields_are_left_out_of_the_url(client: TestClient) -> None:
    resp = client.get("/search?q=vent&since=&until=+", headers=HTML, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/search?q=vent"


def test_errors_are_pages_for_browsers_and_json_for_the_rest(client: TestClient) -> None:
    resp = page(client, "/updates/999999", 404)
    assert "no update with id 999999" in resp.text
    assert client.get("/updates/999999").json() == {"detail": "no update with id 999999"}
    resp = page(client, "/search?q=vent&since=yesterday-ish", 400)
    tree = parse(resp.text)
    assert "since" in tree.cssselect("p.error")[0].text_content()
    assert tree.cssselect("input#search-q")[0].get("value") == "vent"  # the form is kept
    assert client.get("/search?q=vent&since=yesterday-ish").status_code == 400
    resp = page(client, "/?source=nowhere", 400)
    assert "nowhere" in resp.text
    assert page(client, "/stories/0", 400)  # out of range ids are 400s, as in the API


# --- what every page carries -----------------------------------------------------------------


def test_every_page_has_no_inline_script_style_or_handler(client: TestClient) -> None:
    for path in [*paths(client), "/updates/999999", "/search?since=bad"]:
        resp = client.get(path, headers=HTML)
        assert resp.headers["content-security-policy"] == CSP
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        tree = parse(resp.text)
        scripts = tree.cssselect("script")
        assert [s.get("src").split("?")[0] for s in scripts] == ["/static/web/app.js"], path
        assert all(not (s.text or "").strip() for s in scripts)
        assert not tree.cssselect("style, [style]"), path
        assert event_handlers(tree) == [], path
        for el in tree.cssselect("[href], [src], [action]"):
            for attr in ("href", "src", "action"):
                value = el.get(attr)
                # nothing from elsewhere but the original posts' links, which open apart
                if value and re.match(r"^[a-z]+:", value, re.I):
                    assert value.startswith("https://") and el.get("rel"), (path, value)
        assert tree.cssselect("main#main") and tree.cssselect("header nav[aria-label]")
        assert tree.get("lang") in ("en", "fr")


def test_the_assets_ship_in_the_package_and_are_served(client: TestClient) -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["vigie"]
    web = ROOT / "vigie" / "web"
    files = [p for d in ("static", "templates") for p in (web / d).rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        relative = path.relative_to(ROOT / "vigie").as_posix()
        assert any(fnmatch(relative, pattern) for pattern in package_data), relative
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("icon.svg", "svg")):
        resp = client.get(f"/static/web/{name}")
        assert resp.status_code == 200 and kind in resp.headers["content-type"], name
        assert resp.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/web/../templates/base.html").status_code == 404


# --- hostile posts -------------------------------------------------------------------------


def test_hostile_posts_are_text_on_every_page(client: TestClient) -> None:
    found = ids(client)["hostile"]
    assert len(found) == 4
    hostile_paths = ["/", f"/?source={HOSTILE}", "/search?q=vents", "/search?q=alerte"]
    hostile_paths += [f"/updates/{r['id']}" for r in found]
    for path in hostile_paths:
        resp = page(client, path)
        tree = parse(resp.text)
        assert len(tree.cssselect("script")) == 1, path  # app.js alone
        assert not tree.cssselect("img, iframe, svg:not(.chart svg), b"), path
        assert event_handlers(tree) == [], path
        assert not [a for a in tree.cssselect("a[href]") if "javascript" in a.get("href")]
        # Never read as a template (7*7 never becomes 49); dates and clocks on the page,
        # "16:49" or "2026-12-01", are left out of the search.
        text = re.sub(r"\d+(?:[:\-]\d+)+", "", tree.text_content())
        assert "49" not in text, path
    timeline = parse(page(client, f"/?source={HOSTILE}").text)
    headlines = [h.text_content() for h in timeline.cssselect("h2.headline")]
    assert [h for h in HOSTILE_HEADLINES if h in headlines] == list(HOSTILE_HEADLINES)
    body = parse(page(client, f"/updates/{found[0]['id']}").text).cssselect("div.body")[0]
    assert "{{ 7*7 }} {% raw %} ${7*7}" in body.text_content()
    assert '<iframe src="javascript:' in body.text_content()
    linked = next(r for r in found if r["url"].startswith("javascript:"))
    tree = parse(page(client, f"/updates/{linked['id']}").text)
    assert not tree.cssselect("p.original a")
    assert tree.cssselect("p.original .url")[0].text_content() == linked["url"]


# --- languages -----------------------------------------------------------------------------


def nav(resp: Any) -> list[str]:
    return [a.text_content() for a in parse(resp.text).cssselect("header nav a")]


def test_french_and_english(folder: tuple[Path, str]) -> None:
    for client in client_for(write_config(folder[0], folder[1])):
        english = page(client, "/")
        assert parse(english.text).get("lang") == "en"
        assert nav(english) == ["Timeline", "Search", "Sources", "API"]
        french = page(client, "/sources", **{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
        assert parse(french.text).get("lang") == "fr"
        assert nav(french)[0] == "Fil" and "Dernier passage" in french.text
        chosen = page(client, "/?lang=fr")
        assert "vigie_lang=fr" in chosen.headers["set-cookie"]
        assert parse(page(client, "/search").text).get("lang") == "fr"  # remembered
        assert parse(page(client, "/search?lang=en").text).get("lang") == "en"
        assert parse(page(client, "/?lang=xx").text).get("lang") == "en"  # unknown: kept
        for path in [*paths(client), "/search?q=tempête&edited=true"]:
            for lang in ("fr", "en"):
                joined = "&" if "?" in path else "?"
                tree = parse(page(client, f"{path}{joined}lang={lang}").text)
                assert tree.get("lang") == lang, path


# --- the token -----------------------------------------------------------------------------


def test_the_token_is_asked_as_a_browser_can_give_it(folder: tuple[Path, str]) -> None:
    config = write_config(folder[0], folder[1], api={"token": TOKEN})
    for client in client_for(config):
        resp = page(client, "/", 401)
        assert resp.headers["www-authenticate"].startswith("Basic ")
        assert "token" in resp.text
        assert client.get("/").status_code == 401
        assert client.get("/live").status_code == 401
        basic = base64.b64encode(f"vigie:{TOKEN}".encode()).decode()
        assert page(client, "/", Authorization=f"Basic {basic}")
        assert page(client, "/sources", Authorization=f"Bearer {TOKEN}")
        assert client.get("/static/web/app.css").status_code == 200  # assets are public


# --- each page's data ------------------------------------------------------------------------


def test_search_marks_accented_words_and_phrases(client: TestClient) -> None:
    resp = page(client, '/search?q="cellule+de+crise"+elysee&source=live&source=feed')
    tree = parse(resp.text)
    results = tree.cssselect("ol.results > li")
    assert results
    marks = [m.text_content() for m in tree.cssselect("ol.results mark")]
    assert "CELLULE DE CRISE" in marks and "ÉLYSÉE" in marks  # folded as the index folds
    checked = [i.get("value") for i in tree.cssselect("input[name=source][checked]")]
    assert checked == ["live", "feed"]
    assert tree.cssselect("details.filters[open]")
    api = client.get('/search?q="cellule+de+crise"+elysee&source=live&source=feed').json()
    assert [int(li.get("data-id")) for li in results] == [r["id"] for r in api["updates"]]


def test_search_pages_with_a_cursor_and_filters(client: TestClient) -> None:
    tree = parse(page(client, "/search?q=tempête&order=newest&limit=5").text)
    first = [li.get("data-id") for li in tree.cssselect("ol.results > li")]
    assert len(first) == 5
    more = tree.cssselect("nav.pager a[rel=next]")[0].get("href")
    assert "cursor=" in more and "q=temp%C3%AAte" in more
    second = parse(page(client, more).text)
    assert not set(first) & {li.get("data-id") for li in second.cssselect("ol.results > li")}
    edited = parse(page(client, "/search?edited=true&source=live").text)
    rows = edited.cssselect("ol.results > li")
    assert len(rows) == 1 and FIXED in rows[0].text_content()
    assert parse(page(client, "/search").text).cssselect("p.prompt")  # nothing asked yet
    none = parse(page(client, "/search?q=zzzqqq").text)
    assert none.cssselect("p.empty")


def test_an_edit_shows_as_a_word_diff(client: TestClient) -> None:
    edited = ids(client)["edited"]
    tree = parse(page(client, f"/updates/{edited['id']}").text)
    assert tree.cssselect("h1#headline")[0].text_content() == FIXED
    revision = tree.cssselect("section#revisions article.revision")[0]
    removed = [d.text_content() for d in revision.cssselect("del")]
    added = [d.text_content() for d in revision.cssselect("ins")]
    assert any("INDEMINSATIONS" in r for r in removed)
    assert any("INDEMNISATIONS" in a for a in added)
    assert "edited 2×" in parse(page(client, "/?source=live&limit=200").text).text_content()
    original = tree.cssselect("p.original a")[0]
    assert original.get("href") == edited["url"] and "noopener" in original.get("rel")
    sightings = [a.text_content() for a in tree.cssselect("section.sightings li a")]
    assert sightings == ["feed"]


def test_a_story_lays_its_copies_side_by_side(client: TestClient) -> None:
    edited = ids(client)["edited"]
    resp = page(client, f"/stories/{edited['story']}")
    tree = parse(resp.text)
    copies = tree.cssselect(".side-by-side article.copy")
    assert [c.cssselect("a.source")[0].text_content() for c in copies] in (
        ["live", "feed"],
        ["feed", "live"],
    )
    assert "first" in copies[0].get("class") and tree.cssselect(".first-mark")
    api = client.get(f"/stories/{edited['story']}").json()
    assert {u["id"] for u in api["updates"]} == {
        int(c.cssselect("h2 a")[0].get("href").rsplit("/", 1)[1]) for c in copies
    }


def test_times_are_utc_in_the_markup_and_the_sources_zone_on_hover(client: TestClient) -> None:
    edited = ids(client)["edited"]
    tree = parse(page(client, f"/updates/{edited['id']}").text)
    time_el = tree.cssselect("dl.facts time")[0]
    assert time_el.get("datetime").endswith("Z")
    assert "Europe/Paris" in time_el.get("title") and re.search(r"CES?T", time_el.get("title"))


def test_sources_show_health_and_arrivals_per_hour(client: TestClient) -> None:
    data = client.get("/sources").json()
    assert [s["name"] for s in data] == ["live", "feed", HOSTILE]
    for s in data:
        counts = s["posts_per_hour"]["counts"]
        assert len(counts) == 24 and sum(counts) == s["updates"]  # all seeded just now
        assert s["posts_per_hour"]["from"].endswith(":00:00Z")
    tree = parse(page(client, "/sources").text)
    cards = tree.cssselect("article.source-card")
    assert len(cards) == 3
    bars = cards[0].cssselect("svg rect.bar")
    assert len(bars) == 24 and float(bars[-1].get("height")) > 0
    assert cards[0].cssselect("svg[role=img][aria-label]")
    assert "22" in cards[0].cssselect("dl.facts")[0].text_content()


def test_every_page_on_both_databases(db_url: str, tmp_path: Path) -> None:
    seed_web(db_url)
    for client in client_for(write_config(tmp_path, db_url)):
        index = client.get("/?limit=200").json()
        assert len(index["updates"]) == 26 and all(
            r["copies"] for r in index["updates"] if r["source"] != HOSTILE
        )
        for path in paths(client):
            assert "<main" in page(client, path).text, path
        counts = [s["posts_per_hour"]["counts"][-1] for s in client.get("/sources").json()]
        assert counts == [22, 22, 4]
        marks = parse(page(client, "/search?q=elysee").text).cssselect("mark")
        assert {m.text_content() for m in marks} >= {"ÉLYSÉE"}
