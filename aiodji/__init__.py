"""aiodji: the asyncio SDK and fleet tool for the DJI FlightHub 2 OpenAPI."""

import importlib
from typing import TYPE_CHECKING

from aiodji import models
from aiodji._logging import setup_from_env as _setup_logging
from aiodji._version import __version__
from aiodji.client import APIResponse, Client
from aiodji.config import ClientConfig, ConfigError, RateLimit, Timeouts
from aiodji.errors import (
    APIBusinessError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DJIError,
    InternalServerError,
    InvalidArgumentError,
    NotAvailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
)
from aiodji.hooks import Hooks
from aiodji.retry import RetryPolicy

_setup_logging()

if TYPE_CHECKING:
    from aiodji.scale.redis_limiter import RedisRateLimit


_SUBPACKAGES = frozenset({"bulk", "controller", "fleet", "models", "resources", "sim"})


def __getattr__(name: str) -> object:
    # aiodji[scale] names, imported only when used (import aiodji never imports redis)
    if name == "RedisRateLimit":
        from aiodji.scale.redis_limiter import RedisRateLimit

        return RedisRateLimit
    if name in _SUBPACKAGES:  # `import aiodji; aiodji.fleet` works without importing each
        return importlib.import_module(f"aiodji.{name}")
    raise AttributeError(f"module 'aiodji' has no attribute {name!r}")


__all__ = [
    "APIBusinessError",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientConfig",
    "ConfigError",
    "ConflictError",
    "DJIError",
    "Hooks",
    "InternalServerError",
    "InvalidArgumentError",
    "NotAvailableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RedisRateLimit",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "Timeouts",
    "__version__",
    "models",
]
