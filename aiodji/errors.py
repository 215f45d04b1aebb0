"""The aiodji error tree.

Every failure a user can see is a :class:`DJIError`. Each error carries the HTTP method,
the path, the ``X-Request-Id`` and the number of attempts, and never the token.

FlightHub 2 mostly answers HTTP 200 with ``code != 0`` (API.md decision 2). Business codes
that mean what an HTTP status means (bad token, project out of scope, not found, rate limited)
raise a class that is *both* the status error (``AuthenticationError`` …) and
:class:`APIBusinessError`, so ``except aiodji.AuthenticationError`` catches a 401 and a
code 200401 alike.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "APIBusinessError",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DJIError",
    "InternalServerError",
    "InvalidArgumentError",
    "NotAvailableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "business_code_meaning",
]

# Business codes with a documented meaning (API.md decision 2 and §6.2.0).
BUSINESS_CODE_MEANINGS: dict[int, str] = {
    200401: "invalid or expired token",
    200403: "project out of scope for this token",
    200404: "not found",
    200500: "internal error (often a bad parameter or a missing X-Project-Uuid)",
    210318: "transient upstream error",
    210429: "rate limited",
    210500: "transient upstream error",
    210504: "upstream timeout",
    228306: "configuring stream forwarding failed",
    228307: "configuring telemetry reporting failed",
    228308: "regenerating organization key failed",
    228309: "reading cloud-interconnect (Sync) config failed",
    233314: "saving converter failed",
    233315: "deleting converter failed",
    233316: "reading converter list failed",
    233317: "converter count over limit (the organization's converter quota, 20 documented)",
    213001: "livestream error: device info lookup or network topology abnormal",
    213014: "this camera cannot stream; check sn and camera parameters",
    213024: "creating converter failed",
    213025: "converter already exists (duplicate name)",
    213026: "deleting converter failed",
    213027: "querying converter list failed",
    213028: "editing converter failed, or the push URL duplicates an existing converter's",
    213029: "converter not found",
    213050: "bypass streaming not enabled",
    213051: "bypass streaming is closed",
    213052: "pulling stream failed",
    213053: "pushing stream failed",
    213054: "duplicate push URL",
    213055: "duplicate transcoding channel name",
    212056: "converter does not exist (deleted, or wrong id)",
    212057: "creating pull proxy failed",
    212058: "pull timed out",
    212060: "creating push proxy failed",
    212061: "push target server refused the connection",
    212062: "push timed out",
}

# Business codes handled like an HTTP status (same retry decision, same exception class).
BUSINESS_CODE_STATUS: dict[int, int] = {
    200401: 401,
    200403: 403,
    200404: 404,
    210429: 429,
    210318: 503,
    210500: 503,
    210504: 504,
}


def business_code_meaning(code: int) -> str | None:
    """The documented meaning of a FlightHub 2 business code, or None when unknown."""
    return BUSINESS_CODE_MEANINGS.get(code)


class DJIError(Exception):
    """Base of every aiodji error."""


class InvalidArgumentError(DJIError, ValueError):
    """An argument is unusable; raised before any request is sent."""


class APIError(DJIError):
    """An error tied to one API call: method, path, request id, attempts.

    ``message`` is the server's own message when it sent one (the envelope's ``message``);
    ``str(error)`` is the full explanation (status, code, meaning, where).
    """

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.text = text or message
        self.method = method
        self.path = path
        self.request_id = request_id
        self.attempts = attempts

    def __str__(self) -> str:
        if not (self.method or self.path):
            return self.text
        rid = f", request_id={self.request_id}" if self.request_id else ""
        return f"{self.text} ({self.method} {self.path}{rid}, attempts={self.attempts})"


class APIConnectionError(APIError):
    """The request could not be sent or its reply could not be read (DNS, connect, reset, TLS)."""


class APITimeoutError(APIConnectionError):
    """Connecting or reading took longer than the configured timeout."""


class ResponseTooLargeError(APIError):
    """The reply body is larger than the configured ``max_response_bytes``."""


class APIStatusError(APIError):
    """The server answered with an error (an HTTP error status or an error business code)."""

    default_status: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.status_code = status_code
        self.code = code
        self.body = body
        self.headers = headers or {}


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401 or code 200401: the token is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403 or code 200403: the token's user may not act on this project."""


class NotFoundError(APIStatusError):
    """HTTP 404 or code 200404."""


class NotAvailableError(NotFoundError):
    """HTTP 404 with an empty or non-JSON body on a documented path: this deployment lacks the
    feature (e.g. stream converters on a public gateway: forwarding is private-cloud only,
    API.md §13). Never retried."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class RateLimitError(APIStatusError):
    """HTTP 429 or code 210429. ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """HTTP 5xx, or a transient upstream business code (210318, 210500, 210504)."""


class APIBusinessError(APIStatusError):
    """HTTP 200 but the envelope's ``code != 0``. ``meaning`` is the documented meaning."""

    @property
    def meaning(self) -> str | None:
        return business_code_meaning(self.code) if self.code is not None else None


class ResponseValidationError(APIError):
    """The reply does not fit the expected shape. ``body`` keeps the raw reply."""

    def __init__(self, message: str, *, body: bytes = b"", status_code: int = 200, **kw: Any):
        super().__init__(message, **kw)
        self.body = body
        self.status_code = status_code


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

_BUSINESS_VARIANTS: dict[type[APIStatusError], type[APIStatusError]] = {}


def status_error_class(status: int) -> type[APIStatusError]:
    """The error class for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


def business_error_class(code: int) -> type[APIStatusError]:
    """The error class for a business code: APIBusinessError, mixed with a status class
    when the code means what an HTTP status means."""
    status = BUSINESS_CODE_STATUS.get(code)
    if status is None:
        return APIBusinessError
    base = status_error_class(status)
    variant = _BUSINESS_VARIANTS.get(base)
    if variant is None:
        variant = type(base.__name__, (base, APIBusinessError), {"__module__": __name__})
        _BUSINESS_VARIANTS[base] = variant
    return variant
