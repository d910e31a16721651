"""Fetch outcomes mapped to messages, in one place.

Every failure of a download (a Twisted `Failure` from Scrapy's errback, or an HTTP status
that is not a success) becomes a short message starting with its layer ("fetch: ...") and
a status for the source: "error" for what may heal, "gone" for a 410. A redirect Scrapy did
not follow (its Location is no http(s) URL: `file:`, `data:`, `ftp:`...) says so, and a URL
whose scheme has no download handler (settings.py enables http and https only) is refused.
"""

from __future__ import annotations

from http import HTTPStatus

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.sanitize import clean_text
from crawler.urls import refusal


def http_status_message(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unexpected status"
    if status == 410:
        return "fetch: HTTP 410 Gone: the publisher removed this page; source disabled"
    return f"fetch: HTTP {status} {phrase}"


def failure_message(failure: Failure, *, timeout: float, max_size: int) -> tuple[str, int | None]:
    """(message, HTTP status if any) for a failed download."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        if 300 <= status < 400:
            return _unfollowed_redirect(exc.response.headers.get("Location"), status), status
        return http_status_message(status), status
    if isinstance(exc, NotSupported):
        return f"fetch: refused: {_reason(exc)} (only http and https are fetched)", None
    if isinstance(exc, DownloadTimeoutError | TimeoutError | TCPTimedOutError):
        return f"fetch: timed out after {timeout:g}s", None
    if isinstance(exc, DownloadCancelledError):
        return f"fetch: refused: response larger than max_page_size ({_size(max_size)})", None
    if isinstance(exc, CannotResolveHostError | DNSLookupError):
        return "fetch: cannot resolve host", None
    if isinstance(exc, DownloadConnectionRefusedError | ConnectionRefusedError):
        return "fetch: connection refused", None
    if isinstance(exc, ResponseDataLossError):
        return "fetch: response cut short (data loss)", None
    if isinstance(exc, IgnoreRequest):
        reason = str(exc) or "request dropped"
        if "robots" in reason.lower():
            return "fetch: forbidden by robots.txt (set obey_robots = false to ignore)", None
        if "redirect" in reason.lower():
            return f"fetch: too many redirects ({reason})", None
        return f"fetch: {reason}", None
    if isinstance(exc, ResponseNeverReceived | DownloadFailedError):
        return f"fetch: no response ({_reason(exc)})", None
    return f"fetch: {type(exc).__name__}: {_reason(exc)}", None


def _unfollowed_redirect(location: bytes | None, status: int) -> str:
    """Scrapy follows a redirect to an http(s) URL; one that reaches the spider went elsewhere."""
    if not location:
        return f"{http_status_message(status)}: redirect without a Location"
    target = clean_text(location.decode("latin-1"))
    why = refusal(target) or "not followed"
    return f"fetch: HTTP {status}: redirect to {target[:60]!r} refused ({why})"


def _reason(exc: BaseException) -> str:
    reasons = getattr(exc, "reasons", None)
    if reasons:
        return "; ".join(str(getattr(r, "value", r)) for r in reasons)[:300]
    return str(exc)[:300] or type(exc).__name__


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"
