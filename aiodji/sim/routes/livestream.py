"""Livestream start (docs/explanation/api-notes.md#livestream)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web

from ..device_state import QUALITIES
from ..envelope import (
    CODE_BAD_REQUEST,
    ApiError,
    ok,
    project_of,
    project_scoped,
    read_json,
    required_str,
)

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

CODE_TOPOLOGY: Final = 213001  # device lookup / network topology abnormal: used for offline
CODE_CAMERA: Final = 213014  # this camera cannot stream; check sn and camera params
_MAX_EXPIRE: Final = 86_400 * 7


def register(app: web.Application, sim: Simulator) -> None:
    @project_scoped
    async def start(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        sn = required_str(body, "sn")
        camera_index = required_str(body, "camera_index")
        expire = body.get("video_expire")
        if isinstance(expire, bool) or not isinstance(expire, int) or not 0 < expire <= _MAX_EXPIRE:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: video_expire")
        quality = body.get("quality_type", "adaptive")
        if not isinstance(quality, str) or quality not in QUALITIES:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: quality_type")
        device = sim.state.device_in_project(project_of(request), sn)
        if device is None or camera_index not in set(device.camera_indexes()):
            raise ApiError(CODE_CAMERA, "this camera cannot stream; check sn and camera params")
        if not device.device_online_status:
            raise ApiError(CODE_TOPOLOGY, "device is offline")
        grant = sim.state.device_ops.start_live(sn, camera_index, quality, expire)
        app_id = f"sim-{sim.state.org_uuid[:8]}"
        return ok({"url": grant.url(app_id), "url_type": "volc", "expire_ts": grant.expire_ts})

    app.router.add_post("/openapi/v0.1/live-stream/start", start)
