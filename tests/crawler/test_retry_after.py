"""Retry-After as vigie reads it (delta-seconds, HTTP dates, junk) and what the middleware
decides without retrying: long waits, waits past the download timeout, retries used up.
The retry within the crawl itself: tests/reliability/test_politeness.py (`vigie run --once`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import RETRY_AFTER_CAP, RetryAfterMiddleware, parse_retry_after
from crawler.settings import scrapy_settings
from crawler.spiders.source import SourceSpider
from vigie.config import CrawlerConfig

NOW = datetime(2026, 1, 6, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Tue, 06 Jan 2026 12:00:30 GMT", 30.0),
        ("Tuesday, 06-Jan-26 12:01:00 GMT", 60.0),  # RFC 850, still allowed by RFC 9110
        ("Tue Jan  6 12:00:05 2026", 5.0),  # asctime
        ("Tue, 06 Jan 2026 11:00:00 GMT", 0.0),  # in the past: no wait
        ("9" * 400, RETRY_AFTER_CAP),  # absurd: capped, not an overflow
        ("Sat, 06 Jan 2046 12:00:00 GMT", RETRY_AFTER_CAP),
        ("Fri, 31 Dec 9999 23:59:59 GMT", RETRY_AFTER_CAP),  # the last date there is
        ("Mon, 01 Jan 0001 00:00:00 GMT", 0.0),  # the first: long past
        ("Tue, 06 Jan 2026 13:00:30 +0100", 30.0),  # an offset instead of GMT
        ("Tue, 06 Jan 2026 12:00:30", 30.0),  # no zone: GMT, as HTTP dates are
        ("007", 7.0),
        ("86400", RETRY_AFTER_CAP),
        ("86401", RETRY_AFTER_CAP),
    ],
)
def test_retry_after_values(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [
        *(None, "", " ", "\t\r\n", "soon", "-5", "-0", "+5", "1.5", "1e3", "0x10", "2 minutes"),
        *("120, 60", "12 0", "Tue, 99 Foo", "Tue, 06 Jan", "\x00", "\x007"),
        *("²", "١٢٠", "１２０", "Ⅻ"),  # digits to str.isdigit(), not to RFC 9110
    ],
)
def test_unreadable_retry_after_is_no_retry_after(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def decide(
    status: int,
    retry_after: str | None,
    *,
    timeout: float = 20.0,
    retries: int = 2,
    retry_times: int = 0,
) -> tuple[Request, Request | Response]:
    """(the request, what RetryAfterMiddleware makes of this answer to it)."""
    crawler = get_crawler(
        SourceSpider, settings_dict=scrapy_settings(CrawlerConfig(timeout=timeout, retries=retries))
    )
    crawler.spider = crawler._create_spider()
    request = Request("http://news.test/live", meta={"retry_times": retry_times})
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    response = Response(request.url, status=status, headers=headers, request=request)
    return request, RetryAfterMiddleware.from_crawler(crawler).process_response(request, response)


def test_a_long_wait_is_left_to_the_scheduler() -> None:
    request, out = decide(503, "120")
    assert isinstance(out, Response) and out.status == 503
    assert request.meta["retry_after"] == 120.0 and request.meta["dont_retry"] is True


def test_a_wait_longer_than_the_download_timeout_is_not_waited_for() -> None:
    request, out = decide(429, "4", timeout=3)
    assert isinstance(out, Response) and request.meta["retry_after"] == 4.0


def test_a_short_wait_with_retries_used_up_gives_up_with_the_delay() -> None:
    request, out = decide(503, "1", retry_times=2)
    assert isinstance(out, Response) and request.meta["retry_after"] == 1.0
    assert request.meta["dont_retry"] is True


def test_no_retries_configured_means_none_for_a_short_wait_either() -> None:
    request, out = decide(503, "1", retries=0)
    assert isinstance(out, Response) and request.meta["retry_after"] == 1.0


@pytest.mark.parametrize(("status", "retry_after"), [(503, None), (503, "soon"), (500, "1")])
def test_other_answers_go_on_to_scrapys_retry(status: int, retry_after: str | None) -> None:
    request, out = decide(status, retry_after)
    assert isinstance(out, Response) and out.status == status
    assert "dont_retry" not in request.meta and "retry_after" not in request.meta
