"""Waylines (docs/explanation/api-notes.md#waylines): finish-upload creates a wayline that the list
and detail then show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web

from ..envelope import (
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

BASE: Final = "/openapi/v0.1/wayline"


def register(app: web.Application, sim: Simulator) -> None:
    missions = sim.state.missions

    @project_scoped
    async def finish_upload(request: web.Request) -> web.StreamResponse:
        project = project_of(request)
        body = await read_json(request)
        name = required_str(body, "name")
        object_key = required_str(body, "object_key")
        centre = sim.state.projects[project]
        line = missions.add_wayline(
            project, name, object_key, center=(centre.latitude, centre.longitude)
        )
        return ok({"uuid": line.id, "name": line.name})  # docs/explanation/api-notes.md#live

    @project_scoped
    async def list_waylines(request: web.Request) -> web.StreamResponse:
        lines = missions.project_waylines(project_of(request))
        return paged(request, [w.to_wire() for w in lines])

    @project_scoped
    async def detail(request: web.Request) -> web.StreamResponse:
        line = missions.waylines.get(request.match_info["wayline_id"])
        line = in_project(line, project_of(request), "wayline not found")
        return ok(line.to_wire_detail(missions.storage_url))

    app.router.add_post(BASE + "/finish-upload", finish_upload)
    app.router.add_get(BASE, list_waylines)
    app.router.add_get(BASE + "/{wayline_id}", detail)
