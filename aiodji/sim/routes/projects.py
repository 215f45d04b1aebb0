"""Organization projects and devices, storage credentials, members
(docs/explanation/api-notes.md#projects)."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..device_state import MEMBER_ROLES, STS_LIFETIME, Member
from ..envelope import (
    CODE_BAD_REQUEST,
    ApiError,
    ok,
    page_params,
    project_of,
    project_scoped,
    read_json,
    required_str,
)
from ..state import Project

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

_MAX_PAGE_SIZE: Final = 1000
_AUTHORIZED: Final = "project-status-authorized"  # every simulated project is authorized
_SORT_COLUMNS: Final = frozenset({"created_at", "updated_at", "name"})
_SORT_TYPES: Final = frozenset({"ASC", "DESC"})


def _page(request: web.Request, items: list[Any], default_size: int | None) -> list[Any]:
    """Slice by page/page_size. Without page_size (and no default) everything is returned."""
    page, size = page_params(request, default_size, _MAX_PAGE_SIZE)
    if size is None:
        return items if page == 1 else []
    start = (page - 1) * size
    return list(islice(items, start, start + size))


def _sorted_projects(request: web.Request, projects: list[Project]) -> list[Project]:
    column = request.query.get("sort_column")
    direction = request.query.get("sort_type", "ASC").upper()
    if direction not in _SORT_TYPES:
        raise ApiError(CODE_BAD_REQUEST, "invalid sort_type")
    if not column:
        return projects
    if column not in _SORT_COLUMNS:
        raise ApiError(CODE_BAD_REQUEST, "invalid sort_column")
    return sorted(projects, key=lambda p: getattr(p, column), reverse=direction == "DESC")


def _optional_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise ApiError(CODE_BAD_REQUEST, f"invalid parameter: {key}")
    return value


def register(app: web.Application, sim: Simulator) -> None:
    async def list_projects(request: web.Request) -> web.StreamResponse:
        projects = list(sim.state.projects.values())
        q = request.query.get("q")
        if q:
            ql = q.casefold()
            projects = [p for p in projects if ql in p.name.casefold()]
        status = request.query.get("prj_authorized_status")
        if status and status != _AUTHORIZED:
            projects = []
        projects = _sorted_projects(request, projects)
        return ok({"list": [p.to_wire() for p in _page(request, projects, 50)]})

    async def list_org_devices(request: web.Request) -> web.StreamResponse:
        pairs = sim.state.device_pairs()
        return ok({"list": [p.to_wire() for p in _page(request, pairs, None)]})

    @project_scoped
    async def list_project_devices(request: web.Request) -> web.StreamResponse:
        pairs = sim.state.device_pairs(project_of(request))
        return ok({"list": [p.to_wire() for p in _page(request, pairs, None)]})

    @project_scoped
    async def sts_token(request: web.Request) -> web.StreamResponse:
        grant = sim.state.device_ops.issue_sts(project_of(request))
        # shape of the DJI Cloud API / FlightHub clients (names not in the V1.0 docs)
        return ok(
            {
                "endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
                "provider": "ali",
                "region": "cn-hangzhou",
                "bucket": f"fh2-sim-{sim.state.org_uuid[:8]}",
                "object_key_prefix": grant.object_key_prefix,
                "credentials": {
                    "access_key_id": grant.access_key_id,
                    "access_key_secret": grant.access_key_secret,
                    "security_token": grant.security_token,
                    "expire": STS_LIFETIME,
                    "platform": 1,  # an integer on live; what its codes mean is not documented
                },
            }
        )

    @project_scoped
    async def add_member(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        # a list: several users at once, an upsert (docs/explanation/api-notes.md#live)
        users = body.get("add_users")
        if not isinstance(users, list) or not users or not all(isinstance(u, dict) for u in users):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: add_users")
        added: list[Member] = []
        for entry in users:
            user_id = required_str(entry, "user_id")
            role = entry.get("role")
            if not isinstance(role, str) or role not in MEMBER_ROLES:
                raise ApiError(CODE_BAD_REQUEST, "invalid parameter: role")
            added.append(
                Member(user_id=user_id, role=role, nickname=_optional_str(entry, "nickname"))
            )
        members = sim.state.device_ops.members.setdefault(project_of(request), {})
        members.update((m.user_id, m) for m in added)
        return ok(omit_data=True)

    app.router.add_get("/openapi/v0.1/project", list_projects)
    app.router.add_get("/openapi/v0.1/device", list_org_devices)
    app.router.add_get("/openapi/v0.1/project/device", list_project_devices)
    app.router.add_get("/openapi/v0.1/project/sts-token", sts_token)
    app.router.add_put("/openapi/v0.1/project/member", add_member)
