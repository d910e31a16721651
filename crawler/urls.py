"""Canonical URLs: the form under which a link is compared and stored, and which links are web.

Owns the list of tracking parameters. A canonical URL is absolute, has a lowercase scheme and
host, no default port, no tracking parameters (the others keep their order and their exact
encoding) and keeps its fragment, because live-blog posts are told apart by `#post-N`.

Owns too the rule every link from a page or a server passes before it is requested, followed
or stored: `web_url` accepts http(s) URLs with a host, at most MAX_URL_LENGTH long, and
nothing else (`file:`, `javascript:`, `data:`, ... in any letter case). A link is read as a
browser reads it first: C0 controls and spaces around it trimmed, tabs and newlines inside it
removed, so `java\tscript:` is `javascript:`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    """xtor xtref xts fbclid gclid gclsrc dclid msclkid mc_cid mc_eid igshid at_medium
    at_campaign at_format at_link at_send_date at_recipient_id at_recipient_list ref_src
    ref_url _ga _gl yclid ito cmp cmpid ocid icid ncid ns_mchannel ns_source ns_campaign
    ns_linkname ns_fee wt_mc wt.mc_id mkt_tok oly_enc_id oly_anon_id vero_id _hsenc _hsmi
    __twitter_impression sr_share spm trk s_cid twclid ttclid li_fat_id wbraid gbraid
    """.split()  # noqa: SIM905
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
# Parameters that select a page of a paginated live blog, not the live blog itself.
PAGINATION_PARAMS = frozenset({"page", "pg", "pagenum", "paged", "seite", "offset"})
DEFAULT_PORTS = {"http": 80, "https": 443}
WEB_SCHEMES = frozenset(DEFAULT_PORTS)
# Longer links are refused (and never cached): real ones stay far below, servers cap at 8 KB.
MAX_URL_LENGTH = 4096
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE_RE = re.compile("[\t\n\r]")


def is_tracking(name: str) -> bool:
    """True for a query parameter that only serves analytics."""
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.split("=", 1)[0])
        if not is_tracking(name):
            kept.append(pair)
    return "&".join(kept)


def as_browser_reads(url: str) -> str:
    """The link a browser parses: C0 controls and spaces trimmed, tabs and newlines removed."""
    url = url.strip().strip(_C0_AND_SPACE)
    if "\t" in url or "\n" in url or "\r" in url:
        url = _TAB_OR_NEWLINE_RE.sub("", url)
    return url


def canonical_url(url: str, base: str | None = None) -> str:
    """`url` made absolute against `base` and canonical; non-web URLs come back stripped."""
    if len(url) > MAX_URL_LENGTH or (base is not None and len(base) > MAX_URL_LENGTH):
        return _canonical.__wrapped__(url, base)  # not cached: the cache would hold it
    return _canonical(url, base)


@lru_cache(maxsize=16384)
def _canonical(url: str, base: str | None) -> str:
    url = as_browser_reads(url)
    if base and not url.lower().startswith(("http://", "https://")):
        url = urljoin(as_browser_reads(base), url)
    if not url.lower().startswith(("http://", "https://")):
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), parts.fragment))


def live_blog_url(url: str) -> str:
    """The canonical URL of the live blog a page belongs to: no fragment, no `?page=N`.

    Post keys are built on it, so that a post keeps its key when it moves to page 2.
    """
    base, _, query = without_fragment(canonical_url(url)).partition("?")
    kept = [
        pair
        for pair in query.split("&")
        if pair and unquote_plus(pair.split("=", 1)[0]).lower() not in PAGINATION_PARAMS
    ]
    return f"{base}?{'&'.join(kept)}" if kept else base


def without_fragment(url: str) -> str:
    """The URL with its `#fragment` removed."""
    return url.split("#", 1)[0]


def fragment(url: str | None) -> str:
    """The fragment of a URL ("" when none)."""
    return url.split("#", 1)[1] if url and "#" in url else ""


def same_document(url_a: str, url_b: str) -> bool:
    """True when both URLs name the same document (fragments and tracking ignored)."""
    return without_fragment(canonical_url(url_a)) == without_fragment(canonical_url(url_b))


def is_absolute(url: str) -> bool:
    """True for a URL with a scheme."""
    return bool(_SCHEME_RE.match(as_browser_reads(url)))


def scheme_of(url: str) -> str:
    """The scheme of a link as a browser reads it, lowercased ("" for a relative link)."""
    m = _SCHEME_RE.match(as_browser_reads(url))
    return m[0][:-1].lower() if m else ""


def refusal(url: object, base: str | None = None) -> str | None:
    """Why a link from a page or a server is not an http(s) URL vigie may request or store,
    or None when it is one (relative links are resolved against `base` first)."""
    if not isinstance(url, str):
        return f"not a link ({type(url).__name__})"
    if len(url) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    if base is None and url.startswith(("http://", "https://")):
        # What remains to judge is in the scheme and the host: judged once per origin.
        end = _NETLOC_END_RE.search(url, url.index("//") + 2)
        return _host_refusal(url[: end.start()] if end else url)
    found = canonical_url(url, base)
    scheme = scheme_of(found)
    if scheme not in WEB_SCHEMES:
        return f"scheme {scheme[:20]!r} refused" if scheme else "not an absolute link"
    if len(found) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    return _host_refusal.__wrapped__(found)


_NETLOC_END_RE = re.compile("[/?#]")  # where urlsplit ends the host part


@lru_cache(maxsize=1024)
def _host_refusal(found: str) -> str | None:
    """Why an http(s) URL's host part is refused (urlsplit raises, or there is none)."""
    try:
        parts = urlsplit(found)
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError:
        return "invalid port or host"
    if not parts.hostname:
        return "no host"
    return None


def web_url(url: object, base: str | None = None) -> str | None:
    """The canonical http(s) URL of a link from a page or a server, or None (see `refusal`)."""
    if refusal(url, base) is not None:
        return None
    return canonical_url(url, base)  # type: ignore[arg-type]


def first_next_url(hrefs: Iterable[str], base: str, warnings: list[str]) -> str | None:
    """The first of these rel="next" links that is an http(s) URL; the first refused one
    is told in `warnings`."""
    refused = False
    for href in hrefs:
        url = web_url(href, base)
        if url is not None:
            return url
        if not refused:
            warnings.append(f"url: next-page link {href[:40]!r} refused: {refusal(href, base)}")
            refused = True
    return None
