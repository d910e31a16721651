"""crawler.urls: canonical links, tracking parameters out, fragment kept."""

from __future__ import annotations

import pytest

from crawler.urls import (
    canonical_url,
    fragment,
    is_tracking,
    live_blog_url,
    same_document,
    without_fragment,
)

LIVE = "https://www.tf1info.fr/international/direct-ukraine.html"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            f"{LIVE}?utm_source=rss&utm_medium=feed&xtor=RSS-3#post-16",
            None,
            f"{LIVE}#post-16",
        ),
        (
            "HTTPS://WWW.TF1INFO.FR:443/International/x.html",
            None,
            "https://www.tf1info.fr/International/x.html",
        ),
        ("http://example.org:80/a", None, "http://example.org/a"),
        ("http://example.org:8080/a", None, "http://example.org:8080/a"),
        ("https://example.org", None, "https://example.org/"),
        ("https://h.fr/p?b=2&fbclid=x&a=1&gclid=y#frag", None, "https://h.fr/p?b=2&a=1#frag"),
        (
            "https://h.fr/p?id=5&mc_cid=1&mc_eid=2&igshid=3&at_medium=a&at_campaign=b&ref_src=t",
            None,
            "https://h.fr/p?id=5",
        ),
        (
            "https://h.fr/p?_ga=1&yclid=2&ito=3&cmp=4&dclid=5&msclkid=6&UTM_Campaign=7",
            None,
            "https://h.fr/p",
        ),
        ("https://h.fr/p?q=a%20b&x=%2F", None, "https://h.fr/p?q=a%20b&x=%2F"),
        (
            "https://h.fr/p?page=with:block-64#block-64",
            None,
            "https://h.fr/p?page=with:block-64#block-64",
        ),
        ("https://h.fr/p#", None, "https://h.fr/p"),
        ("#post-3", LIVE, f"{LIVE}#post-3"),
        ("/live?page=2", "https://h.fr/a/b?x=1", "https://h.fr/live?page=2"),
        ("page2.html", "https://h.fr/a/b", "https://h.fr/a/page2.html"),
        ("//cdn.h.fr/x", "https://h.fr/", "https://cdn.h.fr/x"),
        ("  https://h.fr/x  ", None, "https://h.fr/x"),
        ("mailto:redaction@tf1.fr", None, "mailto:redaction@tf1.fr"),
        ("urn:newsroom:post-1", None, "urn:newsroom:post-1"),
    ],
)
def test_canonical_url(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


def test_tracking_names() -> None:
    assert is_tracking("utm_source") and is_tracking("XTOR") and is_tracking("fbclid")
    assert not is_tracking("page") and not is_tracking("id") and not is_tracking("utmost")


def test_same_document_and_fragments() -> None:
    assert same_document(f"{LIVE}?utm_source=x#post-1", f"{LIVE.upper()[:5].lower()}{LIVE[5:]}")
    assert not same_document(f"{LIVE}?page=2", LIVE)
    assert fragment(f"{LIVE}#post-16") == "post-16"
    assert fragment(LIVE) == "" and fragment(None) == ""
    assert without_fragment(f"{LIVE}#post-16") == LIVE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{LIVE}?page=2#post-3", LIVE),
        (f"{LIVE}?id=7&page=3&utm_source=x", f"{LIVE}?id=7"),
        (f"{LIVE}?page=with:block-64&filterKeyEvents=false", f"{LIVE}?filterKeyEvents=false"),
        (f"{LIVE}?p=123", f"{LIVE}?p=123"),
        (LIVE, LIVE),
    ],
)
def test_live_blog_url(url: str, expected: str) -> None:
    assert live_blog_url(url) == expected
