"""The one place that turns vigie's [crawler] config into Scrapy settings."""

from __future__ import annotations

from typing import Any, Protocol

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


class CrawlSettings(Protocol):
    """What the crawler reads of the `[crawler]` config (vigie/config.py's CrawlerConfig,
    validated and bounded there): the crawler is handed it and never imports the shell."""

    @property
    def user_agent(self) -> str: ...
    @property
    def obey_robots(self) -> bool: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def per_host(self) -> int: ...
    @property
    def timeout(self) -> float: ...  # seconds
    @property
    def max_page_size(self) -> int: ...  # bytes
    @property
    def retries(self) -> int: ...
    @property
    def autothrottle(self) -> bool: ...
    @property
    def robots_ttl(self) -> float: ...  # seconds


# What vigie switches off is taken out of Scrapy's base lists, not set to None: Scrapy
# imports every class a component list names, None or not, to read its key (the remote
# control imports aiohttp, the cookies middleware tldextract: a good part of the start-up of
# `run --once`, for code that never runs).
OFF_EXTENSIONS = frozenset(
    {
        "scrapy.extensions.logstats.LogStats",
        "scrapy.extensions.memusage.MemoryUsage",
        "scrapy.extensions.throttle.AutoThrottle",  # crawler.middlewares.PollingAutoThrottle
        # Nothing listens: no telnet console, no remote-control HTTP server (Scrapy 2.19
        # starts one by default that runs the Python code it is sent, and writes its token
        # to a file).
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.remote_control.RemoteControl",
    }
)
OFF_MIDDLEWARES = frozenset(
    {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",  # ExpiringRobotsTxt
        # Every poll asks for the same URLs again: no cookies, no cache.
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
        "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
    }
)


def _without(base: dict[str, int], off: frozenset[str]) -> dict[str, int]:
    return {path: order for path, order in base.items() if path not in off}


def scrapy_settings(cfg: CrawlSettings) -> dict[str, Any]:
    from scrapy.settings import default_settings

    return {
        "TWISTED_REACTOR": REACTOR,
        "USER_AGENT": cfg.user_agent,
        "ROBOTSTXT_OBEY": cfg.obey_robots,
        "CONCURRENT_REQUESTS": cfg.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.per_host,
        # A callback yields at most one request (the next page), never items; Scrapy starts
        # this many tasks to handle every response's output (100 by default, a third of the
        # CPU of an unchanged poll).
        "CONCURRENT_ITEMS": 1,
        "DOWNLOAD_TIMEOUT": cfg.timeout,
        "DOWNLOAD_MAXSIZE": cfg.max_page_size,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": cfg.retries > 0,
        "RETRY_TIMES": cfg.retries,
        "REDIRECT_MAX_TIMES": 5,
        "AUTOTHROTTLE_ENABLED": cfg.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(cfg.per_host),
        "DOWNLOAD_DELAY": 0,
        # Every poll asks for the same URLs again: no duplicate filter, no cookies, no cache.
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        # The per-host limit held from the first request (see crawler/downloader.py).
        "DOWNLOADER": "crawler.downloader.PoliteDownloader",
        # Switched off here too, should a base list name them again (see OFF_EXTENSIONS).
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "STATS_DUMP": False,
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, OFF_EXTENSIONS),
        "EXTENSIONS": {
            "crawler.middlewares.PollingAutoThrottle": 0,  # a 304 may lower the delay too
        },
        "ROBOTSTXT_TTL": cfg.robots_ttl,
        "DOWNLOADER_MIDDLEWARES_BASE": _without(
            default_settings.DOWNLOADER_MIDDLEWARES_BASE, OFF_MIDDLEWARES
        ),
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.ExpiringRobotsTxtMiddleware": 100,
            "crawler.middlewares.RetryAfterMiddleware": 560,  # sees responses before Retry
        },
        # Only http and https are ever fetched: no handler reads a local file, a data: URL,
        # an S3 bucket or an FTP server, whatever link a page or a redirect holds.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/rss+xml,"
            "application/atom+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "fr,en;q=0.8,*;q=0.5",
        },
    }
