"""The configuration: config.toml parsed and validated once into typed objects.

Every value is checked and bounded (vigie/config_values.py parses durations, sizes,
percentages and database URLs): a config number is finite and within the range the key
allows (intervals of 1 s at least, durations of 30 days at most). A config with errors
raises one `ConfigError` listing every one of them, each with the file, the key and the
reason. `VIGIE_STORAGE_URL`, when set, replaces `[storage] url` (containers, secrets kept
out of the file).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from crawler.models import Selectors, SourceSpec
from vigie import alerts_config
from vigie.alerts_config import AlertConfig, AlertDeliveryConfig, HealthAlertsConfig
from vigie.cluster_config import ClusterConfig, MetricsConfig
from vigie.config_values import Duration, Percent, Retention, Size, database_url

DEFAULT_CONFIG = "config.toml"
STORAGE_URL_ENV = "VIGIE_STORAGE_URL"
MIN_TOKEN_LENGTH = 16

log = logging.getLogger("vigie.config")


class ConfigError(Exception):
    """A config that cannot be used: which file, which key, what is wrong; `problems` holds
    every (key, reason) found, `key` and `reason` the first of them. One line each."""

    def __init__(
        self,
        file: str | Path,
        key: str | None,
        reason: str,
        more: list[tuple[str | None, str]] | None = None,
    ) -> None:
        self.file, self.key, self.reason = str(file), key, reason
        self.problems = [(key, reason), *(more or [])]
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """`file: key: reason`, one per problem."""
        return [f"{self.file}: {k}: {r}" if k else f"{self.file}: {r}" for k, r in self.problems]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Strict):
    url: Annotated[str, AfterValidator(database_url)] = "sqlite:///vigie.db"
    # How long the record of each poll (`crawl_runs`) is kept: a poll a minute of 1,000
    # sources is 1.4 million rows a day. Posts and revisions are never pruned.
    keep_crawl_runs: Retention = 14 * 86400.0


class CrawlerConfig(_Strict):
    user_agent: str = "vigie/0.1 (+https://github.com/vigie-news/vigie)"
    timeout: Duration = 20.0
    max_page_size: Size = 8 * 1024 * 1024
    obey_robots: bool = True
    concurrency: int = Field(16, ge=1, le=1000)
    per_host: int = Field(1, ge=1, le=64)
    retries: int = Field(2, ge=0, le=10)
    autothrottle: bool = True
    max_pages: int = Field(20, ge=1, le=1000)
    robots_ttl: Duration = 86400.0


class SchedulerConfig(_Strict):
    default_interval: Duration = 120.0
    jitter: Percent = 0.1
    max_backoff: Duration = 3600.0
    full_every: int = Field(10, ge=1, le=10_000)


class ApiConfig(_Strict):
    """`vigie serve`: where it listens, and the bearer token it asks for when one is set."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    token: SecretStr | None = None

    @field_validator("host")
    @classmethod
    def _plain_host(cls, host: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.:_-]+", host):
            raise ValueError(f"not a host name or IP address: {host!r}")
        return host

    @field_validator("token")
    @classmethod
    def _long_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"token must be at least {MIN_TOKEN_LENGTH} characters "
                "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return token


class SelectorsConfig(_Strict):
    post: str
    headline: str | None = None
    published: str | None = None
    body: str | None = None
    id: str | None = None

    @field_validator("post", "headline", "published", "body", "id")
    @classmethod
    def _valid_expression(cls, expression: str | None) -> str | None:
        from crawler.extract.selectors import check_expression

        if expression is not None and (problem := check_expression(expression)):
            raise ValueError(problem)
        return expression


class SourceConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=64)
    url: str
    kind: Literal["liveblog", "feed", "auto"] = "auto"
    interval: Duration | None = None
    timezone: str | None = None  # None: taken from each page (crawler/extract/zones.py)
    language: str | None = None
    enabled: bool = True
    max_pages: int | None = Field(None, ge=1, le=1000)
    selectors: SelectorsConfig | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        return url

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, tz: str | None) -> str | None:
        if tz is None:
            return None
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {tz!r} (use an IANA name like Europe/Paris)"
            ) from None
        return tz


class Config(_Strict):
    storage: StorageConfig = StorageConfig()
    crawler: CrawlerConfig = CrawlerConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    api: ApiConfig = ApiConfig()
    cluster: ClusterConfig | None = None  # present: cluster mode (PostgreSQL only)
    metrics: MetricsConfig = MetricsConfig()
    sources: list[SourceConfig] = []
    alerts: list[AlertConfig] = Field([], max_length=1000)
    health_alerts: HealthAlertsConfig | None = None
    alert_delivery: AlertDeliveryConfig = AlertDeliveryConfig()
    path: Path | None = Field(None, exclude=True)
    _alert_setup: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for i, source in enumerate(self.sources):
            if source.name in seen:
                raise ValueError(f"sources[{i}].name: duplicate source name {source.name!r}")
            seen.add(source.name)
        problems = alerts_config.check_alerts(self.alerts, self.health_alerts, seen)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def alert_setup(self) -> alerts_config.AlertSetup | None:
        """What the scheduler is given of the alerts (built once per config)."""
        if self._alert_setup is None:
            zones = {s.name: s.timezone for s in self.sources if s.timezone}
            self._alert_setup = (
                alerts_config.alert_setup(
                    self.alerts, self.health_alerts, self.alert_delivery, zones
                )
                or False
            )
        return self._alert_setup or None

    def interval_of(self, source: SourceConfig) -> float:
        return source.interval or self.scheduler.default_interval

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled]

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def reloaded(self, path: Path | None = None) -> Config:
        """The config file (`path`, else this config's own) read again for the running
        daemon (SIGHUP): its [scheduler] and [[sources]], with this config's [storage] and
        [crawler], which need a restart (a warning says so when they changed). ConfigError
        when the file cannot be used."""
        new = load_config(path or self.path)
        if new.storage != self.storage or new.crawler != self.crawler:
            log.warning(
                "reload: [storage] and [crawler] changes need a restart; "
                "applying [scheduler] and [[sources]] only"
            )
        return new.model_copy(update={"storage": self.storage, "crawler": self.crawler})

    def spec(self, source: SourceConfig) -> SourceSpec:
        """The crawler's view of a source."""
        sel = source.selectors
        return SourceSpec(
            name=source.name,
            url=source.url,
            kind=source.kind,
            timezone=source.timezone,
            language=source.language,
            selectors=Selectors(**sel.model_dump()) if sel else None,
            max_pages=source.max_pages or self.crawler.max_pages,
        )


def config_path(explicit: str | Path | None = None) -> Path:
    """--config, else $VIGIE_CONFIG, else ./config.toml."""
    return Path(explicit or os.environ.get("VIGIE_CONFIG") or DEFAULT_CONFIG)


def _key_of(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _resolve_storage_url(url: str, base: Path) -> str:
    """Relative SQLite paths are relative to the config file's folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith("sqlite:////") or ":memory:" in url:
        return url
    path, _, query = url[len(prefix) :].partition("?")
    resolved = (base / path).resolve()
    return prefix + str(resolved) + (f"?{query}" if query else "")


def _problem(err: Any) -> tuple[str | None, str]:
    """(key, reason) of one pydantic error, in the words of a config file."""
    key = _key_of(err["loc"])
    reason = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        reason = "unknown key"
    elif err["type"] == "missing":
        reason = "required key is missing"
    return key or None, reason


def _duplicates(raw: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Every source name given twice, read from the file as it is (so that it is reported
    with the other errors, not only once they are fixed)."""
    sources = raw.get("sources")
    if not isinstance(sources, list):
        return []
    seen: set[str] = set()
    found = []
    for i, source in enumerate(sources):
        name = source.get("name") if isinstance(source, dict) else None
        if isinstance(name, str):
            if name in seen:
                found.append((f"sources[{i}].name", f"duplicate source name {name!r}"))
            seen.add(name)
    return found


def _storage_from_env(problems: list[tuple[str | None, str]]) -> StorageConfig | None:
    """$VIGIE_STORAGE_URL as the storage config (relative SQLite paths from the current
    folder), when set; a bad one joins the problems."""
    url = os.environ.get(STORAGE_URL_ENV)
    if not url:
        return None
    try:
        return StorageConfig(url=_resolve_storage_url(database_url(url), Path.cwd()))
    except ValueError as exc:
        problems.append((f"{STORAGE_URL_ENV} (environment)", str(exc)))
        return None


def _url_of(raw: dict[str, Any], config: Config | None, env: StorageConfig | None) -> str:
    """The storage URL in use, as far as it is known (a file with errors: as written)."""
    if env is not None:
        return env.url
    if config is not None:
        return config.storage.url
    written = raw.get("storage", {}).get("url") if isinstance(raw.get("storage"), dict) else None
    return written if isinstance(written, str) else StorageConfig().url


def load_config(path: str | Path | None = None, *, channels: bool = True) -> Config:
    """Read and validate a config file; raise ConfigError listing everything wrong.

    `channels=False` (the commands that only read the store) leaves the apprise URLs
    unchecked: checking them loads apprise and its plugins, most of such a command's time.
    """
    file = config_path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            file, None, "file not found (use --config FILE or VIGIE_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, None, f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, None, f"invalid TOML: {exc}") from None
    problems = _duplicates(raw)
    config: Config | None = None
    try:
        config = Config.model_validate(raw, context={alerts_config.CHECK_CHANNELS: channels})
    except ValidationError as exc:
        for err in exc.errors():
            problem = _problem(err)
            if ": duplicate source name" in problem[1]:
                continue  # the model's own check; `_duplicates` found it already
            if problem not in problems:
                problems.append(problem)
        problems.sort(key=lambda p: _order_of_key(raw, p[0]))
    storage = _storage_from_env(problems)
    if "cluster" in raw and not _url_of(raw, config, storage).startswith("postgres"):
        problems.append(
            ("cluster", "cluster mode needs PostgreSQL: [storage] url postgresql://...")
        )
    if problems or config is None:
        (key, reason), *more = problems
        raise ConfigError(file, key, reason, more)
    base = file.resolve().parent
    if storage is None:
        storage = config.storage.model_copy(
            update={"url": _resolve_storage_url(config.storage.url, base)}
        )
    else:  # the environment names the database; the file's other [storage] keys stay
        storage = config.storage.model_copy(update={"url": storage.url})
    return config.model_copy(update={"storage": storage, "path": file})


def _order_of_key(raw: dict[str, Any], key: str | None) -> tuple[int, ...]:
    """Where a key comes in the file (each part's position in its table or array): errors
    are listed in the order of the file."""
    if key is None:
        return (-1,)
    position: list[int] = []
    node: Any = raw
    for part in re.findall(r"[^.\[\]]+", key):
        if isinstance(node, list) and part.isdigit():
            position.append(int(part))
            node = node[int(part)] if int(part) < len(node) else None
        elif isinstance(node, dict):
            names = list(node)
            position.append(names.index(part) if part in names else len(names))
            node = node.get(part)
        else:
            break
    return tuple(position)
