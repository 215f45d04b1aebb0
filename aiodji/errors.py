"""The aiodji error tree.

Every failure a user can see is a :class:`DJIError`. Each error carries the HTTP method,
the path, the ``X-Request-Id`` and the number of attempts, and never the token.

FlightHub 2 mostly answers HTTP 200 with ``code != 0``
(docs/explanation/api-notes.md#business-codes). Business codes
that mean what an HTTP status means (bad token, project out of scope, not found, rate limited)
raise a class that is *both* the status error (``AuthenticationError`` …) and
:class:`APIBusinessError`, so ``except aiodji.AuthenticationError`` catches a 401 and a
code 200401 alike.
"""

from __future__ import annotations

from typing import Any

from aiodji.codes import BUSINESS_CODE_MEANINGS, BUSINESS_CODE_STATUS

__all__ = [
    "APIBusinessError",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BusinessAuthenticationError",
    "BusinessInternalServerError",
    "BusinessNotFoundError",
    "BusinessPermissionDeniedError",
    "BusinessRateLimitError",
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

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only fields: the default (cls(*args)) cannot rebuild them
        return (_rebuild, (type(self), self.args, self.__dict__))

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
    docs/explanation/api-notes.md#live). Never retried."""


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


def _rebuild(cls: type[APIError], args: tuple[Any, ...], state: dict[str, Any]) -> APIError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


# Business codes that mean an HTTP status: both kinds, so ``except AuthenticationError``
# catches a 401 and a code 200401 alike, and ``except APIBusinessError`` every code.
class BusinessAuthenticationError(AuthenticationError, APIBusinessError):
    """Code 200401 (invalid or expired token)."""


class BusinessPermissionDeniedError(PermissionDeniedError, APIBusinessError):
    """Code 200403 (project out of scope for this token)."""


class BusinessNotFoundError(NotFoundError, APIBusinessError):
    """Code 200404."""


class BusinessRateLimitError(RateLimitError, APIBusinessError):
    """Code 210429."""


class BusinessInternalServerError(InternalServerError, APIBusinessError):
    """A transient upstream code (210318, 210500, 210504)."""


_BUSINESS_VARIANTS: dict[type[APIStatusError], type[APIStatusError]] = {
    AuthenticationError: BusinessAuthenticationError,
    PermissionDeniedError: BusinessPermissionDeniedError,
    NotFoundError: BusinessNotFoundError,
    RateLimitError: BusinessRateLimitError,
    InternalServerError: BusinessInternalServerError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The error class for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


def business_error_class(code: int) -> type[APIStatusError]:
    """The error class for a business code: APIBusinessError, or its variant of a status
    class when the code means what an HTTP status means."""
    status = BUSINESS_CODE_STATUS.get(code)
    if status is None:
        return APIBusinessError
    return _BUSINESS_VARIANTS.get(status_error_class(status), APIBusinessError)
