"""Canonical URLs: the form under which a link is compared and stored.

Owns the list of tracking parameters. A canonical URL is absolute, has a lowercase scheme and
host, no default port, no tracking parameters (the others keep their order and their exact
encoding) and keeps its fragment, because live-blog posts are told apart by `#post-N`.
"""

from __future__ import annotations

import re
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
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


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


@lru_cache(maxsize=16384)
def canonical_url(url: str, base: str | None = None) -> str:
    """`url` made absolute against `base` and canonical; non-web URLs come back stripped."""
    url = url.strip()
    if base and not url.lower().startswith(("http://", "https://")):
        url = urljoin(base.strip(), url)
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
    return bool(_SCHEME_RE.match(url))
