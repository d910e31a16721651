"""The web pages in a real headless Chromium, as a journalist uses them: `vigie run`
watching the fixture newsroom (a live blog and a feed that carries the same posts) and
`vigie serve` in subprocesses, the page open while the newsroom publishes and corrects.

Every page is checked for what the browser itself reports: no console error (a
Content-Security-Policy violation is one), no uncaught script error, and no request that
leaves loopback (no CDN, no font, no analytics). Each page's screenshot goes to
docs/screens/ (the README shows them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.test_api import serve
from tests.browser.chromium import SCREENS, chromium
from tests.helpers import newsroom_sources, write_config
from tests.newsroom.server import Newsroom
from tests.web.pages import HOSTILE, HOSTILE_HEADLINES, seed_web
from tests.web.pages import write_config as write_seeded_config

pytestmark = pytest.mark.slow

INTERVAL = 1.0  # the daemon's poll interval in these tests (seconds)
LIVE_BOUND = INTERVAL + 2.0  # the bound: poll interval + 2 s
LIVE_FLOOR = 20.0  # seconds: the least a live change is waited for in a test
LOAD_WAIT = 60.0  # how long the daemon may take to store a step on a loaded machine
READER_ZONE = "Asia/Tokyo"
SOURCES = ("live-jsonld", "feed-rss")
NEW_POST = "CELLULE DE CRISE À L’ÉLYSÉE"  # published by the newsroom at step 3
EDITED_POST = "PREMIÈRES COUPURES D’ÉLECTRICITÉ"  # corrected at step 3 (38 000 → 46 000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Reader:
    """A browser tab of one reader, with what the browser reported while it was open."""

    def __init__(self, browser: Any, base: str, **context: Any) -> None:
        options = {"timezone_id": READER_ZONE, "locale": "en-GB"} | context
        self.context = browser.new_context(**options)
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        return response

    def shot(self, name: str, full_page: bool = True) -> None:
        SCREENS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=full_page)

    def check(self) -> None:
        """Nothing went wrong in the browser and nothing left loopback."""
        assert self.errors == []
        away = [u for u in self.requests if urlsplit(u).hostname not in ("127.0.0.1",)]
        assert away == [], away
        assert self.requests  # the listener saw the page's own requests

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def reader(browser: Any) -> Iterator[Callable[..., Reader]]:
    opened: list[Reader] = []

    def make(base: str, **context: Any) -> Reader:
        r = Reader(browser, base, **context)
        opened.append(r)
        return r

    yield make
    try:
        for r in opened:
            r.check()
    finally:
        for r in opened:
            r.close()


def stored(base: str, source: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{base}/updates", params={"source": source, "limit": 500}, timeout=30)
    return resp.json()["updates"] if resp.status_code == 200 else []


def wait_for(what: str, condition: Callable[[], Any], timeout: float = LOAD_WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Newsroom]]:
    """(base URL of `vigie serve`, the newsroom) with `vigie run` watching the live blog
    and the feed every second; the newsroom at step 2 (7 posts) until a test moves it."""
    folder = tmp_path_factory.mktemp("browser")
    site = Newsroom(step=2)
    site.start()
    sources = [s for s in newsroom_sources(site, interval="1s") if s["name"] in SOURCES]
    config = write_config(folder / "config.toml", sources)
    log = (folder / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "vigie", "--config", str(config), "run"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(folder),
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for("the daemon creates the store", (folder / "vigie.db").exists)
        with serve(config) as base:
            for source in SOURCES:
                wait_for(f"{source}: 7 posts stored", lambda s=source: len(stored(base, s)) == 7)
            yield base, site
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        site.stop()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`vigie serve` over a store holding the hostile source's posts (no daemon)."""
    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'vigie.db'}"
    seed_web(url)
    with serve(write_seeded_config(folder, url)) as base:
        yield base


def at_step(base: str, site: Newsroom, step: int) -> None:
    """The newsroom at `step` at least (for a test run alone), and the daemon caught up."""
    while site.step < step:
        site.advance()
    count = len(site.state.posts)
    for source in SOURCES:
        wait_for(f"{source}: step {site.step}", lambda s=source: len(stored(base, s)) >= count)


def headlines(r: Reader) -> list[str]:
    return r.page.locator("#updates > li.update h2.headline").all_inner_texts()


def row(r: Reader, headline: str) -> Any:
    return r.page.locator("#updates > li.update", has=r.page.get_by_text(headline, exact=True))


def live_bound() -> float:
    """How long the test waits for a live change: the issue's bound (poll interval + 2 s)
    stretched by how overloaded this machine is now (load average per core, up to 10×),
    and never under LIVE_FLOOR: the daemon, the server and the browser share the cores with
    whatever else runs, and a test is no timing target (bench/web.py measures the delay
    itself: commit → visible p95 under 1 s). What the test holds is that the change comes
    without a reload."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return max(LIVE_FLOOR, LIVE_BOUND * min(10.0, max(1.0, per_core)))


def live(r: Reader) -> None:
    r.page.locator("#live-status.on").wait_for(timeout=LOAD_WAIT * 1000)


# --- the timeline ---------------------------------------------------------------------------


def test_the_timeline_shows_the_newsrooms_updates(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]
) -> None:
    base, site = newsroom
    r = reader(base)
    r.open("/")
    expected = [p.headline for p in site.state.stream]
    assert headlines(r) == expected  # one row per story, newest first
    first = r.page.locator("#updates > li.update").first
    assert re.search(r"also in (feed-rss|live-jsonld)", first.inner_text())
    time_el = first.locator("time").first
    when = datetime.fromisoformat(time_el.get_attribute("datetime").replace("Z", "+00:00"))
    local = when.astimezone(ZoneInfo(READER_ZONE))
    assert local.strftime("%I:%M %p") in time_el.inner_text()  # the reader's zone
    assert "Europe/Paris" in time_el.get_attribute("title")  # the source's, on hover
    live(r)
    r.shot("timeline")


def test_a_published_post_appears_and_a_correction_updates_in_place(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]
) -> None:
    base, site = newsroom
    assert site.step == 2
    r = reader(base)
    r.open("/")
    live(r)
    r.page.evaluate("window.vigieNotReloaded = true")
    edited = row(r, EDITED_POST)
    assert "edited" not in edited.inner_text()
    site.advance()  # step 3: two new posts, and the 07:10 post corrected
    published = time.monotonic()
    bound = live_bound()
    row(r, NEW_POST).wait_for(timeout=bound * 1000)
    assert r.page.evaluate("window.vigieNotReloaded") is True  # no reload
    left = max(0.5, bound - (time.monotonic() - published))
    row(r, EDITED_POST).get_by_text("edited 2×").wait_for(timeout=left * 1000)
    assert headlines(r) == [p.headline for p in site.state.stream]
    assert r.page.locator("#updates > li.update").count() == 9
    r.shot("timeline-live")


def test_the_new_badge_counts_what_arrived_out_of_sight(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]
) -> None:
    base, site = newsroom
    r = reader(base, viewport={"width": 1000, "height": 500})
    r.open("/")
    live(r)
    r.page.mouse.wheel(0, 3000)
    wait_for("scrolled away", lambda: r.page.evaluate("window.scrollY") > 400)
    before = site.state.stream
    site.advance()  # step 4: two more posts
    added = len(site.state.stream) - len(before)
    badge = r.page.locator("#new-badge")
    badge.get_by_text(f"{added} new updates").wait_for(timeout=LOAD_WAIT * 1000)
    badge.click()
    wait_for("back at the top", lambda: r.page.evaluate("window.scrollY") < 50)
    assert badge.is_hidden()
    assert headlines(r)[:added] == [p.headline for p in site.state.stream][:added]


def test_an_edit_shows_as_a_word_diff(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]
) -> None:
    base, site = newsroom
    r = reader(base)
    r.open("/")
    at_step(base, site, 3)
    row(r, EDITED_POST).get_by_text("edited 2×").click()
    r.page.wait_for_url(re.compile(r"/updates/\d+#revisions$"))
    revision = r.page.locator("section#revisions article.revision").first
    assert "38" in revision.locator("del").all_inner_texts()[0]
    assert "46" in revision.locator("ins").all_inner_texts()[0]
    assert r.page.locator("p.original a").get_attribute("href").startswith(site.url("/live"))
    r.shot("update")


def test_keyboard_only(newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]) -> None:
    base, _ = newsroom
    r = reader(base)
    r.open("/")
    r.page.keyboard.press("j")
    r.page.keyboard.press("j")
    second = r.page.locator("#updates > li.update").nth(1)
    assert "selected" in second.get_attribute("class")
    r.page.keyboard.press("k")
    assert "selected" in r.page.locator("#updates > li.update").first.get_attribute("class")
    opened = r.page.locator("#updates > li.update a.open").first.get_attribute("href")
    r.page.keyboard.press("o")
    r.page.wait_for_url(re.compile(re.escape(opened) + "$"))
    r.page.keyboard.press("?")
    assert r.page.locator("dialog#help").is_visible()
    r.page.keyboard.press("Escape")
    r.page.keyboard.press("/")
    assert r.page.evaluate("document.activeElement.name") == "q"


# --- search, stories, sources ---------------------------------------------------------------


def test_search_with_accents_and_a_phrase(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]
) -> None:
    base, site = newsroom
    at_step(base, site, 3)
    r = reader(base)
    r.open("/")
    r.page.keyboard.press("/")
    r.page.keyboard.type('"cellule de crise" elysee')
    r.page.keyboard.press("Enter")
    r.page.wait_for_url(re.compile(r"/search\?q="))
    results = r.page.locator("ol.results > li")
    assert results.count() == 2  # the live blog's post and the feed's copy
    marks = r.page.locator("ol.results mark").all_inner_texts()
    assert "CELLULE DE CRISE" in marks and "ÉLYSÉE" in marks and "Elysée" in marks
    shared = r.page.url
    r.page.get_by_text("Filters").click()
    r.page.get_by_label("feed-rss").check()
    r.page.get_by_role("button", name="Search").last.click()
    r.page.wait_for_url(re.compile(r"source=feed-rss"))
    assert r.page.locator("ol.results > li").count() == 1
    assert "since=" not in r.page.url  # empty fields are left out of the URL
    again = reader(base)
    again.open(urlsplit(shared).path + "?" + urlsplit(shared).query)
    assert again.page.locator("ol.results > li").count() == 2  # the URL is shareable
    r.page.go_back()
    r.shot("search")


def test_a_story_expands_and_opens_side_by_side(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]
) -> None:
    base, _ = newsroom
    r = reader(base)
    r.open("/")
    first = r.page.locator("#updates > li.update").first
    copies = first.locator("details.copies")
    assert copies.locator("ul").is_hidden()  # collapsed by default
    copies.locator("summary").click()
    assert copies.locator("ul li").count() == 1 and copies.locator("ul").is_visible()
    own = first.locator("p.meta a.source").inner_text()
    other = next(s for s in SOURCES if s != own)
    assert copies.locator("ul li a").first.inner_text() == other
    r.shot("timeline-story-open", full_page=False)
    copies.get_by_text("Side by side").click()
    r.page.wait_for_url(re.compile(r"/stories/\d+$"))
    side = r.page.locator(".side-by-side article.copy")
    assert side.count() == 2
    assert side.first.locator(".first-mark").count() == 1
    r.shot("story")


def test_sources_at_a_glance(newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]) -> None:
    base, _ = newsroom
    r = reader(base)
    r.open("/sources")
    cards = r.page.locator("article.source-card")
    assert cards.count() == 2
    for i in range(2):
        card = cards.nth(i)
        assert card.locator(".status").inner_text() in ("OK", "OK, unchanged")
        assert card.locator("svg rect.bar").count() == 24
        assert "every 1 s" in card.inner_text()
    r.shot("sources")


def test_french_on_a_phone(newsroom: tuple[str, Newsroom], reader: Callable[..., Reader]) -> None:
    base, _ = newsroom
    r = reader(
        base,
        locale="fr-FR",
        extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"},
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    r.open("/")
    assert r.page.locator("html").get_attribute("lang") == "fr"
    assert r.page.get_by_role("navigation").get_by_text("Fil").is_visible()
    live(r)
    assert r.page.locator("#live-status").inner_text().strip() == "En direct"
    # readable on a phone: nothing wider than the screen
    assert r.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    r.shot("timeline-fr-phone", full_page=False)


# --- hostile posts --------------------------------------------------------------------------


def test_hostile_headlines_render_as_text_and_run_nothing(
    hostile_server: str, reader: Callable[..., Reader]
) -> None:
    r = reader(hostile_server)
    for path in (f"/?source={HOSTILE}", "/search?q=vents", f"/search?q=alerte&source={HOSTILE}"):
        r.open(path)
        r.page.wait_for_load_state("networkidle")
        assert r.page.evaluate("typeof window.vigiePwned") == "undefined", path
        assert r.page.locator("main img, main iframe, main b").count() == 0, path
    r.open(f"/?source={HOSTILE}")
    shown = headlines(r)
    assert [h for h in HOSTILE_HEADLINES if h in shown] == list(HOSTILE_HEADLINES)
    r.page.get_by_text(HOSTILE_HEADLINES[1], exact=True).click()
    r.page.wait_for_url(re.compile(r"/updates/\d+$"))
    assert r.page.evaluate("typeof window.vigiePwned") == "undefined"
    assert r.page.locator("h1#headline").inner_text() == HOSTILE_HEADLINES[1]
    r.open(f"/?source={HOSTILE}")
    r.shot("hostile")


# --- contrast -------------------------------------------------------------------------------

# For every element with its own text: its colour against the first opaque background
# behind it, as WCAG 2 computes contrast (relative luminance). Returns the worst ones.
CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || style.visibility === "hidden" || !el.getClientRects().length) continue;
    if (el.closest(".visually-hidden, .skip")) continue;
    const a = lum(rgb(style.color).slice(0, 3)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (size >= 18.6 && bold);
    if (ratio < (large ? 3 : 4.5)) worst.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)}`);
  }
  return worst;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_enough(
    newsroom: tuple[str, Newsroom], reader: Callable[..., Reader], scheme: str
) -> None:
    base, _ = newsroom
    r = reader(base, color_scheme=scheme)
    for path in ("/", "/search?q=tempête", "/sources", "/updates/3", "/stories/1"):
        r.open(path)
        r.page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        assert r.page.evaluate(CONTRAST) == [], (scheme, path)
