"""AutoThrottle as vigie runs it: a 304 (a poll of an unchanged page) may lower the delay."""

from __future__ import annotations

from types import SimpleNamespace

from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.middlewares import PollingAutoThrottle
from crawler.settings import scrapy_settings
from vigie.config import CrawlerConfig

SETTINGS = {"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}


def _after(throttle: AutoThrottle, status: int, delay: float = 8.0) -> float:
    throttle.mindelay, throttle.maxdelay = 0.0, 60.0  # what opening the spider sets
    slot = SimpleNamespace(delay=delay)
    throttle._adjust_delay(slot, 0.1, Response("http://news.example/live", status=status))  # type: ignore[arg-type]
    return float(slot.delay)


def test_a_304_lowers_the_delay_as_a_200_does() -> None:
    crawler = get_crawler(settings_dict=SETTINGS)
    ours, scrapys = PollingAutoThrottle(crawler), AutoThrottle(crawler)
    assert _after(ours, 304) == _after(ours, 200) < 8.0
    assert _after(scrapys, 304) == 8.0  # what Scrapy alone does: the delay never comes down


def test_error_pages_still_cannot_talk_the_delay_down() -> None:
    ours = PollingAutoThrottle(get_crawler(settings_dict=SETTINGS))
    assert _after(ours, 404) == _after(ours, 503) == 8.0
    assert _after(ours, 304, delay=0.0) > 0.0  # and a slow 304 still raises it


def test_vigie_runs_its_own_throttle() -> None:
    extensions = Settings(scrapy_settings(CrawlerConfig())).getwithbase("EXTENSIONS")
    assert "scrapy.extensions.throttle.AutoThrottle" not in extensions
    assert "crawler.middlewares.PollingAutoThrottle" in extensions
