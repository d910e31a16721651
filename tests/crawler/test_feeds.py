"""crawler.feeds: RSS/Atom → posts, hostile or broken documents refused or contained."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from html import escape

import pytest

from crawler.feeds import FeedError, looks_like_feed, parse_feed

LIVE = "https://news.example/live/jsonld"
TRACKING = "utm_source=rss&amp;utm_medium=feed&amp;xtor=RSS-3"
H16 = "35 PAYS VALIDENT LA “DÉCLARATION DE PARIS”"
P16 = "Les 35 pays de la “Coalition des volontaires” ont validé mardi la “déclaration de Paris”."
P16B = "Les garanties de sécurité sont “la clef”, a-t-il assuré."


def rss_item(n: int, title: str, paragraphs: list[str], date: str, guid: bool = True) -> str:
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f"<item><title>{escape(title)}</title><link>{LIVE}?{TRACKING}#post-{n}</link>"
        f"<description>{escape(html)}</description><pubDate>{date}</pubDate>"
        + (f'<guid isPermaLink="false">tf1-live-post-{n}</guid>' if guid else "")
        + "</item>"
    )


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>EN DIRECT</title><link>{LIVE}</link>{''.join(items)}</channel></rss>"
    ).encode()


ITEMS = (
    rss_item(16, H16, [P16, P16B], "Tue, 06 Jan 2026 20:08:00 +0100"),
    rss_item(15, "MACRON S’EXPRIME", ["Macron parle."], "Tue, 06 Jan 2026 19:34:00 +0100", False),
)


def test_rss() -> None:
    result = parse_feed(rss(*ITEMS), "https://news.example/live/rss", timezone="Europe/Paris")
    assert result.path == "feed" and result.warnings == [] and not result.is_liveblog
    pays, macron = result.posts
    assert pays.key == "guid:tf1-live-post-16"
    assert pays.url == f"{LIVE}#post-16"
    assert (pays.headline, pays.body) == (H16, f"{P16}\n\n{P16B}")
    assert pays.published_at == datetime(2026, 1, 6, 19, 8, tzinfo=UTC)
    assert pays.updated_at is None
    assert macron.key == macron.url == f"{LIVE}#post-15"  # no guid: the link, tracking dropped


def test_atom() -> None:
    doc = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:newsroom:live</id><title>x</title>
<link rel="next" href="/live/atom?page=2"/>
<entry><id>urn:newsroom:post-22</id><title></title>
<link rel="alternate" type="text/html" href="{LIVE}#post-22"/>
<published>2026-01-07T00:00:00+01:00</published><updated>2026-01-07T00:05:00+01:00</updated>
<content type="html">&lt;p&gt;Ce live est à présent terminé.&lt;/p&gt;</content></entry>
<entry><id>urn:newsroom:post-21</id><title type="text">Plain &amp; simple</title>
<published>2026-01-06T20:57:00+01:00</published>
<content type="text">Line one

Line two</content></entry>
</feed>""".encode()
    result = parse_feed(doc, "https://news.example/live/atom")
    closing, plain = result.posts
    assert closing.key == "guid:urn:newsroom:post-22" and closing.url == f"{LIVE}#post-22"
    assert closing.headline == "" and closing.body == "Ce live est à présent terminé."
    assert closing.published_at == datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
    assert closing.updated_at == datetime(2026, 1, 6, 23, 5, tzinfo=UTC)
    assert plain.headline == "Plain & simple" and plain.body == "Line one\n\nLine two"
    assert plain.url is None and plain.key == "guid:urn:newsroom:post-21"
    assert result.next_url == "https://news.example/live/atom?page=2"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title></item></channel></rss>
"""
XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title></item></channel></rss>
"""


@pytest.mark.parametrize(
    "doc",
    [
        BOMB,
        XXE,
        b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://evil.example/x.dtd"><rss/>',
        b"\xef\xbb\xbf<!-- c --><!doctype rss [<!ENTITY a 'b'>]><rss/>",
        BOMB.decode().encode("utf-16"),
    ],
)
def test_documents_declaring_entities_are_refused_before_parsing(doc: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(FeedError, match=r"^feed: refused: the document declares entities"):
        parse_feed(doc, "https://news.example/feed")
    assert time.perf_counter() - started < 1.0  # nothing was expanded


@pytest.mark.parametrize(
    "doc",
    [
        b"<!DOCTYPE html><html><head><title>TF1</title></head><body><p>x</p></body></html>",
        b"<html><body><p>Pas un flux</p></body></html>",
        b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html><body/></html>',
        b"",
        b"just some text",
        b'{"json": true}',
    ],
)
def test_html_and_junk_are_not_feeds(doc: bytes) -> None:
    with pytest.raises(FeedError, match=r"^feed: not a feed"):
        parse_feed(doc, "https://news.example/feed")


def test_truncated_feed_keeps_its_complete_entries() -> None:
    doc = rss(*ITEMS, rss_item(14, "PAS DE RÉACTION RUSSE", ["Pas encore."], "x"))
    cut = doc[: doc.index(b"PAS DE R")]
    result = parse_feed(cut, "https://news.example/live/rss")
    assert [p.key for p in result.posts] == ["guid:tf1-live-post-16", f"{LIVE}#post-15"]
    assert result.warnings and "malformed XML, kept 2 entries" in result.warnings[0]


def test_invalid_dates_are_none() -> None:
    items = (
        rss_item(1, "a", ["x"], "not a date"),
        rss_item(2, "b", ["y"], "Tue, 45 Foo 2026 99:99:99 +0100"),
        rss_item(3, "c", ["z"], ""),
    )
    result = parse_feed(rss(*items), "https://news.example/live/rss")
    assert [p.published_at for p in result.posts] == [None, None, None]


def test_empty_feed() -> None:
    result = parse_feed(rss(), "https://news.example/live/rss")
    assert result.posts == [] and result.warnings == []


def test_entry_without_anything_is_skipped_and_relative_links_resolved() -> None:
    doc = rss("<item></item>", "<item><title>t</title><link>/live#post-3</link></item>")
    [post] = parse_feed(doc, "https://news.example/feeds/rss").posts
    assert post.url == post.key == "https://news.example/live#post-3"


@pytest.mark.parametrize(
    ("doc", "content_type", "expected"),
    [
        (rss(), None, True),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>', "text/html", True),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', None, True),
        (b"<!DOCTYPE html><html></html>", "application/rss+xml", False),
        (b"\n\n<html><body>x</body></html>", None, False),
        (BOMB, None, True),  # sent to parse_feed, which refuses it
        (b"", "application/atom+xml", True),
        (b"", "text/html; charset=utf-8", False),
        (b"", None, False),
    ],
)
def test_looks_like_feed(doc: bytes, content_type: str | None, expected: bool) -> None:
    assert looks_like_feed(doc, content_type) is expected
