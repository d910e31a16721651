"""crawler.encoding: which charset a document's bytes are read with, and what is told.

One table per question: where the charset comes from (header, byte-order mark, `<meta>`, XML
declaration, none), declarations that lie, characters cut by a truncated download, names no
codec has, and UTF-16/32. Then the same rule through pages and feeds.
"""

from __future__ import annotations

import pytest

from crawler.encoding import decode, header_charset
from crawler.extract.page import extract_page
from crawler.feeds import FeedError, looks_like_feed, parse_feed

FRENCH = "L’Élysée : « sécurité » – déjà 20 €"  # windows-1252 and Unicode
EURO = "Été : 20 € (ISO-8859-15)"  # no ’ nor – in ISO-8859-15
CYRILLIC = "Киев: «безопасность» — уже"
META = '<html><head><meta charset="{}"><title>t</title></head><body><p>{}</p></body></html>'
XML = (
    '<?xml version="1.0" encoding="{}"?><rss version="2.0"><channel><title>{}</title>'
    "</channel></rss>"
)


def meta(label: str, codec: str, text: str = FRENCH) -> bytes:
    return META.format(label, text).encode(codec)


def xml(label: str, codec: str, text: str = FRENCH) -> bytes:
    return XML.format(label, text).encode(codec)


def bare(codec: str, text: str = FRENCH) -> bytes:
    return f"<html><body><p>{text}</p></body></html>".encode(codec)


@pytest.mark.parametrize(
    ("data", "declared", "codec", "text"),
    [
        # the header alone
        (bare("cp1252"), "windows-1252", "cp1252", FRENCH),
        (bare("iso8859-15", EURO), "iso-8859-15", "iso8859-15", EURO),
        (bare("cp1251", CYRILLIC), "windows-1251", "cp1251", CYRILLIC),
        (bare("utf-8"), "utf-8", "utf-8", FRENCH),
        # a byte-order mark beats everything
        (b"\xef\xbb\xbf" + bare("utf-8"), "windows-1252", "utf-8", FRENCH),
        (b"\xff\xfe" + bare("utf-16-le"), "utf-8", "utf-16-le", FRENCH),
        (b"\xfe\xff" + bare("utf-16-be"), None, "utf-16-be", FRENCH),
        (b"\xff\xfe\x00\x00" + bare("utf-32-le"), None, "utf-32-le", FRENCH),
        (b"\x00\x00\xfe\xff" + bare("utf-32-be"), "iso-8859-1", "utf-32-be", FRENCH),
        # UTF-16/32 without a mark: by the header, or by the "<" that starts the document
        (bare("utf-16-le"), "utf-16le", "utf-16-le", FRENCH),
        (bare("utf-16-be"), "utf-16", "utf-16-be", FRENCH),  # no mark: big-endian (RFC 2781)
        (bare("utf-16-le"), None, "utf-16-le", FRENCH),
        (bare("utf-16-be"), None, "utf-16-be", FRENCH),
        (bare("utf-32-le"), None, "utf-32-le", FRENCH),
        (bare("utf-32-be"), None, "utf-32-be", FRENCH),
        # the document's own declaration, without a header
        (meta("windows-1252", "cp1252"), None, "cp1252", FRENCH),
        (meta("iso-8859-15", "iso8859-15", EURO), None, "iso8859-15", EURO),
        (meta("utf-8", "utf-8"), None, "utf-8", FRENCH),
        (xml("ISO-8859-1", "cp1252"), None, "cp1252", FRENCH),
        (xml("windows-1251", "cp1251", CYRILLIC), None, "cp1251", CYRILLIC),
        # the header beats the document's declaration
        (meta("iso-8859-15", "cp1252"), "windows-1252", "cp1252", FRENCH),
        (meta("windows-1252", "cp1251", CYRILLIC), "koi8-r", "koi8-r", ""),
        # labels read as browsers do: latin-1 and ascii are windows-1252 (’ “ ” – … in 0x80-0x9F)
        (bare("cp1252"), "iso-8859-1", "cp1252", FRENCH),
        (bare("cp1252"), "us-ascii", "cp1252", FRENCH),
        (meta("latin1", "cp1252"), None, "cp1252", FRENCH),
        # nothing declared
        (bare("utf-8"), None, "utf-8", FRENCH),
        (bare("cp1252"), None, "cp1252", FRENCH),
        (b"", None, "utf-8", ""),
        (b"<p>ascii only</p>", None, "utf-8", "ascii only"),
    ],
)
def test_where_the_charset_comes_from(
    data: bytes, declared: str | None, codec: str, text: str
) -> None:
    decoded = decode(data, declared)
    assert decoded.codec == codec
    assert text in decoded.text
    assert "\ufeff" not in decoded.text  # a byte-order mark is no text


@pytest.mark.parametrize(
    ("data", "declared", "codec", "warning"),
    [
        # declared latin-1 but sent as UTF-8: UTF-8 (text in a single-byte charset never is)
        (bare("utf-8"), "iso-8859-1", "utf-8", "page: declared cp1252 but is UTF-8: read as UTF-8"),
        (meta("windows-1252", "utf-8"), None, "utf-8", "page: declared cp1252 but is UTF-8"),
        (xml("ISO-8859-2", "utf-8"), None, "utf-8", "page: declared iso8859-2 but is UTF-8"),
        # declared UTF-8 but is not
        (bare("cp1252"), "utf-8", "cp1252", "declared UTF-8 but is not: read as windows-1252"),
        (meta("utf-8", "cp1252"), None, "cp1252", "page: declared UTF-8 but is not"),
        # a page that declares UTF-16 in a <meta> readable as ASCII is no UTF-16 (WHATWG)
        (meta("utf-16", "cp1252"), None, "cp1252", "page: declared UTF-8 but is not"),
        (meta("utf-16", "utf-8"), None, "utf-8", ""),
        # names no codec has, and UTF-7 (it re-spells "<" in ASCII): as if undeclared
        (bare("cp1252"), "klingon", "cp1252", "page: unknown charset 'klingon'"),
        (bare("utf-8"), "x-user-defined-999", "utf-8", "page: unknown charset"),
        (meta("klingon", "cp1252"), None, "cp1252", "page: no usable charset declared"),
        (meta("utf-7", "cp1252"), None, "cp1252", "page: no usable charset declared"),
        (bare("cp1252"), "utf-7", "cp1252", "page: unknown charset 'utf-7'"),
        (bare("cp1252"), "", "cp1252", "page: no usable charset declared and not UTF-8"),
        (bare("cp1252"), None, "cp1252", "page: no usable charset declared and not UTF-8"),
    ],
)
def test_declarations_that_lie_or_name_nothing(
    data: bytes, declared: str | None, codec: str, warning: str
) -> None:
    decoded = decode(data, declared)
    assert decoded.codec == codec and FRENCH in decoded.text
    assert any(warning in w for w in decoded.warnings) if warning else decoded.warnings == ()


def test_ascii_under_any_declaration_says_nothing() -> None:
    assert decode(b"<p>plain</p>", "iso-8859-1").warnings == ()


@pytest.mark.parametrize("cut", range(1, 4))
@pytest.mark.parametrize("declared", [None, "utf-8", "iso-8859-1"])
def test_a_character_cut_by_the_end_keeps_the_rest_as_utf8(cut: int, declared: str | None) -> None:
    data = ("Été : 20 €" + "😀").encode()
    decoded = decode(data[:-cut], declared)
    assert decoded.codec == "utf-8"
    assert decoded.text == "Été : 20 €\ufffd"


@pytest.mark.parametrize(
    "data",
    [
        b"\xff" * 1000,
        b"\x80\x81\x82",
        b"\xc3",  # a lone lead byte: a cut character, nothing before it
        b"\x00" * 7,
        b"\xef\xbb",  # half a byte-order mark
        b"\xff\xfe\x00",  # a UTF-16 mark and half a character
        b'<meta charset="' + b"a" * 5000 + b'">',
        bytes(range(256)),
    ],
)
def test_garbage_is_read_without_raising(data: bytes) -> None:
    decoded = decode(data, "utf-8")
    assert isinstance(decoded.text, str) and decoded.codec


@pytest.mark.parametrize(
    ("content_type", "codec"),
    [
        ("text/html; charset=ISO-8859-4", "iso8859-4"),
        ('text/html; charset="utf-8"', "utf-8"),
        ("text/html;charset=latin1", "cp1252"),
        ("application/rss+xml; charset=GB2312", "gb18030"),
        ("text/html; charset=utf-7", None),
        ("text/html; charset=nonsense", None),
        ("text/html", None),
        ("", None),
        (None, None),
    ],
)
def test_header_charset(content_type: str | None, codec: str | None) -> None:
    assert header_charset(content_type) == codec


# --- through pages and feeds -----------------------------------------------------------------

PAGE = "https://news.example/live"
ITEM = "<item><title>{}</title><guid>p-{}</guid><description>{}</description></item>"


def rss(label: str, n: int = 3) -> str:
    items = "".join(ITEM.format(f"{FRENCH} {i}", i, f"{FRENCH}.") for i in range(n))
    return (
        f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>t</title>'
        f"{items}</channel></rss>"
    )


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (rss("UTF-8").encode(), "application/rss+xml"),
        (rss("UTF-8").encode(), "text/xml"),  # RFC 3023 would say us-ascii: nobody means it
        (rss("ISO-8859-1").encode("cp1252"), "application/rss+xml"),
        (rss("ISO-8859-1").encode(), "application/rss+xml"),  # declared latin-1, is UTF-8
        (rss("UTF-8").encode("cp1252"), "application/xml; charset=windows-1252"),
        (b"\xef\xbb\xbf" + rss("UTF-8").encode(), None),
        (b"\xff\xfe" + rss("UTF-16").encode("utf-16-le"), "application/rss+xml"),
        (rss("UTF-16").encode("utf-16-le"), None),
        (rss("UTF-16").encode("utf-16-be"), "application/xml; charset=utf-16"),
        (b"\x00\x00\xfe\xff" + rss("UTF-32").encode("utf-32-be"), None),
    ],
)
def test_feeds_are_read_in_their_charset(data: bytes, content_type: str | None) -> None:
    assert looks_like_feed(data, content_type)
    result = parse_feed(data, PAGE, content_type=content_type)
    assert [p.headline for p in result.posts] == [f"{FRENCH} {i}" for i in range(3)]
    assert all(p.body == f"{FRENCH}." for p in result.posts)


def test_a_feed_cut_inside_a_character_keeps_the_entries_before() -> None:
    data = rss("UTF-8", 4).encode()
    cut = data[: data.index(FRENCH.encode(), data.index(b"p-3")) + 3]  # inside "’"
    result = parse_feed(cut, PAGE, content_type="application/rss+xml")
    assert [p.headline for p in result.posts] == [f"{FRENCH} {i}" for i in range(3)]
    assert any("malformed" in w for w in result.warnings)


def test_a_utf16_feed_declaring_entities_is_refused() -> None:
    doc = '<?xml version="1.0"?><rss><channel><!ENTITY x "y"></channel></rss>'
    with pytest.raises(FeedError, match="declares entities"):
        parse_feed(b"\xff\xfe" + doc.encode("utf-16-le"), PAGE)


def blog(label: str) -> str:
    script = (
        '<script type="application/ld+json">{"@type": "LiveBlogPosting", "liveBlogUpdate":'
        f' [{{"@type": "BlogPosting", "headline": "{FRENCH}"}}]}}</script>'
    )
    return META.format(label, "").replace("<p></p>", script)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (blog("windows-1252").encode("cp1252"), None),
        (blog("utf-8").encode("utf-8"), "iso-8859-1"),
        (blog("utf-8").encode("cp1252"), "windows-1252"),
        (blog("utf-8").encode("cp1252"), None),
        (b"\xff\xfe" + blog("utf-16").encode("utf-16-le"), None),
        (blog("utf-8").encode("utf-16-be"), "utf-16"),
    ],
)
def test_pages_are_read_in_their_charset(data: bytes, encoding: str | None) -> None:
    result = extract_page(data, PAGE, encoding=encoding)
    assert [p.headline for p in result.posts] == [FRENCH]
