"""crawler.errors: every way a download fails, as the one message and status a user reads."""

from __future__ import annotations

import pytest
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
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.errors import failure_message, http_status_message

URL = "https://news.example/live"


def http_error(status: int, headers: dict[str, bytes] | None = None) -> HttpError:
    return HttpError(Response(URL, status=status, headers=headers or {}), "not a success")


@pytest.mark.parametrize(
    ("exc", "message", "status"),
    [
        (http_error(404), "fetch: HTTP 404 Not Found", 404),
        (http_error(500), "fetch: HTTP 500 Internal Server Error", 500),
        (http_error(429), "fetch: HTTP 429 Too Many Requests", 429),
        (http_error(599), "fetch: HTTP 599 unexpected status", 599),
        (
            http_error(410),
            "fetch: HTTP 410 Gone: the publisher removed this page; source disabled",
            410,
        ),
        (
            http_error(302),
            "fetch: HTTP 302 Found: redirect without a Location",
            302,
        ),
        (
            http_error(301, {"Location": b"file:///etc/passwd"}),
            "fetch: HTTP 301: redirect to 'file:///etc/passwd' refused (scheme 'file' refused)",
            301,
        ),
        (
            NotSupported("Unsupported URL scheme 'ftp': no handler available"),
            "fetch: refused: Unsupported URL scheme 'ftp': no handler available"
            " (only http and https are fetched)",
            None,
        ),
        (DownloadTimeoutError("took longer than 20 seconds"), "fetch: timed out after 20s", None),
        (TimeoutError(), "fetch: timed out after 20s", None),
        (TCPTimedOutError(), "fetch: timed out after 20s", None),
        (
            DownloadCancelledError("too big"),
            "fetch: refused: response larger than max_page_size (5 MB)",
            None,
        ),
        (CannotResolveHostError("news.example"), "fetch: cannot resolve host", None),
        (DNSLookupError("news.example"), "fetch: cannot resolve host", None),
        (DownloadConnectionRefusedError(), "fetch: connection refused", None),
        (ConnectionRefusedError(), "fetch: connection refused", None),
        (ResponseDataLossError(), "fetch: response cut short (data loss)", None),
        (
            IgnoreRequest("Forbidden by robots.txt"),
            "fetch: forbidden by robots.txt (set obey_robots = false to ignore)",
            None,
        ),
        (
            IgnoreRequest("max redirections reached"),
            "fetch: too many redirects (max redirections reached)",
            None,
        ),
        (IgnoreRequest(), "fetch: request dropped", None),
        (IgnoreRequest("offsite"), "fetch: offsite", None),
        (
            ResponseNeverReceived([Failure(ConnectionLost("peer went away"))]),
            "fetch: no response (Connection to the other side was lost in a non-clean fashion:"
            " peer went away.)",
            None,
        ),
        (DownloadFailedError("TLS handshake"), "fetch: no response (TLS handshake)", None),
        (ValueError("odd"), "fetch: ValueError: odd", None),
        (ValueError(), "fetch: ValueError: ValueError", None),
    ],
)
def test_failure_messages(exc: Exception, message: str, status: int | None) -> None:
    assert failure_message(Failure(exc), timeout=20, max_size=5 * 1024 * 1024) == (
        message,
        status,
    )


@pytest.mark.parametrize(
    ("max_size", "told"),
    [(512, "512 bytes"), (2048, "2 KB"), (3 * 1024**2, "3 MB"), (1536 * 1024**2, "1.5 GB")],
)
def test_the_size_limit_is_told_in_its_unit(max_size: int, told: str) -> None:
    message, _ = failure_message(Failure(DownloadCancelledError()), timeout=1, max_size=max_size)
    assert message == f"fetch: refused: response larger than max_page_size ({told})"


@pytest.mark.parametrize("timeout", [0.5, 20.0, 180])
def test_the_timeout_is_told_as_configured(timeout: float) -> None:
    message, _ = failure_message(Failure(TimeoutError()), timeout=timeout, max_size=1)
    assert message == f"fetch: timed out after {timeout:g}s"


@pytest.mark.parametrize(
    "location",
    [
        b"javascript:alert(1)",
        b"\x1b[31mred\x1b[0m://x",  # control characters never reach the message
        "http://h\u00e9".encode("latin-1") + b"\xff" * 200,  # long, latin-1: cut
    ],
)
def test_an_unfollowed_redirect_is_told_cleanly_and_briefly(location: bytes) -> None:
    message, status = failure_message(
        Failure(http_error(307, {"Location": location})), timeout=1, max_size=1
    )
    assert status == 307 and message.startswith("fetch: HTTP 307: redirect to ")
    assert "refused" in message and "\x1b" not in message and len(message) < 200


def test_an_endless_reason_is_cut() -> None:
    message, _ = failure_message(Failure(DownloadFailedError("x" * 10_000)), timeout=1, max_size=1)
    assert message.startswith("fetch: no response (xxx") and len(message) < 400


@pytest.mark.parametrize("status", [200, 304, 404, 410, 418, 451, 503, 0, 1000])
def test_every_status_has_a_message(status: int) -> None:
    message = http_status_message(status)
    assert message.startswith(f"fetch: HTTP {status} ")
