"""Argument checks shared by the Client and every resource: a wrong argument is a clear
InvalidArgumentError before any request is sent.

A low module: it imports only errors and models, never client or resources, so anything may
import it.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from aiodji.errors import InvalidArgumentError
from aiodji.models import OpenStrEnum

__all__ = ["check_paging", "enum_arg", "path_param", "require_bool", "require_int", "require_text"]

E = TypeVar("E", bound=OpenStrEnum)


def require_text(name: str, value: object) -> str:
    """A non-empty string argument, or a clear error before any request."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
    if "\r" in value or "\n" in value or "\0" in value:  # header injection (hot path: no genexpr)
        raise InvalidArgumentError(f"{name} must not contain control characters")
    return value


def require_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` only: ``1``, ``"yes"`` or None are mistakes, not switches."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value


def require_int(name: str, value: object, *, low: int = 1, high: int | None = None) -> int:
    """An int in ``low..high`` (``high`` None: no upper bound); a bool is not an int here."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        limits = f"{low}..{high}" if high is not None else f">= {low}"
        raise InvalidArgumentError(f"{name} must be an int {limits}, got {value!r}")
    if high is not None and value > high:
        raise InvalidArgumentError(f"{name} must be at most {high}, got {value}")
    return value


def enum_arg(name: str, value: object, cls: type[E]) -> E:
    """A documented value set argument: a string (unknown ones are kept and sent, the server
    decides), never another type."""
    return cls(require_text(name, value))


def path_param(name: str, value: object) -> str:
    """A path segment, percent-encoded so that ``/``, ``..``, ``?``, ``%`` stay inside it."""
    text = require_text(name, value)
    return quote(text, safe="").replace(".", "%2E")


def check_paging(page: int, page_size: int | None, *, maximum: int | None = None) -> None:
    """``page`` from 1 and ``page_size`` from 1 (to ``maximum``), or a clear error first."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidArgumentError(f"page starts at 1, got {page!r}")
    if page_size is not None:
        require_int("page_size", page_size, high=maximum)
