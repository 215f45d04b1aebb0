"""Organization projects and devices (API.md §4.1-4.3)."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..app import int_param, ok, project_of, project_scoped

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

_MAX_PAGE_SIZE = 1000


def _page(request: web.Request, items: list[Any], default_size: int | None) -> list[Any]:
    """Slice by page/page_size. Without page_size (and no default) everything is returned."""
    page = int_param(request, "page", 1)
    size = int_param(request, "page_size", default_size, maximum=_MAX_PAGE_SIZE)
    assert page is not None
    if size is None:
        return items if page == 1 else []
    start = (page - 1) * size
    return list(islice(items, start, start + size))


def register(app: web.Application, sim: Simulator) -> None:
    async def list_projects(request: web.Request) -> web.StreamResponse:
        projects = list(sim.state.projects.values())
        q = request.query.get("q")
        if q:
            ql = q.casefold()
            projects = [p for p in projects if ql in p.name.casefold()]
        return ok({"list": [p.to_wire() for p in _page(request, projects, 50)]})

    async def list_org_devices(request: web.Request) -> web.StreamResponse:
        pairs = sim.state.device_pairs()
        return ok({"list": [p.to_wire() for p in _page(request, pairs, None)]})

    @project_scoped
    async def list_project_devices(request: web.Request) -> web.StreamResponse:
        pairs = sim.state.device_pairs(project_of(request))
        return ok({"list": [p.to_wire() for p in _page(request, pairs, None)]})

    app.router.add_get("/openapi/v0.1/project", list_projects)
    app.router.add_get("/openapi/v0.1/device", list_org_devices)
    app.router.add_get("/openapi/v0.1/project/device", list_project_devices)
