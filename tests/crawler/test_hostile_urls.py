"""Links from pages and servers: only http(s) URLs are followed or stored, whatever the
scheme's letter case, the controls a browser ignores inside it, the character references
that spell it, or where the link sits (next page, <base>, JSON-LD, microdata, selectors,
feeds, redirects)."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exceptions import NotSupported
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.documents import extract_document
from crawler.errors import failure_message
from crawler.feeds import FeedError, parse_feed
from crawler.models import CrawlResult, SourceSpec
from crawler.settings import scrapy_settings
from crawler.spiders.source import CrawlJob, SourceSpider
from crawler.urls import MAX_URL_LENGTH, refusal, scheme_of, web_url
from tests.hostile_input import (
    BASE,
    broken_web_links,
    feed,
    foreign_links,
    html_entity_links,
    item,
    jsonld_page,
    page,
    plain_posts,
    update,
    web_links,
)
from vigie.config import CrawlerConfig

NOW = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)
FOREIGN = foreign_links()
REFUSED = FOREIGN + broken_web_links()
# A NUL reaches no scheme: libxml2 reads it as U+FFFD, and "\ufffdfile:…" is a relative link
# (http, on the page's host), as in a browser. XML attribute values turn tabs and newlines
# into spaces ("fi le:…" is relative too). Every case must give a web URL or none; these keep
# their scheme and must give none.
IN_HTML = [link for link in FOREIGN if "\x00" not in link]
IN_XML_ATTRIBUTES = [link for link in FOREIGN if not set(link) & set("\x00\t\n\r")]


def extract(body: str, kind: str = "liveblog", **spec: object) -> object:
    source = SourceSpec(name="s", url=BASE, kind=kind, timezone="Europe/Paris", **spec)  # type: ignore[arg-type]
    return extract_document(body.encode("utf-8"), BASE, source, now=NOW)


def is_web(url: str | None) -> bool:
    return url is not None and url.startswith(("http://", "https://")) and refusal(url) is None


def test_the_classes_are_wide() -> None:
    assert len(FOREIGN) > 300
    assert {scheme_of(link) for link in FOREIGN} >= {"file", "javascript", "data", "ftp", "s3"}


@pytest.mark.parametrize("link", REFUSED, ids=repr)
@pytest.mark.parametrize("base", [None, BASE])
def test_non_web_links_are_refused(link: str, base: str | None) -> None:
    assert refusal(link, base) is not None
    assert web_url(link, base) is None


@pytest.mark.parametrize(("link", "expected"), web_links(), ids=repr)
def test_web_links_are_kept_and_resolved(link: str, expected: str) -> None:
    assert refusal(link, BASE) is None
    assert web_url(link, BASE) == expected


@pytest.mark.parametrize("value", [None, 12, ["http://a.example/"], {"href": "x"}])
def test_a_link_that_is_no_string_is_refused(value: object) -> None:
    assert web_url(value, BASE) is None
    assert refusal(value, BASE) is not None


@given(st.text(max_size=200), st.sampled_from([None, BASE]))
@settings(deadline=None)  # timings vary on a shared machine
def test_any_text_gives_a_web_url_or_nothing(text: str, base: str | None) -> None:
    url = web_url(text, base)
    if url is not None:
        assert url.startswith(("http://", "https://"))
        assert len(url) <= MAX_URL_LENGTH
        assert not set(url) & set("\t\n\r")


_HOST_PARTS = st.text(
    alphabet=st.sampled_from(list("ab1:@[]/?#.%\t\n\r -\uff03\u2100")), max_size=40
)


@given(st.sampled_from(["http://", "https://"]), _HOST_PARTS, st.text(max_size=40))
@settings(deadline=None)  # timings vary on a shared machine
def test_an_http_link_is_judged_by_its_whole_host_part(scheme: str, host: str, rest: str) -> None:
    # refusal() judges an http(s) link by its part up to the path (once per host): the same
    # verdict as urlsplit on the whole link, whatever the path, tabs or brackets hold.
    url = scheme + host + rest
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not a number)
        expected = None if parts.hostname else "no host"
    except ValueError:
        expected = "invalid port or host"
    assert refusal(url) == expected


@given(
    st.sampled_from(["file", "javascript", "data", "ftp", "s3", "vbscript"]),
    st.lists(st.sampled_from(["\x00", " ", "\x1f", "\x0b", "\t", "\n"]), max_size=3),
    st.lists(st.sampled_from(["\t", "\n", "\r"]), max_size=3),
    st.lists(st.booleans(), min_size=10, max_size=10),
)
@settings(deadline=None)  # timings vary on a shared machine
def test_scheme_case_and_ignored_characters_never_make_a_web_url(
    scheme: str, lead: list[str], inside: list[str], upper: list[bool]
) -> None:
    """Controls and spaces around a link, tabs and newlines inside it: a browser ignores
    them, and so does vigie (the scheme is still refused)."""
    cased = "".join(c.upper() if u else c for c, u in zip(scheme, upper, strict=False))
    link = "".join(lead) + cased[:2] + "".join(inside) + cased[2:] + ":x/y" + "".join(lead)
    assert web_url(link, BASE) is None


# --- where links come from -------------------------------------------------------------------


@pytest.mark.parametrize("link", FOREIGN + html_entity_links(), ids=repr)
def test_a_next_link_that_is_no_web_url_is_not_followed(link: str) -> None:
    href = link if "&#" in link else html.escape(link, quote=True)
    found = extract(page(plain_posts(), head=f'<link rel="next" href="{href}">'))
    if link in IN_HTML or "&#" in link:
        assert found.next_url is None
        assert any("next-page link" in w for w in found.warnings)
    else:
        assert found.next_url is None or found.next_url.startswith("http://news.example/")


def test_a_refused_next_link_does_not_hide_a_good_one() -> None:
    head = '<link rel="next" href="file:///etc/passwd"><link rel="next" href="?page=2">'
    found = extract(page(plain_posts(), head=head))
    assert found.next_url == f"{BASE}?page=2"


@pytest.mark.parametrize("base", ["file:///etc/", "javascript:alert(1)//", "data:text/html,"])
def test_a_base_href_that_is_no_web_url_is_ignored(base: str) -> None:
    head = f'<base href="{base}"><link rel="next" href="passwd">'
    found = extract(page(plain_posts(), head=head))
    assert found.next_url == "http://news.example/passwd"
    assert any("<base href" in w for w in found.warnings)


@pytest.mark.parametrize("link", FOREIGN[::7] + broken_web_links(), ids=repr)
@pytest.mark.parametrize("field", ["url", "@id"])
def test_jsonld_update_links_are_web_or_the_page(link: str, field: str) -> None:
    updates = [update(i) for i in range(3)]
    updates[1] = update(1, **{field: link, "url" if field == "@id" else "@id": link})
    found = extract(jsonld_page(updates))
    assert len(found.posts) == 3
    assert all(is_web(p.url) for p in found.posts)
    assert found.posts[1].url == BASE


@pytest.mark.parametrize("link", IN_HTML[::9], ids=repr)
def test_microdata_item_links_are_web_or_the_page(link: str) -> None:
    attr = html.escape(link, quote=True)
    items = "".join(
        f'<article itemprop="liveBlogUpdate" itemscope itemtype="https://schema.org/BlogPosting"'
        f' itemid="{attr}"><h2 itemprop="headline">Titre {i}</h2><link itemprop="url"'
        f' href="{attr}"><time itemprop="datePublished" datetime="2026-01-06T20:0{i}:00Z">'
        f'</time><div itemprop="articleBody"><p>Texte {i} du direct.</p></div></article>'
        for i in range(3)
    )
    body = f'<main itemscope itemtype="https://schema.org/LiveBlogPosting">{items}</main>'
    found = extract(f"<html><body>{body}</body></html>")
    assert len(found.posts) == 3
    assert all(p.url == BASE for p in found.posts)


@pytest.mark.parametrize("link", FOREIGN[::9], ids=repr)
def test_selector_ids_that_are_foreign_links_give_the_page_url(link: str) -> None:
    from crawler.models import Selectors

    posts = "".join(
        f'<div class="entry" data-id="{html.escape(link, quote=True)}"><h3>T{i}</h3>'
        f"<p>Texte {i}.</p></div>"
        for i in range(2)
    )
    selectors = Selectors(post="div.entry", headline="h3", id="./@data-id")
    found = extract(f"<html><body>{posts}</body></html>", selectors=selectors)
    assert [p.headline for p in found.posts] == ["T0", "T1"]
    assert all(is_web(p.url) for p in found.posts)


@pytest.mark.parametrize("link", FOREIGN[::5] + broken_web_links(), ids=repr)
def test_feed_entry_links_that_are_no_web_urls_are_dropped(link: str) -> None:
    found = extract(feed([item(0), item(1, link=link), item(2, link="/a/2")]), kind="feed")
    assert [p.headline for p in found.posts] == ["Entrée 0", "Entrée 1", "Entrée 2"]
    if link in FOREIGN:
        assert found.posts[1].url is None
    else:  # feedparser makes "https:///etc/passwd" "https://etc/passwd": a host named "etc"
        assert found.posts[1].url is None or is_web(found.posts[1].url)
    assert found.posts[2].url == "http://news.example/a/2"


@pytest.mark.parametrize("link", FOREIGN[::5], ids=repr)
def test_feed_next_links_and_xml_base_that_are_no_web_urls_are_ignored(link: str) -> None:
    attr = html.escape(link, quote=True)
    channel = f'<atom:link rel="next" href="{attr}"/>'
    found = extract(feed([item(0, link="a/0"), item(1)], channel=channel, base=link), kind="feed")
    if link in IN_XML_ATTRIBUTES:
        assert found.next_url is None
    assert found.next_url is None or is_web(found.next_url)
    assert all(p.url is None or is_web(p.url) for p in found.posts)
    assert len(found.posts) == 2


# --- the spider and Scrapy -------------------------------------------------------------------


def test_no_download_handler_but_http_and_https() -> None:
    handlers = scrapy_settings(CrawlerConfig())["DOWNLOAD_HANDLERS"]
    assert {name for name, handler in handlers.items() if handler is None} >= {
        "file",
        "data",
        "s3",
        "ftp",
    }
    assert "http" not in handlers and "https" not in handlers  # Scrapy's own stay


def _job(loop: asyncio.AbstractEventLoop) -> CrawlJob:
    return CrawlJob(spec=SourceSpec(name="s", url=BASE), future=loop.create_future())


@pytest.mark.parametrize("link", ["file:///etc/passwd", "FILE:/etc/passwd", "data:,x", "s3://b/k"])
def test_the_spider_never_makes_a_request_for_a_non_web_url(link: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        spider = SourceSpider()
        first, later = _job(loop), _job(loop)
        assert spider.request(first, link, 1) is None
        result: CrawlResult = first.future.result()
        assert result.status == "error" and "refused" in (result.error or "")
        later.result.posts.append(object())  # type: ignore[arg-type]
        assert spider.request(later, link, 2) is None
        assert later.future.result().status == "ok"
        assert any("refused" in w for w in later.future.result().warnings)
        assert spider.request(_job(loop), f"{BASE}?page=2", 2) is not None
    finally:
        loop.close()


@pytest.mark.parametrize(
    "location", [b"file:///etc/passwd", b"data:text/html,x", b"ftp://h/x", b"s3://b/k", b"jar:x"]
)
def test_a_redirect_to_a_non_web_url_is_a_clear_error(location: bytes) -> None:
    response = Response(BASE, status=302, headers={"Location": location})
    message, status = failure_message(Failure(HttpError(response)), timeout=5, max_size=1)
    assert status == 302
    assert message.startswith("fetch: HTTP 302: redirect to") and "refused" in message


def test_an_unsupported_scheme_is_a_clear_error() -> None:
    failure = Failure(NotSupported("Unsupported URL scheme 'file': no handler available"))
    message, _ = failure_message(failure, timeout=5, max_size=1)
    assert message.startswith("fetch: refused:") and "only http and https" in message


def test_a_feed_body_naming_a_local_file_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser opens bytes as a file name when it can: vigie hands it a stream."""
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / "secret.xml"
    secret.write_text(feed([item(0).replace("Entrée 0", "SECRET")]), encoding="utf-8")
    for body in (str(secret), secret.as_uri(), "secret.xml"):
        with pytest.raises(FeedError):
            parse_feed(body.encode(), BASE)
