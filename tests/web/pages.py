"""What the web page tests share: a store seeded with the fixture live blog (two sources
that share every story, one post edited) plus a hostile source whose posts carry
scripts and event handlers, a config naming them, and a reader of the HTML pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import html as lxml_html

from crawler.models import RawPost
from storage.db import Store
from storage.sources import ensure_sources
from tests.seeded import edit_headline, save, seed

TYPO = "LE GOUVERNEMENT PROMET DES INDEMINSATIONS RAPIDES"
FIXED = "LE GOUVERNEMENT PROMET DES INDEMNISATIONS RAPIDES"
TOKEN = "s3cret-token-for-tests-0123456789"
HOSTILE = "hostile"
# Headlines and bodies a hostile page may carry: each must reach the reader as text.
HOSTILE_HEADLINES = (
    '<script>window.vigiePwned = "script"</script> Tempête : alerte',
    "<img src=x onerror=\"window.vigiePwned = 'img'\"> Vents violents",
    '"><svg onload="window.vigiePwned=\'svg\'"> </textarea></title><b>gras</b>',
)
HOSTILE_BODY = (
    "<iframe src=\"javascript:window.vigiePwned='iframe'\"></iframe>\n\n"
    '{{ 7*7 }} {% raw %} ${7*7} <a href="javascript:alert(1)">clic</a>'
)
HOSTILE_URL = "javascript:window.vigiePwned='link'"


def hostile_posts() -> list[RawPost]:
    now = datetime.now(UTC)
    posts = [
        RawPost(
            headline=headline,
            body=HOSTILE_BODY,
            published_at=now - timedelta(minutes=i),
            url=f"https://hostile.example/live#p{i}",
            key=f"https://hostile.example/live#p{i}",
        )
        for i, headline in enumerate(HOSTILE_HEADLINES)
    ]
    posts.append(
        RawPost(
            headline="Un lien piégé",
            body="Le lien de ce post est javascript:",
            published_at=now - timedelta(minutes=5),
            url=HOSTILE_URL,
            key="hostile-link",
        )
    )
    return posts


def seed_web(url: str) -> dict[str, int]:
    """The fixture in `live` and `feed`, the typo corrected in `live`, and the hostile
    source; returns source name -> id."""
    store = Store(url)
    try:
        ids = seed(store)
        edit_headline(store, ids["live"], "live", TYPO, FIXED)
        with store.session() as session:
            ids |= ensure_sources(session, [(HOSTILE, "https://hostile.example/live", "auto")])
        save(store, ids[HOSTILE], HOSTILE, hostile_posts())
        return ids
    finally:
        store.close()


def write_config(folder: Path, url: str, api: dict[str, str] | None = None) -> Path:
    lines = ["[storage]", f'url = "{url}"', ""]
    if api:
        lines += ["[api]", *(f'{k} = "{v}"' for k, v in api.items()), ""]
    for name, kind, zone in (
        ("live", "liveblog", "Europe/Paris"),
        ("feed", "feed", "America/New_York"),
        (HOSTILE, "auto", "UTC"),
    ):
        lines += ["[[sources]]", f'name = "{name}"', f'url = "https://{name}.example/live"']
        lines += [f'kind = "{kind}"', f'timezone = "{zone}"', ""]
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def parse(text: str) -> Any:
    """An HTML page as an lxml tree."""
    return lxml_html.document_fromstring(text)


def event_handlers(tree: Any) -> list[tuple[str, str]]:
    """Every on* attribute of the page: (tag, attribute)."""
    return [
        (el.tag, name)
        for el in tree.iter()
        if isinstance(el.tag, str)
        for name in el.attrib
        if name.lower().startswith("on")
    ]
