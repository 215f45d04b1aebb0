"""3D models (docs/explanation/api-notes.md#models3d): create stores a model that the list shows;
each detail read moves it
one step ``waiting → processing → success`` (after answering)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from aiohttp import web

from ..envelope import (
    CODE_BAD_REQUEST,
    ApiError,
    in_project,
    ok,
    paged,
    project_of,
    project_scoped,
    read_json,
    required_str,
)

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

BASE: Final = "/openapi/v0.1/model"


def register(app: web.Application, sim: Simulator) -> None:
    missions = sim.state.missions

    @project_scoped
    async def create(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        name = required_str(body, "name")
        kinds = body.get("reconstruction_type")
        if (
            not isinstance(kinds, list)
            or not kinds
            or not all(isinstance(k, str) and k for k in kinds)
        ):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: reconstruction_type")
        model = missions.add_model(project_of(request), name, kinds, int(time.time()))
        return ok({"id": model.int_id})  # an int, as live (docs/explanation/api-notes.md#live)

    @project_scoped
    async def list_models(request: web.Request) -> web.StreamResponse:
        models = missions.project_models(project_of(request))
        return paged(request, [m.to_wire() for m in models])

    @project_scoped
    async def detail(request: web.Request) -> web.StreamResponse:
        wanted = request.match_info["model_id"]
        model = next((m for m in missions.models.values() if str(m.int_id) == wanted), None)
        model = in_project(model, project_of(request), "model not found")
        reply = ok(model.to_wire_detail(missions.storage_url))
        missions.advance_model(model.id)
        return reply

    app.router.add_post(BASE + "/create", create)
    app.router.add_get(BASE, list_models)
    app.router.add_get(BASE + "/{model_id}", detail)
