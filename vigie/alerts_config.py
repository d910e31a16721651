"""The alerts part of the configuration: `[[alerts]]` watches, `[health_alerts]` and
`[alert_delivery]`, validated at load like the rest (file, key, reason), and turned into
what the scheduler is given (scheduler/alerts/setup.py).

Channel URLs and secrets may name environment variables ("${NTFY_URL}"), expanded at
load; an unset one is a config error. They are held as secrets: never printed, never in
an error message (apprise URLs are shown with apprise's own masking, webhooks as scheme
and host). Apprise URLs are checked at load by apprise itself.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from scheduler.alerts.setup import AlertSetup, Channel, Delivery
from vigie.config_values import Duration

MAX_CHANNELS = 20
MAX_QUERY_CHARS = 2000
HEALTH = "health"  # the watch name of [health_alerts]
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: Any) -> Any:
    """ "${NAME}" replaced by the environment variable NAME (an unset one is an error)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value

    def lookup(m: re.Match[str]) -> str:
        found = os.environ.get(m.group(1))
        if found is None:
            raise ValueError(f"environment variable {m.group(1)} is not set")
        return found

    return _ENV.sub(lookup, value)


def _scheme(url: str) -> str:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    return scheme if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", scheme) else "?"


# The validation context's key that skips the apprise check (load_config(channels=False)).
CHECK_CHANNELS = "check_channels"


def _apprise_url(url: SecretStr, info: ValidationInfo) -> SecretStr:
    value = url.get_secret_value().strip()
    if not (info.context or {}).get(CHECK_CHANNELS, True):
        return SecretStr(value)  # a command that sends nothing: apprise is not loaded
    import apprise

    if apprise.Apprise.instantiate(value) is None:
        raise ValueError(
            f"apprise cannot use this {_scheme(value)}:// URL (the URL is not shown: it may "
            "hold a secret; see https://github.com/caronc/apprise/wiki for each service)"
        )
    return SecretStr(value)


def _webhook_url(url: SecretStr) -> SecretStr:
    value = url.get_secret_value().strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a webhook is an http(s) URL, not {_scheme(value)}://")
    return SecretStr(value)


def _non_empty(secret: SecretStr) -> SecretStr:
    if not secret.get_secret_value():
        raise ValueError("the secret is empty")
    return secret


Expanded = BeforeValidator(expand_env)
NotifyUrl = Annotated[SecretStr, Expanded, AfterValidator(_apprise_url)]
WebhookUrl = Annotated[SecretStr, Expanded, AfterValidator(_webhook_url)]
Secret = Annotated[SecretStr, Expanded, AfterValidator(_non_empty)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Channels(_Strict):
    notify: list[NotifyUrl] = Field([], max_length=MAX_CHANNELS)
    webhook: WebhookUrl | None = None
    secret: Secret | None = None

    @model_validator(mode="after")
    def _some_channel(self) -> _Channels:
        if self.secret is not None and self.webhook is None:
            raise ValueError("secret signs the webhook: give webhook too")
        if not self.notify and self.webhook is None:
            raise ValueError("no channel: give notify (apprise URLs) or webhook")
        return self

    def channels(self) -> tuple[Channel, ...]:
        from scheduler.alerts.channels import mask_apprise, mask_url

        found = [
            Channel("apprise", u.get_secret_value(), mask_apprise(u.get_secret_value()))
            for u in self.notify
        ]
        if self.webhook is not None:
            url = self.webhook.get_secret_value()
            secret = self.secret.get_secret_value() if self.secret else None
            found.append(Channel("webhook", url, mask_url(url), secret))
        return tuple({c.id: c for c in found}.values())


def _query(text: str | None) -> str | None:
    from storage.alert_match import Query

    if text is None:
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f"query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})")
    if Query.parse(text).empty:
        raise ValueError("the query has no word to look for (leave it out to match every update)")
    return text


class AlertConfig(_Channels):
    """One `[[alerts]]` watch."""

    name: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=64)
    query: Annotated[str | None, AfterValidator(_query)] = None
    sources: list[str] | None = Field(None, min_length=1)
    highlighted: bool = False
    on: list[Literal["new", "edited"]] = Field(["new", "edited"], min_length=1)
    digest: Duration | None = None
    burst: int = Field(5, ge=1, le=10_000)
    first_crawl: Literal["digest", "each", "none"] = "digest"

    @model_validator(mode="after")
    def _not_health(self) -> AlertConfig:
        if self.name == HEALTH:
            raise ValueError(f"the name {HEALTH!r} is the [health_alerts] watch's")
        return self


class HealthAlertsConfig(_Channels):
    """`[health_alerts]`."""

    after_failures: int = Field(3, ge=1, le=1000)
    sources: list[str] | None = Field(None, min_length=1)


class AlertDeliveryConfig(_Strict):
    """`[alert_delivery]`: how every watch's messages are delivered."""

    timeout: Duration = 10.0  # per attempt
    retry_min: Duration = 5.0
    retry_max: Duration = 600.0
    give_up_after: Duration = 86400.0
    link_base: str | None = None  # where `vigie serve` is reached: links to /updates/ID

    @model_validator(mode="after")
    def _ordered(self) -> AlertDeliveryConfig:
        if self.retry_max < self.retry_min:
            raise ValueError("retry_max is shorter than retry_min")
        if self.link_base is not None:
            parts = urlsplit(self.link_base)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("link_base is an http(s) URL")
        return self


def alert_setup(
    alerts: list[AlertConfig],
    health: HealthAlertsConfig | None,
    delivery: AlertDeliveryConfig,
    zones: dict[str, str],
) -> AlertSetup | None:
    """What the scheduler is given of a config's alerts; None when it has none."""
    from storage.alert_match import HealthWatch, Query, Watch, Watches

    if not alerts and health is None:
        return None
    watches = Watches(
        tuple(
            Watch(
                name=a.name,
                query=Query.parse(a.query) if a.query else None,
                sources=frozenset(a.sources) if a.sources else None,
                highlighted=a.highlighted,
                on=frozenset(a.on),
                digest=a.digest,
                burst=a.burst,
                first_crawl=a.first_crawl,
            )
            for a in alerts
        ),
        HealthWatch(
            health.after_failures, frozenset(health.sources) if health.sources else None, HEALTH
        )
        if health
        else None,
    )
    channels = {a.name: a.channels() for a in alerts}
    if health is not None:
        channels[HEALTH] = health.channels()
    return AlertSetup(
        watches=watches,
        channels=channels,
        delivery=Delivery(
            timeout=delivery.timeout,
            retry_min=delivery.retry_min,
            retry_max=delivery.retry_max,
            give_up_after=delivery.give_up_after,
        ),
        zones=zones,
        link_base=delivery.link_base,
    )


def check_alerts(
    alerts: list[AlertConfig], health: HealthAlertsConfig | None, sources: set[str]
) -> list[str]:
    """Problems across entries: names given twice, sources no [[sources]] entry has."""
    problems = []
    seen: set[str] = set()
    for i, a in enumerate(alerts):
        if a.name in seen:
            problems.append(f"alerts[{i}].name: duplicate alert name {a.name!r}")
        seen.add(a.name)
        for name in a.sources or ():
            if name not in sources:
                problems.append(f"alerts[{i}].sources: no source is named {name!r}")
    for name in (health.sources if health else None) or ():
        if name not in sources:
            problems.append(f"health_alerts.sources: no source is named {name!r}")
    return problems
