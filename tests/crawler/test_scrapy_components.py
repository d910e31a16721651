"""The components vigie switches off are out of Scrapy's lists (Scrapy imports every class a
list names, even one set to None), and every other component of Scrapy's is still there."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings, default_settings
from scrapy.utils.conf import build_component_list

from crawler.settings import OFF_EXTENSIONS, OFF_MIDDLEWARES, scrapy_settings
from vigie.config import CrawlerConfig


@pytest.mark.parametrize(
    ("name", "base", "off", "ours"),
    [
        (
            "EXTENSIONS",
            default_settings.EXTENSIONS_BASE,
            OFF_EXTENSIONS,
            {"crawler.middlewares.PollingAutoThrottle"},
        ),
        (
            "DOWNLOADER_MIDDLEWARES",
            default_settings.DOWNLOADER_MIDDLEWARES_BASE,
            OFF_MIDDLEWARES,
            {
                "crawler.middlewares.ExpiringRobotsTxtMiddleware",
                "crawler.middlewares.RetryAfterMiddleware",
            },
        ),
    ],
)
def test_what_is_off_is_not_even_named(
    name: str, base: dict[str, int], off: frozenset[str], ours: set[str]
) -> None:
    settings = Settings(scrapy_settings(CrawlerConfig()))
    named = set(settings.getwithbase(name))
    assert off <= set(base), "a name that is not Scrapy's: a typo, or Scrapy renamed it"
    assert not named & off
    assert named == (set(base) - off) | ours
    loaded = build_component_list(settings.getwithbase(name))
    assert all(not isinstance(c, str) or c not in off for c in loaded)


def test_the_listeners_stay_off_by_their_own_settings_too() -> None:
    settings = scrapy_settings(CrawlerConfig())
    assert settings["TELNETCONSOLE_ENABLED"] is False
    assert settings["REMOTE_CONTROL_ENABLED"] is False
    assert settings["COOKIES_ENABLED"] is False
