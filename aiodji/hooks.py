"""Request / response / retry / rate-limit events: the one way calls are observed.

``Client(hooks=Hooks(on_response=[record]))``: each callback gets a small frozen event with the
method, the route TEMPLATE (``/openapi/v0.1/live-stream/converter/{converter_id}``, never the
filled-in path), status, business code, attempt, request id and elapsed seconds. No token, no
header, no body, no query: nothing secret reaches a hook. Callbacks are plain functions called
inline (keep them cheap); one that raises is logged and ignored, never breaks the call.
The metrics of :mod:`aiodji.controller.metrics` are built on these hooks.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from aiodji.config import API_PREFIX

__all__ = [
    "Hooks",
    "RateLimitedEvent",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "route_template",
]

log = logging.getLogger("aiodji")

E = TypeVar("E")


@attrs.frozen
class RequestEvent:
    """An attempt admitted by the limiter, about to go on the wire."""

    method: str
    route: str
    attempt: int
    request_id: str
    queue_wait: float  # seconds this attempt waited in the Client's limiter


@attrs.frozen
class ResponseEvent:
    """A call finished: ``status``/``code`` of its last attempt (``code`` 0 = success; None
    when no envelope was read), ``error`` the aiodji error's class name when it failed."""

    method: str
    route: str
    status: int | None
    code: int | None
    attempt: int
    request_id: str
    elapsed: float
    error: str | None = None


@attrs.frozen
class RetryEvent:
    """An attempt failed and the call goes again after ``delay`` seconds."""

    method: str
    route: str
    status: int | None
    code: int | None
    attempt: int
    request_id: str
    elapsed: float
    delay: float
    error: str


@attrs.frozen
class RateLimitedEvent:
    """The server answered 429 (``retry_after``: its hint, if any)."""

    method: str
    route: str
    attempt: int
    request_id: str
    elapsed: float
    retry_after: float | None


def _callbacks(
    value: Callable[[Any], object] | Iterable[Callable[[Any], object]] | None,
) -> tuple[Callable[[Any], object], ...]:
    if value is None:
        return ()
    if callable(value):
        return (value,)
    return tuple(value)


@attrs.frozen
class Hooks:
    """Callbacks per event; each field takes one callable or a sequence of them."""

    on_request: tuple[Callable[[RequestEvent], object], ...] = attrs.field(
        default=(), converter=_callbacks
    )
    on_response: tuple[Callable[[ResponseEvent], object], ...] = attrs.field(
        default=(), converter=_callbacks
    )
    on_retry: tuple[Callable[[RetryEvent], object], ...] = attrs.field(
        default=(), converter=_callbacks
    )
    on_rate_limited: tuple[Callable[[RateLimitedEvent], object], ...] = attrs.field(
        default=(), converter=_callbacks
    )

    @classmethod
    def combine(cls, hooks: Iterable[Hooks]) -> Hooks:
        """One Hooks calling every callback of ``hooks`` in order."""
        all_hooks = list(hooks)
        return cls(
            on_request=[f for h in all_hooks for f in h.on_request],
            on_response=[f for h in all_hooks for f in h.on_response],
            on_retry=[f for h in all_hooks for f in h.on_retry],
            on_rate_limited=[f for h in all_hooks for f in h.on_rate_limited],
        )

    @property
    def empty(self) -> bool:
        return not (self.on_request or self.on_response or self.on_retry or self.on_rate_limited)


def hooks_from(value: Hooks | Sequence[Hooks] | None) -> Hooks | None:
    """``Client(hooks=)``: one Hooks, several, or None; None when nothing would be called, so
    the transport's fast path (``if hooks is not None``) costs nothing without hooks."""
    if value is None:
        return None
    hooks = value if isinstance(value, Hooks) else Hooks.combine(value)
    return None if hooks.empty else hooks


def emit(callbacks: Sequence[Callable[[E], object]], event: E) -> None:
    """Call each callback; a failing one is logged (its type only) and skipped."""
    for callback in callbacks:
        try:
            callback(event)
        except Exception as exc:  # a user's observer must never break an API call
            log.warning("aiodji hook %r failed: %s", callback, type(exc).__name__)


# The templated paths of the OpenAPI description (fh2-openapi.yaml): a filled-in path is
# reported as its template so labels stay few and ids / serial numbers never become labels.
_TEMPLATES = (
    "/device/{device_sn}/state",
    "/device/{device_sn}/command",
    "/device/{device_sn}/rtk",
    "/live-stream/converter/{converter_id}",
    "/flight-task/{task_uuid}",
    "/flight-task/{task_uuid}/status",
    "/flight-task/{task_uuid}/media",
    "/flight-task/{task_uuid}/track",
    "/wayline/{wayline_id}",
    "/model/{model_id}",
    "/open_model/resource/{resource_uuid}",
    "/open_model/models/{model_uuid}/reconstruction/stop",
    "/open_model/models/{model_uuid}",
)
_FIXED_SEGMENT = re.compile(r"[a-z_-]+")


@functools.lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for template in _TEMPLATES:
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
        out.append((re.compile(pattern + "$"), API_PREFIX + template))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _template_of(path: str) -> str:
    rest = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    for pattern, template in _compiled():
        if pattern.match(rest):
            return template
    segments = [s for s in rest.split("/") if s]
    if all(_FIXED_SEGMENT.fullmatch(s) for s in segments):
        return API_PREFIX + rest  # a fixed route: no parameter in it
    return API_PREFIX + "/{other}"  # unknown and parameterised: never echo its values


def route_template(path: str) -> str:
    """``.../live-stream/converter/c-123`` → ``.../live-stream/converter/{converter_id}``."""
    return _template_of(path.split("?", 1)[0])
