"""The envelope kit of the simulator's route handlers: reply envelopes, body and query
parsing, paging, project scoping and the business error a handler raises.

It imports nothing of the simulator, so ``aiodji.sim.routes`` depends on it and on the state
modules only; ``aiodji.sim.app`` (the middlewares) imports the kit and the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, TypeVar, overload

import orjson
from aiohttp import web

__all__ = [
    "CODE_BAD_REQUEST",
    "CODE_KEY",
    "CODE_METHOD",
    "CODE_NOT_FOUND",
    "CODE_RATE_LIMITED",
    "CODE_SCOPE",
    "CODE_TOKEN",
    "JSON_TYPE",
    "PROJECT_KEY",
    "ApiError",
    "Handler",
    "fail",
    "in_project",
    "int_param",
    "is_project_scoped",
    "ok",
    "page_params",
    "page_reply",
    "paged",
    "project_of",
    "project_scoped",
    "read_json",
    "required_str",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_H = TypeVar("_H", bound=Handler)

CODE_KEY: Final = web.ResponseKey("aiodji_sim_code", int)
PROJECT_KEY: Final = web.RequestKey("aiodji_sim_project", str)

JSON_TYPE: Final = "application/json"
_SCOPED_ATTR: Final = "_aiodji_sim_project_scoped"

# Envelope codes (docs/explanation/api-notes.md#business-codes).
CODE_TOKEN: Final = 200401
CODE_SCOPE: Final = 200403
CODE_NOT_FOUND: Final = 200404
CODE_METHOD: Final = 200405
CODE_BAD_REQUEST: Final = 200500
CODE_RATE_LIMITED: Final = 210429
_INT32_MAX: Final = 2**31 - 1


class ApiError(Exception):
    """Raised by handlers; turned into ``fail(code, message, status)`` by the auth middleware."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status


def _respond(
    body: bytes, code: int, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    resp = web.Response(body=body, status=status, content_type=JSON_TYPE, headers=headers)
    resp[CODE_KEY] = code
    return resp


_OK_NULL: Final = b'{"code":0,"message":"OK","data":null}'
_OK_BARE: Final = b'{"code":0,"message":"OK"}'


def ok(data: Any = None, *, message: str = "OK", omit_data: bool = False) -> web.Response:
    """Success envelope ``{"code": 0, "message": message, "data": data}``.

    ``omit_data=True`` sends ``{"code": 0, "message": message}`` (documented for some writes).
    """
    if message == "OK" and data is None:
        return _respond(_OK_BARE if omit_data else _OK_NULL, 0)
    env: dict[str, Any] = {"code": 0, "message": message}
    if not omit_data:
        env["data"] = data
    return _respond(orjson.dumps(env), 0)


def fail(
    code: int, message: str, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Error envelope ``{"code": code, "message": message, "data": null}``."""
    body = orjson.dumps({"code": code, "message": message, "data": None})
    return _respond(body, code, status, headers)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, else ``ApiError(200500)``."""
    try:
        raw = await request.read()
    except ConnectionResetError:
        # the client went away mid-body (a cancelled call): nobody reads an answer, and
        # aiohttp would log the reset as an unhandled error
        raise web.HTTPBadRequest() from None
    if not raw:
        raise ApiError(CODE_BAD_REQUEST, "request body must be a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(CODE_BAD_REQUEST, "invalid JSON body") from None
    if not isinstance(body, dict):
        raise ApiError(CODE_BAD_REQUEST, "request body must be a JSON object")
    return body


def required_str(body: dict[str, Any], key: str) -> str:
    """A non-empty string field of a JSON body, else ``ApiError(200500)``."""
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(CODE_BAD_REQUEST, f"invalid parameter: {key}")
    return value


def int_param(
    request: web.Request,
    name: str,
    default: int | None,
    *,
    minimum: int = 1,
    maximum: int | None = None,
) -> int | None:
    """An integer query parameter (``ApiError(200500)`` if not an int, below ``minimum`` or
    beyond a 32-bit int); values above ``maximum`` are clamped."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(CODE_BAD_REQUEST, f"invalid {name}") from None
    if value < minimum or value > _INT32_MAX:  # a huge page must not crash a slice
        raise ApiError(CODE_BAD_REQUEST, f"invalid {name}")
    if maximum is not None and value > maximum:
        value = maximum
    return value


@overload
def page_params(request: web.Request, default_size: int, max_size: int) -> tuple[int, int]: ...
@overload
def page_params(
    request: web.Request, default_size: None, max_size: int
) -> tuple[int, int | None]: ...
def page_params(
    request: web.Request, default_size: int | None, max_size: int
) -> tuple[int, int | None]:
    """The checked ``page`` and ``page_size`` query (docs/explanation/api-notes.md#pagination),
    page first; a size
    above ``max_size`` is clamped, an absent one is ``default_size``."""
    page = int_param(request, "page", 1)
    assert page is not None  # a default is given
    return page, int_param(request, "page_size", default_size, maximum=max_size)


def page_reply(items: list[Any], page: int, size: int, total: int) -> web.Response:
    """``ok({"list": items, "pagination": {page, page_size, total}})``."""
    pagination = {"page": page, "page_size": size, "total": total}
    return ok({"list": items, "pagination": pagination})


def paged(
    request: web.Request,
    items: list[dict[str, Any]],
    *,
    default_size: int = 50,
    max_size: int = 100,
) -> web.Response:
    """The requested page of ``items`` in a :func:`page_reply`."""
    page, size = page_params(request, default_size, max_size)
    start = (page - 1) * size
    return page_reply(items[start : start + size], page, size, len(items))


class _Owned(Protocol):
    @property
    def project_uuid(self) -> str: ...


_O = TypeVar("_O", bound=_Owned)


def in_project(item: _O | None, project: str, message: str) -> _O:
    """``item`` if it belongs to ``project``, else ``ApiError(200404, message)``: another
    project's resource is as unknown to a caller as a missing one."""
    if item is None or item.project_uuid != project:
        raise ApiError(CODE_NOT_FOUND, message)
    return item


def project_scoped(handler: _H) -> _H:
    """Mark a route handler as project-scoped: ``X-Project-Uuid`` is required and checked."""
    setattr(handler, _SCOPED_ATTR, True)
    return handler


def is_project_scoped(handler: object) -> bool:
    return getattr(handler, _SCOPED_ATTR, False) is True


def project_of(request: web.Request) -> str:
    """The checked project uuid of a project-scoped request."""
    return request[PROJECT_KEY]
