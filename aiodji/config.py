"""Client configuration: a frozen, validated snapshot of kwargs and ``AIODJI_*`` env vars."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import os
import ssl as ssl_module
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

import attrs
import orjson
from attrs import field, frozen

from aiodji.errors import DJIError
from aiodji.retry import RetryPolicy

if TYPE_CHECKING:
    from aiodji.limiter import Limiter

__all__ = [
    "REGION_BASE_URLS",
    "ClientConfig",
    "ConfigError",
    "RateLimit",
    "Timeouts",
    "access_point",
    "token_claims",
]

# docs/explanation/api-notes.md#access-points: cn and us are documented; eu is seen in third-party
# code only.
REGION_BASE_URLS: dict[str, str] = {
    "cn": "https://es-flight-api-cn.djigate.com",
    "us": "https://es-flight-api-us.djigate.com",
    "eu": "https://es-flight-api-eu.djigate.com",
}
API_PREFIX = "/openapi/v0.1"

Language = Literal["zh", "en"]


class ConfigError(DJIError, ValueError):
    """The Client's configuration is unusable (missing token, bad URL, bad option)."""


@frozen
class Timeouts:
    """Per-attempt timeouts in seconds. ``connect`` bounds opening a new connection (TCP + TLS);
    ``read`` the wait for the reply: an attempt ends within ``connect + read`` (or ``total`` when
    set). Time queued in aiodji's limiter never counts (docs/explanation/design.md#one-pool)."""

    connect: float = 10.0
    read: float = 30.0
    total: float | None = None


@frozen
class RateLimit:
    """The Client-wide request gate.

    ``rate``: requests per second, or None for adaptive (FlightHub 2 publishes no limit: the Client
    starts unthrottled and settles just under the rate at which the server answers 429).
    ``burst``: requests allowed at once above the steady rate (default: 20 ms worth of
    ``rate``, at least 1).
    """

    rate: float | None = None
    burst: int | None = None
    adaptive: bool = True


class LimiterSource(Protocol):
    """A ``rate_limit=`` that builds its own Limiter (e.g. ``aiodji.RedisRateLimit``)."""

    @property
    def rate(self) -> float | None: ...

    def build_limiter(self, max_concurrency: int, token: str) -> Limiter: ...


def token_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT-shaped organization key, read without verifying anything: only to
    say whose key it is and until when, or to key a shared budget. None when not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    return claims if isinstance(claims, dict) else None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def timeouts_from(value: object, *, default: Timeouts) -> Timeouts:
    """``timeout=``: a Timeouts, or a number of seconds bounding each attempt as a whole."""
    if value is None:
        return default
    if isinstance(value, Timeouts):
        return value
    if not _is_number(value) or not value > 0:  # type: ignore[operator]
        raise ConfigError(
            f"timeout must be a positive number of seconds or Timeouts, got {value!r}"
        )
    seconds = float(value)  # type: ignore[arg-type]
    return Timeouts(connect=min(seconds, default.connect), read=seconds, total=seconds)


def retries_from(max_retries: object, retry: RetryPolicy) -> RetryPolicy:
    """``max_retries=``: a whole number ≥ 0 applied to ``retry``."""
    if not isinstance(retry, RetryPolicy):
        raise ConfigError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if max_retries is None:
        return retry
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ConfigError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
    return attrs.evolve(retry, max_retries=max_retries)


def check_call_settings(timeouts: Timeouts, retry: RetryPolicy) -> None:
    """The per-call settings a Client and each ``with_options`` view must agree on."""
    for name in ("connect", "read", "total"):
        value = getattr(timeouts, name)
        if value is None and name == "total":
            continue
        if not _is_number(value) or not 0 < value < math.inf:
            raise ConfigError(
                f"timeouts.{name} must be a positive number of seconds, got {value!r}"
            )
    count = retry.max_retries
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ConfigError(f"max_retries must be a whole number >= 0, got {count!r}")
    for name in (
        "backoff_base",
        "backoff_max",
        "retry_after_max",
        "budget_ratio",
        "budget_reserve",
    ):
        value = getattr(retry, name)
        if not _is_number(value) or not 0 <= value < math.inf:
            raise ConfigError(f"retry.{name} must be a number >= 0, got {value!r}")


def language_from(value: object) -> Language | None:
    if value is not None and value not in ("zh", "en"):
        raise ConfigError(f"language must be 'zh' or 'en', got {value!r}")
    return value


def _optional_text(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"{name} must be a string, got {type(value).__name__}")


def _mask_token(token: str) -> str:
    return "'***'" if token else "''"


def is_loopback_host(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """Validate an access point (scheme + host [+ port]) and return it without a trailing slash."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"base_url must look like https://host[:port], got {base_url!r}")
    if parts.path.rstrip("/"):
        raise ConfigError(
            f"base_url is the access point only (scheme + host), without a path such as "
            f"{parts.path!r}: aiodji appends {API_PREFIX}/... itself"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("base_url must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"refusing plain http to {parts.hostname}: the token would travel unencrypted. "
            "Use https, or pass allow_insecure_http=True if you really mean it"
        )
    return f"{parts.scheme}://{parts.netloc}"


@frozen
class ClientConfig:
    """Everything a Client needs, validated once. The token never shows in ``repr``."""

    token: str = field(repr=_mask_token)
    base_url: str
    project_uuid: str | None = None
    language: Language | None = None
    timeouts: Timeouts = field(factory=Timeouts)
    retry: RetryPolicy = field(factory=RetryPolicy)
    rate_limit: RateLimit | LimiterSource = field(factory=RateLimit)
    max_connections: int = 64
    allow_insecure_http: bool = False
    max_response_bytes: int = 32 * 1024 * 1024
    ssl: ssl_module.SSLContext | bool = True

    @classmethod
    def build(
        cls,
        *,
        token: str | None = None,
        region: str | None = None,
        base_url: str | None = None,
        project_uuid: str | None = None,
        language: str | None = None,
        timeouts: Timeouts | float | None = None,
        retry: RetryPolicy | None = None,
        max_retries: int | None = None,
        rate_limit: RateLimit | LimiterSource | float | None = None,
        max_connections: int | None = None,
        allow_insecure_http: bool = False,
        max_response_bytes: int | None = None,
        ssl: ssl_module.SSLContext | bool | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Build from keyword arguments, falling back to ``AIODJI_*`` environment variables."""
        env = os.environ if env is None else env
        for name, value in (
            ("token", token),
            ("region", region),
            ("base_url", base_url),
            ("project_uuid", project_uuid),
            ("language", language),
        ):
            _optional_text(name, value)
        token = token if token is not None else env.get("AIODJI_TOKEN")
        if not token or not token.strip():
            raise ConfigError(
                "no token: pass token=... or set AIODJI_TOKEN (the FlightHub 2 organization key)"
            )
        if any(c in token for c in "\r\n\0"):
            raise ConfigError("the token contains control characters")
        base_url = access_point(base_url, region, env)
        language = language_from(language or env.get("AIODJI_LANGUAGE") or None)
        if _is_number(rate_limit):
            rate_limit = RateLimit(rate=float(rate_limit))  # type: ignore[arg-type]
        elif rate_limit is not None and not (
            isinstance(rate_limit, RateLimit) or hasattr(rate_limit, "build_limiter")
        ):
            raise ConfigError(f"rate_limit must be requests/s or RateLimit, got {rate_limit!r}")
        retry = retries_from(max_retries, retry or RetryPolicy())
        for name, count in (
            ("max_connections", max_connections),
            ("max_response_bytes", max_response_bytes),
        ):
            if count is not None and (
                not isinstance(count, int) or isinstance(count, bool) or count < 1
            ):
                raise ConfigError(f"{name} must be a whole number >= 1, got {count!r}")
        config = cls(
            token=token.strip(),
            base_url=normalize_base_url(base_url, allow_insecure_http=allow_insecure_http),
            project_uuid=project_uuid or env.get("AIODJI_PROJECT_UUID") or None,
            language=language,
            timeouts=timeouts_from(timeouts, default=Timeouts()),
            retry=retry,
            rate_limit=rate_limit or RateLimit(),  # type: ignore[arg-type]  # a number became RateLimit
            max_connections=max_connections or 64,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_bytes or 32 * 1024 * 1024,
            ssl=_ssl_setting(ssl),
        )
        config.validate()
        return config

    def validate(self) -> None:
        if self.project_uuid is not None and any(c in self.project_uuid for c in "\r\n\0"):
            raise ConfigError("project_uuid must not contain control characters")
        check_call_settings(self.timeouts, self.retry)
        if self.rate_limit.rate is not None and self.rate_limit.rate <= 0:
            raise ConfigError("rate_limit must be a positive number of requests per second")
        host = urlsplit(self.base_url).hostname or ""
        if self.ssl is False and not (self.allow_insecure_http or is_loopback_host(host)):
            raise ConfigError(
                "ssl=False turns TLS verification off: pass a CA bundle path or an SSLContext "
                "instead, or allow_insecure_http=True if you really mean it"
            )


def access_point(base_url: str | None, region: str | None, env: Mapping[str, str]) -> str:
    """The base URL: explicit arguments win over the environment (base_url over region at each
    level), and no choice at all is an error: a token is never sent to a guessed gateway."""
    for url, reg in ((base_url, region), (env.get("AIODJI_BASE_URL"), env.get("AIODJI_REGION"))):
        if url:
            return url
        if reg:
            key = reg.lower()
            if key not in REGION_BASE_URLS:
                raise ConfigError(
                    f"unknown region {reg!r}: use one of {sorted(REGION_BASE_URLS)} or base_url=..."
                )
            return REGION_BASE_URLS[key]
    raise ConfigError(
        "no access point: pass base_url=... or region=... (one of "
        f"{', '.join(sorted(REGION_BASE_URLS))}), or set AIODJI_BASE_URL / AIODJI_REGION"
    )


def _ssl_setting(value: ssl_module.SSLContext | bool | str | None) -> ssl_module.SSLContext | bool:
    """True (verify with the system CAs), an SSLContext, or a CA bundle path."""
    if value is None or value is True:
        return True
    if isinstance(value, str):
        try:
            return ssl_module.create_default_context(cafile=value)
        except (OSError, ssl_module.SSLError) as exc:
            raise ConfigError(f"cannot load the CA bundle {value!r}: {exc}") from None
    return value
