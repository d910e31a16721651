"""Hostile input by class, for the crawler's unit tests and the reliability suite.

Every generator builds the variants of one class of input from its parts (schemes × letter
cases × what a browser ignores inside a link; date fields × each way to be out of range; ...),
so the tests cover a class, not one example. `page`, `jsonld_page` and `feed` wrap parts into
small documents the crawler reads as a live blog or a feed.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

# --- links -------------------------------------------------------------------------------

# Schemes a page or a server may send that vigie must never request nor store.
FOREIGN_SCHEMES = (
    "file", "javascript", "data", "vbscript", "ftp", "ftps", "sftp", "s3", "gopher", "mailto",
    "tel", "about", "blob", "jar", "ws", "wss", "view-source", "chrome", "ldap", "smb", "dict",
)  # fmt: skip
PAYLOADS = {
    "file": "///etc/passwd",
    "javascript": "alert(document.cookie)",
    "data": "text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
}


def letter_cases(word: str) -> list[str]:
    """The word lower, UPPER, Capitalised and in alternating case."""
    alternating = "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(word))
    return list(dict.fromkeys([word.lower(), word.upper(), word.capitalize(), alternating]))


def _obfuscated(scheme: str) -> Iterator[str]:
    """The scheme as a browser still reads it: tabs and newlines inside, controls around."""
    middle = len(scheme) // 2
    for ignored in ("\t", "\n", "\r", "\r\n"):
        yield scheme[:middle] + ignored + scheme[middle:]
    for lead in (" ", "\x00", "\x01", "\x1f", " \t\n", "\x0b"):
        yield lead + scheme


def foreign_links(with_payload: bool = True) -> list[str]:
    """Links with a non-web scheme: every scheme in every letter case, and obfuscated."""
    links = []
    for scheme in FOREIGN_SCHEMES:
        rest = ":" + PAYLOADS.get(scheme, "//example.org/x") if with_payload else ":"
        links += [case + rest for case in letter_cases(scheme)]
        links += [variant + rest for variant in _obfuscated(scheme)]
        links.append(scheme + rest + "   ")
    return links


def broken_web_links() -> list[str]:
    """http(s)-looking links that still name nothing to fetch: no host, bad port, too long."""
    return [
        "https://",
        "https:///etc/passwd",
        "https://:80/",
        "http://host.example:99999999/",
        "http://host.example:port/",
        "http://[::1/",
        "https://host.example/" + "a" * 5000,
    ]


def web_links() -> list[tuple[str, str]]:
    """(link, the URL it must become against BASE): what must still be followed and stored."""
    return [
        ("?page=2", f"{BASE}?page=2"),
        ("/live/page/2", "http://news.example/live/page/2"),
        ("//cdn.example/x", "http://cdn.example/x"),
        ("HTTP://News.Example/Live", "http://news.example/Live"),
        ("hTtPs://news.example/live#post-3", "https://news.example/live#post-3"),
        ("  https://news.example/live  ", "https://news.example/live"),
        ("https://news.exa\tmple/li\nve", "https://news.example/live"),
        ("#post-9", f"{BASE}#post-9"),
    ]


def html_entity_links() -> list[str]:
    """Non-web links spelled with character references, as an HTML attribute holds them."""
    out = []
    for link in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x"):
        out.append("".join(f"&#{ord(c)};" for c in link))
        out.append("".join(f"&#x{ord(c):x};" for c in link[:4]) + link[4:])
        out.append(link.replace(":", "&#58;"))
        out.append(link.replace(":", "&#x3A;", 1))
    return out


BASE = "http://news.example/live"

# --- characters ------------------------------------------------------------------------------

C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]  # CR becomes a newline
C1 = [chr(c) for c in range(0x80, 0xA0)]
NON_CHARACTERS = ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
ANSI = ["\x1b[31m", "\x1b[2J", "\x1b]0;owned\x07", "\x1b[?1049h", "\x9b31m"]
# Content, not junk: kept where they are.
ZERO_WIDTH_AND_BIDI = ["\u200b", "\u200d", "\u202e", "\u2066", "\u2069", "\u061c", "\ufeff"]


def unsafe_characters() -> list[str]:
    """Every character no stored text may hold, one string each."""
    return [*C0, "\x7f", *C1, *NON_CHARACTERS, *LONE_SURROGATES]


def sprinkled(text: str, bad: Sequence[str], seed: int = 0) -> str:
    """The text with the `bad` strings inserted at random places (same places for a seed)."""
    rng = random.Random(seed)
    chars = list(text)
    for piece in bad:
        chars.insert(rng.randrange(len(chars) + 1), piece)
    return "".join(chars)


def kept_in_order(wanted: str, text: str) -> bool:
    """True when the letters and digits of `wanted` are all in `text`, in order, whatever was
    put between them (an ANSI escape leaves "[31m" behind, as text; libxml2 reads NUL as
    U+FFFD)."""
    rest = iter(c for c in text if c.isalnum())
    return all(c in rest for c in wanted if c.isalnum())


def without_unsafe(text: str) -> bool:
    """True when the text holds no character of `unsafe_characters` (CR included)."""
    bad = set(unsafe_characters()) | {"\r"}
    return not any(c in bad for c in text)


# --- dates -----------------------------------------------------------------------------------


def impossible_iso_dates() -> list[str]:
    """ISO 8601 dates with one field out of range (each field, each way)."""
    good = {"y": "2026", "mo": "01", "d": "06", "h": "20", "mi": "08", "s": "00", "off": "+01:00"}
    bad = {
        "y": ["0000"],
        "mo": ["00", "13", "99"],
        "d": ["00", "32", "99"],
        "h": ["24", "25", "99"],
        "mi": ["60", "99"],
        "s": ["61", "99"],
        "off": ["+14:01", "+24:00", "+25:00", "-99:99", "+2400", "-1500", "+01:60"],
    }
    out = []
    for name, values in bad.items():
        for value in values:
            f = good | {name: value}
            out.append(f"{f['y']}-{f['mo']}-{f['d']}T{f['h']}:{f['mi']}:{f['s']}{f['off']}")
    out += ["2026-02-29T10:00:00Z", "2026-02-30T10:00:00Z", "2026-02-31", "2025-04-31T10:00Z"]
    return out


def unreadable_years() -> list[str]:
    """Dates in years no page can mean (and datetime cannot always hold)."""
    return [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",
        "1899-12-31T23:00:00Z",
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59Z",
        "10000-01-01T00:00:00Z",
        "99999-01-01",
        "2500-06-01T12:00:00Z",
        "Tue, 06 Jan 9999 20:08:00 +0100",
        "6 janvier 0005 à 20h08",
        "31.12.9999 23:59",
    ]


def impossible_free_dates() -> list[str]:
    """Printed dates that name no day: 31 February, month 13 (their clock must not be used)."""
    return [
        "31 février 2026 à 20h08",
        "30 February 2026 8:08 PM",
        "31.02.2026 20:08",
        "2026/13/01 10:00",
        "Tue, 45 Jan 2026 99:99:00 +0100",
        "32 janvier 2026",
        "25:61",
    ]


def bad_numbers() -> list[Any]:
    """Epochs and numbers that are no time: negative, zero, absurd, NaN, infinities."""
    return [
        "-1", "0", "1", "12", "2026", "-1767726480", "1e20", "1E+20", "-1e20",
        "99999999999999999999", "1767726480000000000", "nan", "NaN", "-inf", "Infinity",
        "1.5e308", "0x10", "12.5",
    ]  # fmt: skip


def far_future(now: datetime) -> list[str]:
    """Times after the fetch by more than vigie's 2-day slack, in several notations."""
    later = [now + timedelta(days=3), now + timedelta(days=400), datetime(2150, 1, 1, tzinfo=UTC)]
    out = []
    for when in later:
        out.append(when.isoformat())
        out.append(when.strftime("%a, %d %b %Y %H:%M:%S +0000"))
        out.append(str(int(when.timestamp())))
        out.append(str(int(when.timestamp() * 1000)))
    return out


def placeholder_past() -> list[str]:
    """Times no live-blog post has: the epoch zero and the years before the web."""
    return ["1970-01-01T00:00:00Z", "0", "1989-12-31T23:59:59Z", "1900-01-01T00:00:00Z"]


def non_string_dates() -> list[Any]:
    """JSON values where a date string is expected."""
    return [
        ["2026-01-06T20:08:00Z", "junk"],
        {"@value": "2026-01-06T20:08:00Z"},
        {"nested": {"deeper": ["2026"]}},
        [[[[["2026-01-06"]]]]],
        1767726480,
        1767726480.5,
        True,
        None,
        [],
        {},
    ]


# --- nesting and pathological text -----------------------------------------------------------


def nested_json(depth: int, kind: str = "list") -> str:
    """JSON nested `depth` deep: lists, objects, or both alternating."""
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"a":[' * (depth // 2) + "1" + "]}" * (depth // 2)


def nested_html(depth: int, tag: str = "div") -> str:
    return f"<{tag}>" * depth + "deep" + f"</{tag}>" * depth


MB = 1024 * 1024


def pathological_texts(size: int = MB) -> dict[str, str]:
    """Texts that make careless regexes and caches pay: each `size` characters long."""
    return {
        "one word": "x" * size,
        "tag starts": "<a" * (size // 2),
        "dashes": "-" * size,
        "digits": "1" * size,
        "digit space runs": ("1" + " " * 999) * (size // 1000),
        "commas": "," * size,
        "colons and digits": "1:" * (size // 2),
        "open brackets": "[" * size,
        "entities": "&amp" * (size // 4),
        "spaces then letter": " " * size + "x",
        "month words": "janvier " * (size // 8),
        "clock-like": "12.31 " * (size // 6),
    }


# --- documents -------------------------------------------------------------------------------


def post_html(i: int, headline: str, body: str, when: str = "2026-01-06T20:08:00+01:00") -> str:
    return (
        f'<article class="post" id="post-{i}"><time datetime="{html.escape(when)}">20:08</time>'
        f"<h2>{headline}</h2><p>{body}</p></article>"
    )


def page(posts: Sequence[str], head: str = "", before: str = "", after: str = "") -> str:
    """A live-blog page: the posts as the detector finds them (repeated stamped articles)."""
    return (
        f"<!DOCTYPE html><html><head><title>Direct</title>{head}</head><body>{before}"
        f'<main><div class="stream">{"".join(posts)}</div></main>{after}</body></html>'
    )


def plain_posts(n: int = 3, tag: str = "") -> list[str]:
    return [
        post_html(i, f"Titre {tag} {i}", f"Le texte numéro {i} {tag} du direct, assez long.")
        for i in range(n)
    ]


def jsonld_page(
    updates: Sequence[dict[str, Any]], extra_scripts: Sequence[str] = (), body: str = ""
) -> str:
    """A page whose JSON-LD declares a LiveBlogPosting with these updates."""
    blog = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": "Direct",
        "coverageStartTime": "2026-01-06T08:00:00+01:00",
        "liveBlogUpdate": list(updates),
    }
    scripts = [json.dumps(blog, ensure_ascii=False).replace("</", "<\\/"), *extra_scripts]
    blocks = "".join(f'<script type="application/ld+json">{s}</script>' for s in scripts)
    return (
        f"<!DOCTYPE html><html><head><title>Direct</title>{blocks}</head><body>{body}</body></html>"
    )


def update(i: int, **fields: Any) -> dict[str, Any]:
    base = {
        "@type": "BlogPosting",
        "url": f"{BASE}#post-{i}",
        "headline": f"Mise à jour {i}",
        "articleBody": f"Le corps de la mise à jour {i}, une phrase complète.",
        "datePublished": f"2026-01-06T{10 + i % 10:02d}:00:00+01:00",
    }
    return base | fields


def feed(items: Sequence[str], channel: str = "", base: str | None = None) -> str:
    """An RSS 2.0 document with these `<item>`s (already XML)."""
    xml_base = f' xml:base="{html.escape(base)}"' if base else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"'
        ' xmlns:atom="http://www.w3.org/2005/Atom"'
        f"{xml_base}><channel><title>Fil</title>{channel}{''.join(items)}</channel></rss>"
    )


def item(i: int, link: str | None = None, pub: str = "Tue, 06 Jan 2026 19:08:00 GMT") -> str:
    link_xml = f"<link>{html.escape(link)}</link>" if link is not None else ""
    return (
        f"<item><title>Entrée {i}</title>{link_xml}<guid>entry-{i}</guid>"
        f"<description>Le texte de l’entrée {i}.</description><pubDate>{pub}</pubDate></item>"
    )


# --- a corpus of whole hostile documents -----------------------------------------------------

GOOD_HEADLINES = ("Titre bon 0", "Titre bon 1", "Titre bon 2")


def _good_posts() -> list[str]:
    return [
        post_html(i, GOOD_HEADLINES[i], f"Le texte numéro {i} du direct, une phrase entière.")
        for i in range(3)
    ]


def _good_updates() -> list[dict[str, Any]]:
    return [update(i, headline=GOOD_HEADLINES[i]) for i in range(3)]


def _good_items() -> list[str]:
    return [item(i).replace(f"Entrée {i}", GOOD_HEADLINES[i]) for i in range(3)]


def _id_post(element_id: str) -> str:
    return (
        f'<article class="post" id="{_attr(element_id)}"><time datetime="2026-01-06T20:00:00Z">'
        "20:00</time><h2>T</h2><p>Du texte assez long pour compter.</p></article>"
    )


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _markup_cases() -> dict[str, tuple[str, str]]:
    """(before the posts, after them) of broken markup a page may hold."""
    return {
        "unclosed inline tags": ("<b><i><u><font>" * 50, ""),
        "stray closing tags": ("</div></p></article></main></body></html>" * 50, ""),
        "tag soup": ("<p><div><p><li><td><tr></table></li><a><a><a>" * 50, ""),
        "broken comment": ("<!-- x -- y --!><!-->", "<!--"),
        "cdata and pis": ("<![CDATA[ <div> ]]><?php echo 1 ?><?xml x?>", ""),
        "doctype junk": ("<!DOCTYPE html [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>&x;", ""),
        "svg and math": ("<svg><script>alert(1)</script><foreignObject><p>t</p></svg><math>", ""),
        "nul in tags": ("<di\x00v cl\x00ass='a'>x</div><\x00>", ""),
        "odd tag names": ("<a:b.c-d><x-y/><_z><1a><-b>" * 20, ""),
        "attribute soup": ("<div a=1 a=2 b c='d' e=\"f' g=h>" * 20 + "</div>" * 20, ""),
        "unquoted angle attributes": ("<div title=<x>>t</div><a href=<>>" * 20, ""),
        "template and noscript": ("<template><article class='post'>x</article></template>", ""),
        "entities": ("&#0;&#x0;&#xD800;&#x110000;&#99999999;&nosuch;&amp&lt;&#;&#x;", ""),
    }


def _state_scripts(size: int) -> dict[str, str]:
    """Scripts of embedded application state (`__NEXT_DATA__`, `window.__X__ = …`,
    `JSON.parse("…")`, Next.js pushes) built to be deep, broken or endless."""
    deep = nested_json(100_000, "mixed")
    return {
        "nested": f'<script id="__NEXT_DATA__" type="application/json">{deep}</script>',
        "assignments": "<script>" + "window.__A__ = {" * (size // 16) + "</script>",
        "json.parse escapes": '<script>x = JSON.parse("' + '\\"' * (size // 2) + '")</script>',
        "atob junk": '<script>x = JSON.parse(atob("' + "A" * size + '"))</script>',
        "next pushes": "<script>" + "self.__next_f.push([1," * (size // 22) + "</script>",
        "many states": '<script type="application/json">{"a":[1]}</script>' * 20_000,
    }


def hostile_documents(size: int = 256 * 1024) -> Iterator[tuple[str, str, bytes]]:
    """(name, kind, bytes) of whole documents, each a hostile part beside three good posts
    (GOOD_HEADLINES) that must still be extracted. `size` is the length of big texts."""
    good = _good_posts()
    for label, text in pathological_texts(size).items():
        esc = html.escape(text, quote=False)
        yield f"body: {label}", "liveblog", page([*good, post_html(9, "Titre", esc)]).encode()
        yield (
            f"headline: {label}",
            "liveblog",
            page([*good, post_html(9, esc, "Un texte.")]).encode(),
        )
        yield f"between posts: {label}", "liveblog", page(good, after=esc).encode()
        yield (
            f"attribute: {label}",
            "liveblog",
            page(good, after=f'<div class="{_attr(text)}" data-x="{_attr(text)}">x</div>').encode(),
        )
        yield (
            f"element id: {label}",
            "liveblog",
            page([*good, _id_post(text[:65536])]).encode(),
        )
        yield (
            f"stamp: {label}",
            "liveblog",
            page([*good, post_html(9, "Titre", "Texte.", when=text[:65536])]).encode(),
        )
        yield (
            f"summary list: {label}",
            "liveblog",
            page(
                good,
                before=f"<ul><li>{esc}</li><li>{GOOD_HEADLINES[0]}</li><li>{GOOD_HEADLINES[1]}</li></ul>",
            ).encode(),
        )
        for name in ("headline", "articleBody", "datePublished", "url", "@id"):
            yield (
                f"jsonld {name}: {label}",
                "liveblog",
                jsonld_page([*_good_updates(), update(9, **{name: text})]).encode(),
            )
        yield (
            f"jsonld block: {label}",
            "liveblog",
            jsonld_page(_good_updates(), extra_scripts=[text]).encode(),
        )
        yield (
            f"feed title: {label}",
            "feed",
            feed([*_good_items(), item(9).replace("Entrée 9", esc)]).encode(),
        )
        yield (
            f"feed description: {label}",
            "feed",
            feed([*_good_items(), item(9).replace("Le texte", esc)]).encode(),
        )
        yield f"feed link: {label}", "feed", feed([*_good_items(), item(9, link=text)]).encode()
        yield f"feed date: {label}", "feed", feed([*_good_items(), item(9, pub=esc)]).encode()
    for depth in (3000, 100_000):
        for tag in ("div", "b", "span", "ul", "table"):
            yield (
                f"html nested {depth} <{tag}>",
                "liveblog",
                page(good, before=nested_html(depth, tag)).encode(),
            )
        yield (
            f"html nested {depth} unclosed",
            "liveblog",
            page(good, before="<div>x" * depth).encode(),
        )
        yield (
            f"html nested {depth} in a post",
            "liveblog",
            page([*good, post_html(9, "Titre", nested_html(depth))]).encode(),
        )
        for kind in ("list", "object", "mixed"):
            yield (
                f"json nested {depth} {kind}",
                "liveblog",
                jsonld_page(_good_updates(), extra_scripts=[nested_json(depth, kind)]).encode(),
            )
            yield (
                f"jsonld field nested {depth} {kind}",
                "liveblog",
                jsonld_page(
                    [
                        *_good_updates(),
                        update(9, headline=json.loads(nested_json(min(depth, 900), kind))),
                    ]
                ).encode(),
            )
        yield (
            f"articleBody nested {depth}",
            "liveblog",
            jsonld_page([*_good_updates(), update(9, articleBody=nested_html(depth))]).encode(),
        )
        yield (
            f"feed nested {depth}",
            "feed",
            feed([*_good_items(), "<item>" + "<x>" * depth + "</x>" * depth + "</item>"]).encode(),
        )
    for name, script in _state_scripts(size).items():
        yield f"embedded state: {name}", "liveblog", page(good, after=script).encode()
    for name, (before, after) in _markup_cases().items():
        yield f"markup: {name}", "liveblog", page(good, before=before, after=after).encode()
    many = 20_000
    yield (
        "many scripts",
        "liveblog",
        jsonld_page(_good_updates(), extra_scripts=['{"@type":"Thing"}'] * many).encode(),
    )
    yield (
        "many broken scripts",
        "liveblog",
        jsonld_page(_good_updates(), extra_scripts=["{,"] * many).encode(),
    )
    yield (
        "many next links",
        "liveblog",
        page(good, after='<a rel="next" href="javascript:x">n</a>' * many).encode(),
    )
    yield (
        "many ids",
        "liveblog",
        jsonld_page(
            [*_good_updates(), *(update(100 + i, url=f"#x{'7' * 150}{i}") for i in range(2000))],
            body="".join(f'<div id="post-{"9" * 150}{i}"></div>' for i in range(2000)),
        ).encode(),
    )
    yield (
        "many time elements",
        "liveblog",
        page(good, after='<time datetime="2026-01-06T10:00:00Z"></time>' * many).encode(),
    )
    yield (
        "many key-moments items",
        "liveblog",
        page(
            good,
            before='<div class="key-events">'
            + "<li><a href='#p'>x</a><h2>y</h2></li>" * many
            + "</div>",
        ).encode(),
    )
    yield (
        "many day headings",
        "liveblog",
        page(good, after="<h2>6 janvier 2026</h2><h3>7 janvier 2026</h3>" * many).encode(),
    )
    yield "many posts", "liveblog", page([*good, *plain_posts(5000)]).encode()
