"""Stream converters ("bypass streaming", docs/explanation/api-notes.md#converters)."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Final

from aiohttp import web

from ..envelope import (
    CODE_BAD_REQUEST,
    ApiError,
    ok,
    page_params,
    page_reply,
    project_of,
    project_scoped,
    read_json,
    required_str,
)
from ..state import SCHEMAS, Converter

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

BASE: Final = "/openapi/v0.1/live-stream/converter"
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 100

CODE_CAMERA: Final = 213014
CODE_CREATE_FAILED: Final = 213024
CODE_DUPLICATE_NAME: Final = 213025
CODE_NOT_FOUND: Final = 213029
CODE_DUPLICATE_URL: Final = 213054
CODE_LIMIT: Final = 233317

_RTMP_PREFIXES: Final = ("rtmp://", "rtmps://")
_TRUE: Final = frozenset({"true", "1"})
_FALSE: Final = frozenset({"false", "0"})


def register(app: web.Application, sim: Simulator) -> None:
    @project_scoped
    async def create(request: web.Request) -> web.StreamResponse:
        project = project_of(request)
        state = sim.state
        body = await read_json(request)
        name = body.get("converter_name")
        if isinstance(name, str) and name:
            state.create_counts[name] += 1
        name = required_str(body, "converter_name")
        sn = required_str(body, "sn")
        camera_index = required_str(body, "camera_index")
        schema = body.get("schema")
        if not isinstance(schema, str) or schema not in SCHEMAS:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: schema")
        option = body.get("schema_option")
        if not isinstance(option, dict):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: schema_option")
        device = state.devices.get(sn)
        if device is None or device.project_uuid != project:
            raise ApiError(CODE_CAMERA, "this camera cannot stream; check sn and camera params")
        if camera_index not in device.camera_indexes():
            raise ApiError(CODE_CAMERA, "this camera cannot stream; check sn and camera params")
        url = option.get("url")
        if schema == "rtmp" and (not isinstance(url, str) or not url.startswith(_RTMP_PREFIXES)):
            raise ApiError(CODE_CREATE_FAILED, "creating converter failed: invalid rtmp url")
        if state.converter_by_name(name) is not None:
            raise ApiError(CODE_DUPLICATE_NAME, "converter already exists")
        if isinstance(url, str) and state.converter_with_url(url) is not None:
            raise ApiError(CODE_DUPLICATE_URL, "duplicate push url")
        if len(state.converters) >= state.converter_limit:
            raise ApiError(CODE_LIMIT, "converter count over limit")
        conv = state.add_converter(
            project,
            converter_name=name,
            sn=sn,
            camera_index=camera_index,
            schema=schema,
            schema_option=option,
            count=False,
        )
        return ok({"converter_id": conv.converter_id})

    def lookup(request: web.Request) -> Converter:
        cid = request.match_info["converter_id"]
        conv = sim.state.project_converters(project_of(request)).get(cid)
        if conv is None:
            raise ApiError(CODE_NOT_FOUND, "converter not found")
        return conv

    @project_scoped
    async def set_enabled(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        enabled = body.get("auto_push_stream")
        if not isinstance(enabled, bool):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: auto_push_stream")
        conv = lookup(request)
        sim.state.set_converter_enabled(conv.converter_id, enabled)
        return ok(omit_data=True)

    @project_scoped
    async def delete(request: web.Request) -> web.StreamResponse:
        conv = lookup(request)
        sim.state.destroy_converter(conv.converter_id)
        return ok()

    @project_scoped
    async def list_converters(request: web.Request) -> web.StreamResponse:
        page, size = page_params(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        index = sim.state.project_converters(project_of(request))
        query = request.query
        device_sn = query.get("device_sn")
        camera_index = query.get("camera_index")
        schema = query.get("schema")
        enable = query.get("enable", query.get("auto_push_stream"))
        want: bool | None = None
        if enable:
            low = enable.lower()
            if low in _TRUE:
                want = True
            elif low in _FALSE:
                want = False
            else:
                raise ApiError(CODE_BAD_REQUEST, "invalid enable")
        start = (page - 1) * size
        items: list[Converter]
        if device_sn or camera_index or schema or want is not None:
            matched = [
                c
                for c in index.values()
                if (not device_sn or c.sn == device_sn)
                and (not camera_index or c.camera == camera_index)
                and (not schema or c.schema == schema)
                and (want is None or c.auto_push_stream is want)
            ]
            total = len(matched)
            items = matched[start : start + size]
        else:
            total = len(index)
            items = list(islice(index.values(), start, start + size))
        return page_reply([c.to_wire(sim.state.v1_names) for c in items], page, size, total)

    app.router.add_post(BASE, create)
    app.router.add_get(BASE, list_converters)
    app.router.add_put(BASE + "/{converter_id}", set_enabled)
    app.router.add_delete(BASE + "/{converter_id}", delete)
