"""A small store of our own for the shell's tests: two sources and a few updates, some of
them carrying the classes of hostile text a page can hold (rich markup, terminal escapes,
OSC 8 hyperlinks, carriage returns, backspaces, bidi overrides, NUL, very long words),
saved through `storage.crawls.save_crawl` as a crawl would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.models import CrawlResult, RawPost
from storage.crawls import save_crawl
from storage.db import Store
from storage.sources import ensure_sources

SOURCES = ("alpha", "beta")
BASE = datetime(2026, 1, 6, 19, 0, tzinfo=UTC)

# Each class of text that must print as text: (name, the text).
HOSTILE = {
    "markup close": "[/bold] closing tag",
    "markup link": "[link=https://evil.example]click[/link]",
    "markup style": "[red]red[/red] [bold]bold",
    "clear screen": "before\x1b[2Jafter",
    "osc hyperlink": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "title change": "\x1b]0;pwned\x07",
    "carriage return": "real text\rFAKE",
    "backspaces": "secret\x08\x08\x08\x08\x08\x08public",
    "bidi override": "abc\u202edcba",
    "nul": "nul\x00byte",
    "c1 csi": "c1\x9b2Jcontrol",
    "line separator": "one\u2028two",
    "emoji code": ":thumbs_up: :smile:",
    "long word": "x" * 5000,
}
# What must never reach a terminal raw (nor rich as markup): ESC, BEL, CR, BS, C1, U+202E.
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x08", "\x9b", "\u202e", "\x00", "\u2028")


def posts(source: str) -> list[RawPost]:
    """Plain posts, one per hostile class (in the headline and the body), one without a
    headline; published a minute apart."""
    out = [
        RawPost(
            headline="Ordinary headline",
            body="An ordinary first paragraph.\n\nA second one.",
            published_at=BASE,
            url=f"https://news.example/{source}/1",
            key=f"{source}-ordinary",
        ),
        RawPost(
            headline="",
            body="Closing words of the live blog, with no headline at all.",
            published_at=BASE + timedelta(minutes=1),
            url=f"https://news.example/{source}/2",
            key=f"{source}-no-headline",
        ),
    ]
    for i, (name, text) in enumerate(HOSTILE.items()):
        out.append(
            RawPost(
                headline=f"{name}: {text}"[:200] if name != "long word" else text,
                body=f"Body of {name}: {text}",
                published_at=BASE + timedelta(minutes=2 + i),
                url=f"https://news.example/{source}/{name.replace(' ', '-')}?q={text[:20]}",
                key=f"{source}-{name}",
            )
        )
    return out


def fill(store: Store, *, error: str | None = None) -> dict[str, int]:
    """Both sources with their posts; `error`, when given, as alpha's last crawl's error.
    Returns source name -> id."""
    with store.session() as session:
        ids = ensure_sources(
            session, [(name, f"https://news.example/{name}", "liveblog") for name in SOURCES]
        )
    for name in SOURCES:
        result = CrawlResult(name, f"https://news.example/{name}", posts=posts(name))
        with store.session() as session:
            save_crawl(session, ids[name], result)
    if error is not None:
        failed = CrawlResult("alpha", "https://news.example/alpha", status="error", error=error)
        with store.session() as session:
            save_crawl(session, ids["alpha"], failed)
    return ids


def config_text(storage_url: str, **api: Any) -> str:
    """A config of the two sources over that store."""
    lines = ["[storage]", f'url = "{storage_url}"', ""]
    if api:
        lines += ["[api]", *(f'{k} = "{v}"' for k, v in api.items()), ""]
    for name in SOURCES:
        lines += ["[[sources]]", f'name = "{name}"', f'url = "https://news.example/{name}"', ""]
    return "\n".join(lines)
