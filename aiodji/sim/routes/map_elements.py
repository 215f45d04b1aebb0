"""Map annotations (docs/explanation/api-notes.md#annotations): the legacy Sync body
``{name, desc, resource{type, content}}``,
validated (geometry kind matching ``type``, WGS84 ranges) → 200500 on bad input."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..envelope import (
    CODE_BAD_REQUEST,
    ApiError,
    ok,
    project_of,
    project_scoped,
    read_json,
    required_str,
)
from ..mission_state import SimAnnotation

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

BASE: Final = "/openapi/v0.1/map/element"
GEOMETRY_FOR_TYPE: Final = {0: "Point", 1: "LineString", 2: "Polygon"}


def _bad(what: str) -> ApiError:
    return ApiError(CODE_BAD_REQUEST, f"invalid parameter: {what}")


def _check_position(value: Any) -> None:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise _bad("resource.content.geometry.coordinates")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _bad("resource.content.geometry.coordinates")
    if not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
        raise _bad("resource.content.geometry.coordinates (out of range)")


def _check_positions(value: Any, minimum: int) -> list[Any]:
    if not isinstance(value, list) or len(value) < minimum:
        raise _bad("resource.content.geometry.coordinates")
    for p in value:
        _check_position(p)
    return value


def _check_geometry(kind: str, coordinates: Any) -> None:
    if kind == "Point":
        _check_position(coordinates)
    elif kind == "LineString":
        _check_positions(coordinates, 2)
    else:  # Polygon: rings of ≥ 4 positions, closed
        if not isinstance(coordinates, list) or not coordinates:
            raise _bad("resource.content.geometry.coordinates")
        for ring in coordinates:
            if _check_positions(ring, 4)[0] != ring[-1]:
                raise _bad("resource.content.geometry.coordinates (ring not closed)")


def register(app: web.Application, sim: Simulator) -> None:
    missions = sim.state.missions

    @project_scoped
    async def create(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        name = required_str(body, "name")
        desc = body.get("desc", "")
        if not isinstance(desc, str):
            raise _bad("desc")
        resource = body.get("resource")
        if not isinstance(resource, dict):
            raise _bad("resource")
        rtype = resource.get("type")
        kind = GEOMETRY_FOR_TYPE.get(rtype) if type(rtype) is int else None  # not bool
        content = resource.get("content")
        if kind is None or not isinstance(content, dict):
            raise _bad("resource.type / resource.content")
        geometry = content.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") != kind:
            raise _bad("resource.content.geometry.type")
        properties = content.get("properties", {})
        if not isinstance(properties, dict):
            raise _bad("resource.content.properties")
        _check_geometry(kind, geometry.get("coordinates"))
        element = SimAnnotation(
            id=missions.new_id(),
            project_uuid=project_of(request),
            name=name,
            desc=desc,
            resource=resource,
        )
        missions.annotations[element.id] = element
        return ok({})  # live answers an empty object, no id (docs/explanation/api-notes.md#live)

    app.router.add_post(BASE, create)
