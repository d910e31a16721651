"""Hostile pages and feeds, the second bad-input suite: every class of tests/hostile_input.py served
by the loopback site and crawled in one `vigie run --once` beside good sources, on SQLite and
PostgreSQL, under an audit hook that refuses and reports any open of a local file.

For each: the run finishes, the good sources are stored whole, the hostile source ends as
designed (its good posts kept, or a clear error), and no stored row (any text column of any
table) holds a control character, a non-http(s) url, or a byte of a local file."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, String, Text, create_engine, select
from sqlalchemy.exc import SAWarning

from tests.conftest import _fresh_pg_database
from tests.helpers import jsonl, run_vigie, write_config
from tests.hostile_input import (
    ANSI,
    C0,
    C1,
    LONE_SURROGATES,
    MB,
    NON_CHARACTERS,
    far_future,
    feed,
    impossible_iso_dates,
    item,
    jsonld_page,
    kept_in_order,
    nested_html,
    nested_json,
    page,
    post_html,
    sprinkled,
    unreadable_years,
    update,
    without_unsafe,
)
from tests.newsroom.server import Newsroom

pytestmark = pytest.mark.slow

MARKER = "SECRET-MARKER-9f3c"
PASSWD = "root:x:0:0"
RSS = "application/rss+xml"
HTML = "text/html; charset=utf-8"


def posts(tag: str, n: int = 3) -> list[str]:
    return [
        post_html(i, f"{tag} titre {i}", f"Le texte numéro {i} de {tag}, une phrase entière.")
        for i in range(n)
    ]


def items(tag: str, n: int = 3, **links: str) -> list[str]:
    return [
        item(i, link=links.get(str(i), f"/{tag}/{i}")).replace(f"Entrée {i}", f"{tag} entrée {i}")
        for i in range(n)
    ]


def secret_files(directory: Path) -> dict[str, Path]:
    """Local files a hostile page points at: a live blog and a feed, each holding MARKER."""
    directory.mkdir()
    files = {
        "page": directory / "secret.html",
        "feed": directory / "secret.xml",
    }
    files["page"].write_text(page(posts(MARKER)), encoding="utf-8")
    files["feed"].write_text(feed(items(MARKER)), encoding="utf-8")
    return files


def controls_page() -> str:
    bad = [*C0, "\x7f", *C1, *NON_CHARACTERS, *ANSI]
    found = [
        post_html(i, sprinkled(f"controls titre {i}", bad, i), sprinkled("Un texte lisible.", bad))
        for i in range(3)
    ]
    found[0] = found[0].replace('id="post-0"', 'id="post\x01\x1b[2J-0" data-x="\x00\x9b"')
    return page(found)


def controls_jsonld() -> str:
    bad = ["\x00", "\x1b[31m", "\x85", "\ufffe", *LONE_SURROGATES]
    updates = [
        update(
            i,
            headline=sprinkled(f"escapes titre {i}", bad, i),
            articleBody=sprinkled("<p>Un texte lisible.</p>", bad, i),
        )
        for i in range(3)
    ]
    doc = jsonld_page(updates)
    for char in LONE_SURROGATES:
        doc = doc.replace(char, f"\\u{ord(char):04x}")
    return doc


def dates_jsonld() -> str:
    bad = impossible_iso_dates()[:6] + unreadable_years()[:3] + far_future_values()
    updates = [update(i, datePublished=value) for i, value in enumerate(bad)]
    return jsonld_page(updates).replace('"@NAN@"', "NaN")


def far_future_values() -> list[str]:
    from datetime import UTC, datetime, timedelta

    return [*far_future(datetime.now(UTC) + timedelta(days=1))[:4], "@NAN@"]


def routes(site: Newsroom, files: dict[str, Path]) -> dict[str, tuple[str, str, bytes, dict]]:
    """path → (kind, content type, body, extra headers) of every hostile resource."""
    page_file, feed_file = files["page"].as_uri(), files["feed"].as_uri()
    base = site.url("")
    link_next = lambda href: f'<link rel="next" href="{html.escape(href, quote=True)}">'  # noqa: E731
    out: dict[str, tuple[str, str, bytes, dict]] = {
        "/good": ("liveblog", HTML, page(posts("good")).encode(), {}),
        "/good.xml": ("feed", RSS, feed(items("goodfeed")).encode(), {}),
        "/next-passwd": (
            "liveblog",
            HTML,
            page(posts("nextpw"), head=link_next("file:///etc/passwd")).encode(),
            {},
        ),
        "/next-local": (
            "liveblog",
            HTML,
            page(
                posts("nextlocal"), head=link_next(page_file.upper().replace("FILE:", "FiLe:", 1))
            ).encode(),
            {},
        ),
        "/next-tab": (
            "liveblog",
            HTML,
            page(posts("nexttab"), head=link_next("fi\tle:" + page_file[5:])).encode(),
            {},
        ),
        "/next-entity": (
            "liveblog",
            HTML,
            page(
                posts("nextentity"), head=f'<link rel="next" href="&#102;ile:{page_file[5:]}">'
            ).encode(),
            {},
        ),
        "/base-local": (
            "liveblog",
            HTML,
            page(
                posts("baselocal"),
                head=f'<base href="{files["page"].parent.as_uri()}/">' + link_next("secret.html"),
            ).encode(),
            {},
        ),
        "/meta-refresh": (
            "liveblog",
            HTML,
            page(
                posts("refresh"), head=f'<meta http-equiv="refresh" content="0;url={page_file}">'
            ).encode(),
            {},
        ),
        "/canonical": (
            "liveblog",
            HTML,
            page(posts("canonical"), head=f'<link rel="canonical" href="{page_file}">').encode(),
            {},
        ),
        "/jsonld-links": (
            "liveblog",
            HTML,
            jsonld_page(
                [
                    update(0, headline="jsonlinks 0", url=page_file),
                    update(1, headline="jsonlinks 1", url="javascript:alert(1)"),
                    update(
                        2,
                        headline="jsonlinks 2",
                        url="data:text/html,x",
                        **{"@id": "FILE:///etc/passwd"},
                    ),
                ]
            ).encode(),
            {},
        ),
        "/page2-to-file": (
            "liveblog",
            HTML,
            page(posts("page2"), head=link_next("/to-file")).encode(),
            {},
        ),
        "/feed-links.xml": (
            "feed",
            RSS,
            feed(
                items("feedlinks", **{"0": page_file, "1": "javascript:alert(1)"}),
                channel=f'<atom:link rel="next" href="{feed_file}"/>',
            ).encode(),
            {},
        ),
        "/feed-base.xml": (
            "feed",
            RSS,
            feed(items("feedbase"), base=files["feed"].parent.as_uri() + "/").encode(),
            {},
        ),
        "/controls": ("liveblog", HTML, controls_page().encode(), {}),
        "/controls-jsonld": ("liveblog", HTML, controls_jsonld().encode(), {}),
        "/controls.xml": (
            "feed",
            RSS,
            feed(
                [*items("ctlfeed"), item(7).replace("Entrée 7", "ctl \x01\x1b[31m\x85 7")]
            ).encode(),
            {},
        ),
        "/bad-etag": (
            "liveblog",
            HTML,
            page(posts("etag")).encode(),
            {"ETag": '"a\x01b\x1b[2J"', "Last-Modified": "Tue\x00, 06 Jan 2026"},
        ),
        "/dates": ("liveblog", HTML, dates_jsonld().encode(), {}),
        "/dates.xml": (
            "feed",
            RSS,
            feed(
                [
                    item(0, pub="Fri, 31 Dec 9999 23:59:59 GMT"),
                    item(1, pub="Thu, 01 Jan 1970 00:00:00 GMT"),
                    item(2, pub="Tue, 45 Jan 2026 99:99:00 +0100"),
                    item(3, pub="-1"),
                ]
            ).encode(),
            {},
        ),
        "/nested": (
            "liveblog",
            HTML,
            page(posts("nested"), before=nested_html(100_000) + "<b>" * 5000).encode(),
            {},
        ),
        "/deep-json": (
            "liveblog",
            HTML,
            jsonld_page(
                [update(i, headline=f"deepjson {i}") for i in range(3)],
                extra_scripts=[nested_json(100_000, "mixed")],
            ).encode(),
            {},
        ),
        "/pathological": (
            "liveblog",
            HTML,
            page(
                [*posts("patho"), post_html(9, "patho long", "x" * (5 * MB))],
                after="<ul><li>" + "-" * MB + "</li></ul>" + "&lt;a" * (MB // 4),
            ).encode(),
            {},
        ),
        "/many-elements.xml": (
            "feed",
            RSS,
            feed(
                [*items("many"), "<item><title>t</title>" + "<x/>" * 60_000 + "</item>", item(9)]
            ).encode(),
            {},
        ),
        "/stray-end": (
            "liveblog",
            HTML,
            page(posts("stray"), before="</div></main></body></html>" * 3).encode(),
            {},
        ),
    }
    redirects = {
        "/to-passwd": "file:///etc/passwd",
        "/to-local": page_file.replace("file:", "FILE:", 1),
        "/to-data": "data:text/html,<p>x</p>",
        "/to-ftp": "ftp://127.0.0.1/x",
        "/to-s3": "s3://bucket/key",
        "/to-file": page_file,
        "/to-scheme-relative": "//" + base.split("://", 1)[1] + "/good",
    }
    for path, location in redirects.items():
        out[path] = ("liveblog", HTML, b"", {"Location": location, "status": "302"})
    return out


ANY = "any last_error"
# source name → (updates stored (None: any), what last_error holds (None: no error; ANY))
EXPECTED: dict[str, tuple[int | None, str | None]] = {
    "good": (3, None),
    "good-feed": (3, None),
    "next-passwd": (3, "next-page link"),
    "next-local": (3, "next-page link"),
    "next-tab": (3, "next-page link"),
    "next-entity": (3, "next-page link"),
    "base-local": (3, "<base href="),
    "meta-refresh": (3, None),
    "canonical": (3, None),
    "jsonld-links": (3, "post links that are not http(s) URLs"),
    "page2-to-file": (3, "redirect to"),
    "feed-links-feed": (3, "next-page link"),
    "feed-base-feed": (3, None),
    "controls": (3, None),
    "controls-jsonld": (3, None),
    "controls-feed": (None, ANY),
    "bad-etag": (3, None),
    "dates": (14, "dates: refused"),
    "dates-feed": (4, "dates: refused"),
    "nested": (3, None),
    "deep-json": (3, "nested too deep"),
    "pathological": (4, None),
    "many-elements-feed": (3, "more than 50000 XML elements"),
    "stray-end": (3, None),
    "to-passwd": (0, "redirect to 'file:///etc/passwd' refused"),
    "to-local": (0, "refused (scheme 'file' refused)"),
    "to-data": (0, "scheme 'data' refused"),
    "to-ftp": (0, "scheme 'ftp' refused"),
    "to-s3": (0, "scheme 's3' refused"),
    "to-scheme-relative": (3, None),
}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new empty database for this module's one run, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'vigie.db'}"
    return _fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Newsroom, Path, dict]]:
    secret = tmp_path_factory.mktemp("hostile") / "secret"
    files = secret_files(secret)
    site = Newsroom()
    site.start()
    table = routes(site, files)
    for path, (_, ctype, body, headers) in table.items():
        extra = {k: v for k, v in headers.items() if k != "status"}
        status = int(headers.get("status", 200))
        site.set_route(path, status, {"Content-Type": ctype, **extra}, body)
    yield site, secret, table
    site.stop()


def name_of(path: str) -> str:
    return path.strip("/").replace(".xml", "-feed")


@pytest.fixture(scope="module")
def crawled(
    served: tuple[Newsroom, Path, dict], module_db: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    site, secret, table = served
    db_url, tmp_path = module_db, tmp_path_factory.mktemp("run")
    sources = [
        {"name": name_of(path), "url": site.url(path), "kind": kind, "timezone": "Europe/Paris"}
        for path, (kind, *_) in table.items()
        if name_of(path) in EXPECTED
    ]
    config = write_config(
        tmp_path / "config.toml",
        sources,
        storage_url=db_url,
        crawler={
            "timeout": "20s",
            "retries": 0,
            "max_page_size": "8MB",
            "obey_robots": False,
            "concurrency": 8,
            "per_host": 8,
        },
    )
    audited = [sys.executable, "-m", "tests.reliability.audited", str(secret), "--"]
    proc = subprocess.run(
        [*audited, "--config", str(config), "run", "--once"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(Path(__file__).resolve().parents[2]),
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    rows = json.loads(run_vigie(config, "sources", "--format", "json").stdout)
    return {
        "proc": proc,
        "config": config,
        "db_url": db_url,
        "sources": {r["name"]: r for r in rows},
    }


def stored_texts(db_url: str) -> Iterator[tuple[str, str, str]]:
    """(table, column, value) of every non-null text value of every table."""
    engine = create_engine(db_url)
    try:
        meta = MetaData()
        with warnings.catch_warnings():  # an expression index is no text column
            warnings.simplefilter("ignore", SAWarning)
            meta.reflect(engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                columns = [c for c in table.columns if isinstance(c.type, String | Text)]
                if not columns:
                    continue
                for row in conn.execute(select(*columns)):
                    for column, value in zip(columns, row, strict=True):
                        if isinstance(value, str):
                            yield table.name, column.name, value
    finally:
        engine.dispose()


def test_the_run_finishes_and_reads_no_local_file(crawled: dict[str, Any]) -> None:
    proc = crawled["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "AUDIT-OPEN" not in proc.stderr, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


def test_each_source_ends_as_designed(crawled: dict[str, Any]) -> None:
    sources = crawled["sources"]
    for name, (count, error) in EXPECTED.items():
        row = sources[name]
        if count is not None:
            assert row["updates"] == count, (name, row["updates"], row["last_error"])
        if error is None:
            assert row["last_error"] is None, (name, row["last_error"])
        elif error != ANY:
            assert row["last_error"] and error in row["last_error"], (name, row["last_error"])


def test_no_stored_row_holds_a_control_character_a_foreign_url_or_a_local_file(
    crawled: dict[str, Any],
) -> None:
    seen = 0
    for table, column, value in stored_texts(crawled["db_url"]):
        seen += 1
        where = (table, column, value[:80])
        assert without_unsafe(value), where
        assert MARKER not in value and PASSWD not in value, where
        if column == "url":
            assert value.startswith(("http://", "https://")), where
    assert seen > 100


def test_hostile_posts_are_stored_clean_and_dated_only_when_believable(
    crawled: dict[str, Any],
) -> None:
    config = crawled["config"]

    def stored(source: str) -> list[dict[str, Any]]:
        return jsonl(run_vigie(config, "updates", "--source", source, "--format", "jsonl"))

    for source, tag in (("controls", "controls"), ("controls-jsonld", "escapes")):
        rows = stored(source)
        assert len(rows) == 3, source
        for i in range(3):
            assert any(kept_in_order(f"{tag} titre {i}", r["headline"]) for r in rows), rows
        assert all(kept_in_order("Un texte lisible.", r["body"]) for r in rows), rows
    assert all(r["published_at"] is None for r in stored("dates"))
    assert {r["published_at"] for r in stored("dates-feed")} == {None}
    links = {r["headline"]: r["url"] for r in stored("jsonld-links")}
    assert set(links.values()) == {crawled["sources"]["jsonld-links"]["url"]}
    feed_links = {r["headline"]: r["url"] for r in stored("feed-links-feed")}
    assert feed_links["feedlinks entrée 0"] is None and feed_links["feedlinks entrée 1"] is None
    assert feed_links["feedlinks entrée 2"].startswith("http://127.0.0.1:")
    assert {r["url"] for r in stored("feed-base-feed")} == {None}  # xml:base made them file:
    long = [r for r in stored("pathological") if r["headline"] == "patho long"]
    assert [len(r["body"]) for r in long] == [5 * MB]


def test_a_local_url_never_reaches_the_disk(served: tuple[Newsroom, Path, dict]) -> None:
    """The crawl service itself, asked for file:, data:, s3: and ftp: URLs: refused by the
    spider, and, past it, by the downloader, which has no handler for them."""
    _, secret, _ = served
    urls = [(secret / "secret.html").as_uri(), "FILE:///etc/passwd", "data:,x", "s3://b/k"]
    audited = [sys.executable, "-m", "tests.reliability.audited", str(secret), "--"]
    proc = subprocess.run(
        [*audited, "--crawl", *urls],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "AUDIT-OPEN" not in proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == 2 * len(urls)
    for result in results:
        assert result["status"] == "error", result
        assert "refused" in result["error"], result
        assert MARKER not in result["error"] and PASSWD not in result["error"]
