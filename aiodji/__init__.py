"""aiodji: the asyncio SDK and fleet tool for the DJI FlightHub 2 OpenAPI."""

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
from aiodji.retry import RetryPolicy

_setup_logging()

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
    "InternalServerError",
    "InvalidArgumentError",
    "NotAvailableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "Timeouts",
    "__version__",
    "models",
]
