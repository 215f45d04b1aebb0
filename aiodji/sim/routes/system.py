"""System (docs/explanation/api-notes.md#system)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..envelope import CODE_KEY

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

_STATUS_BODY = b'{"code":0,"message":""}'


def register(app: web.Application, sim: Simulator) -> None:
    async def system_status(request: web.Request) -> web.StreamResponse:
        # docs/explanation/api-notes.md#system: healthy reply is {"code": 0, "message": ""} with no
        # data key.
        resp = web.Response(body=_STATUS_BODY, content_type="application/json")
        resp[CODE_KEY] = 0
        return resp

    app.router.add_get("/openapi/v0.1/system_status", system_status)
