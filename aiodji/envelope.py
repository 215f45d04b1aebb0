"""Judging one reply: HTTP status + the ``{code, message, data}`` envelope → data or an error.

Pure functions over (status, headers, body); no I/O, unit-tested without a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from aiodji.errors import (
    APIStatusError,
    AuthenticationError,
    DJIError,
    NotAvailableError,
    RateLimitError,
    ResponseValidationError,
    business_code_meaning,
    business_error_class,
    status_error_class,
)
from aiodji.retry import Failure, parse_retry_after

__all__ = ["AttemptFailed", "judge_reply"]

WRONG_BASE_URL = "wrong base URL?"
# a key of one public cloud is refused by another region's gateway with 401
# (docs/explanation/api-notes.md#live)
WRONG_REGION = "a key from another region? each public gateway accepts only its own keys"
NOT_AVAILABLE = (
    "not available on this deployment: a documented path answered 404 with no API reply "
    "(stream converters, for one, exist on private clouds only)"
)


def _not_available(status: int, payload: Any, headers: Mapping[str, str], body: bytes) -> bool:
    """A 404 whose body is empty or not JSON (and not an HTML page of a wrong host)."""
    return status == 404 and payload is None and not (body and _looks_like_html(headers, body))


class AttemptFailed(Exception):
    """One attempt failed: the public error, how it failed, and whether a retry may help."""

    def __init__(self, error: DJIError, failure: Failure, *, retryable: bool = True) -> None:
        super().__init__(str(error))
        self.error = error
        self.failure = failure
        self.retryable = retryable


def _looks_like_html(headers: Mapping[str, str], body: bytes) -> bool:
    ctype = headers.get("Content-Type", "").lower()
    return "html" in ctype or body.lstrip()[:1] == b"<"


def _says_json(headers: Mapping[str, str]) -> bool:
    return "json" in headers.get("Content-Type", "").lower()


def _parse(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _status_error(
    status: int, headers: Mapping[str, str], body: bytes, *, public_gateway: bool = False
) -> APIStatusError:
    payload = _parse(body) if body else None
    if _not_available(status, payload, headers, body):
        return NotAvailableError(
            NOT_AVAILABLE,
            text=f"HTTP 404: {NOT_AVAILABLE}",
            status_code=status,
            body=body,
            headers=dict(headers),
        )
    code: int | None = None
    message = ""
    if isinstance(payload, dict):
        raw_code = payload.get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        raw_message = payload.get("message")
        message = raw_message if isinstance(raw_message, str) else ""
    text = f"HTTP {status}"
    if code:
        text += f", code {code}"
    if message:
        text += f": {message}"
    if 300 <= status < 400:
        text += " (redirect not followed: the token is only sent to the configured host; "
        text += WRONG_BASE_URL + ")"
    elif payload is None and body and _looks_like_html(headers, body):
        text += f" (an HTML page, not the FlightHub 2 API: {WRONG_BASE_URL})"
    cls = status_error_class(status)
    if public_gateway and (status == 401 or code == 200401):
        text += f" ({WRONG_REGION})"
    kw: dict[str, Any] = {}
    if issubclass(cls, RateLimitError):
        kw["retry_after"] = parse_retry_after(headers.get("Retry-After"))
    return cls(
        message or f"HTTP {status}",
        text=text,
        status_code=status,
        code=code,
        body=body,
        headers=dict(headers),
        **kw,
    )


def judge_reply(
    status: int, headers: Mapping[str, str], body: bytes, *, public_gateway: bool = False
) -> Any:
    """The envelope's ``data`` of a successful reply; otherwise raise :class:`AttemptFailed`.

    ``public_gateway``: the host is a public access point (adds the region hint to a 401)."""
    if status >= 300 or status < 200:
        error = _status_error(status, headers, body, public_gateway=public_gateway)
        retryable = not (300 <= status < 400) and not isinstance(error, NotAvailableError)
        raise AttemptFailed(error, Failure.STATUS, retryable=retryable)
    payload = _parse(body)
    raw_code = payload.get("code") if isinstance(payload, dict) else None
    if not isinstance(raw_code, int) or isinstance(raw_code, bool):  # bool is an int subclass
        if payload is None and _says_json(headers):
            # cut or garbled JSON: the reply was lost on the way, a retry may get it whole
            reason, failure, retryable = "the reply is not valid JSON", Failure.IO, True
        elif payload is None:
            what = "an HTML page" if _looks_like_html(headers, body) else "not JSON"
            reason = f"the reply is {what}, not the FlightHub 2 API ({WRONG_BASE_URL})"
            failure, retryable = Failure.STATUS, False
        else:
            reason = "the reply is JSON but not the {code, message, data} envelope"
            reason += f" ({WRONG_BASE_URL})"
            failure, retryable = Failure.STATUS, False
        raise AttemptFailed(
            ResponseValidationError(reason, body=body, status_code=status),
            failure,
            retryable=retryable,
        )
    code: int = payload["code"]
    if code == 0:
        return payload.get("data")
    raw_message = payload.get("message")
    message = raw_message if isinstance(raw_message, str) else ""
    meaning = business_code_meaning(code)
    text = f"code {code}: {message or meaning or 'business error'}"
    if meaning and message and not _says_the_same(meaning, message):
        text += f" ({meaning})"
    cls = business_error_class(code)
    if public_gateway and issubclass(cls, AuthenticationError):
        text += f" ({WRONG_REGION})"
    kw: dict[str, Any] = {}
    if issubclass(cls, RateLimitError):
        kw["retry_after"] = parse_retry_after(headers.get("Retry-After"))
    error = cls(
        message or meaning or f"code {code}",
        text=text,
        status_code=status,
        code=code,
        body=body,
        headers=dict(headers),
        **kw,
    )
    raise AttemptFailed(error, Failure.STATUS)


def _says_the_same(meaning: str, message: str) -> bool:
    a, b = meaning.lower(), message.lower()
    return a in b or b in a
