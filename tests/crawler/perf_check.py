"""A quick speed check of the extraction layer, not a test: `python3 -m tests.crawler.perf_check`.

Renders the newsroom's shapes with 500 posts (the fixture's posts repeated, each with its
chrome) and prints the best and median extraction time of each, after one warm-up run; the
plain page is read once by its selectors and once by the generic detector. Then the real saved
pages of ../shared/realpages (zero configuration), when that folder is present (else it says
so in one line).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from crawler.extract.page import extract_page
from crawler.feeds import parse_feed
from crawler.models import Selectors
from tests.newsroom.render import (
    render_atom,
    render_jsonld,
    render_microdata,
    render_plain,
    render_rss,
)
from tests.newsroom.timeline import State, fixture_state
from tests.shared import find_shared, missing_reason

BASE = "http://127.0.0.1:8765"
NOW = datetime(2026, 2, 11, 12, 0, tzinfo=UTC)
PLAIN = Selectors(
    post="div.entry", headline=".entry-title", published=".entry-when", body=".entry-text"
)


def big_state(count: int = 500) -> State:
    fixture = fixture_state().posts
    posts = []
    for i in range(count):
        p = fixture[i % len(fixture)]
        headline = f"{p.headline} {i}" if p.headline else ""
        when = p.published_at - timedelta(minutes=i)
        posts.append(dataclasses.replace(p, n=i + 1, headline=headline, published_at=when))
    return State(posts, [16], ended=True, step=11)


def measure(run: Callable[[], int], repeat: int = 15) -> tuple[int, float, float]:
    count = run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return count, min(times) * 1000, statistics.median(times) * 1000


def report(name: str, size: int, result: tuple[int, float, float]) -> None:
    count, best, median = result
    print(f"{name:18} {size // 1024:5} KB {count:4} posts {best:6.1f} ms (median {median:.1f})")


def main() -> None:
    state = big_state()
    pages = {
        "jsonld": (render_jsonld(state, BASE), None),
        "microdata": (render_microdata(state, BASE), None),
        "plain (selectors)": (render_plain(state, BASE), PLAIN),
        "plain (detected)": (render_plain(state, BASE), None),
    }
    for name, (html, selectors) in pages.items():

        def run(html: str = html, selectors: Selectors | None = selectors) -> int:
            url = f"{BASE}/live/x"
            page = extract_page(html, url, timezone="Europe/Paris", selectors=selectors, now=NOW)
            return len(page.posts)

        report(name, len(html), measure(run))
    for name, render in (("rss", render_rss), ("atom", render_atom)):
        body = render(state, BASE).encode()
        report(name, len(body), measure(lambda body=body: len(parse_feed(body, BASE).posts), 3))
    realpages = find_shared("realpages")
    if realpages is None:
        print(missing_reason("realpages"))
        return
    for path in sorted(realpages.glob("*.html")):
        data = path.read_bytes()

        def real(data: bytes = data) -> int:
            return len(extract_page(data, "https://example.org/live", now=NOW).posts)

        report(path.name.split("-")[0], len(data), measure(real, 10))


if __name__ == "__main__":
    main()
