"""Projects, project devices, storage credentials, members
(docs/explanation/api-notes.md#projects)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypedDict, Unpack

from aiodji._args import check_paging, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import DevicePair, Member, MemberRole, Page, Project, StsToken
from aiodji.resources._base import Resource, filter_params, no_data, parse_page
from aiodji.serde import structure

__all__ = ["ProjectFilters", "Projects"]

PROJECT_PATH = "/openapi/v0.1/project"
PROJECT_DEVICE_PATH = "/openapi/v0.1/project/device"
STS_PATH = "/openapi/v0.1/project/sts-token"
MEMBER_PATH = "/openapi/v0.1/project/member"
DEFAULT_PAGE_SIZE = 50
# what integrators send (docs/explanation/api-notes.md#projects); the server's maximum is not
# documented
ITER_PAGE_SIZE = 100


class ProjectFilters(TypedDict, total=False):
    """The filters of ``projects.list`` / ``list_page`` / ``iter``, written once (query
    names from client code)."""

    q: str | None
    prj_authorized_status: str | None
    usage: str | None
    sort_column: str | None
    sort_type: str | None


class Projects(Resource):
    """``dji.projects``: Projects, project devices, storage credentials, members
    (docs/explanation/api-notes.md#projects)."""

    async def list(
        self,
        page: int | None = None,
        page_size: int | None = None,
        **filters: Unpack[ProjectFilters],
    ) -> Page[Project]:
        """Every project of the organization, all pages fetched (filters as :meth:`list_page`;
        ``page_size`` per request, default 100). The same as collecting :meth:`iter`.

        ``page=`` is deprecated: it returns that one page, as :meth:`list_page` does.
        """
        if page_size is None:
            page_size = (
                ITER_PAGE_SIZE if page is None else DEFAULT_PAGE_SIZE
            )  # a page keeps its old size
        return await self._list_all(
            "projects.list", page, self.list_page, page_size=page_size, **filters
        )

    async def list_page(
        self,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Unpack[ProjectFilters],
    ) -> Page[Project]:
        """One page of the organization's projects (org-level: no ``X-Project-Uuid``).

        ``GET /openapi/v0.1/project?page=&page_size=&q=&prj_authorized_status=&usage=
        &sort_column=&sort_type=`` (query names from client code,
        docs/explanation/api-notes.md#projects).

        - ``page``: from 1; ``page_size``: projects per page.
        - Filters (:class:`ProjectFilters`): ``q`` (part of) the project name;
          ``prj_authorized_status``, e.g. ``"project-status-authorized"`` (projects the
          token's user is authorized in); ``usage``, e.g. ``"simple"`` (the short form
          integrators ask for); ``sort_column`` (e.g. ``"created_at"``) and ``sort_type``
          (``"ASC"`` | ``"DESC"``).

        The reply usually has no total: ``Page.total`` is then None and ``has_more`` is judged
        from a full page. Each ``Project.uuid`` is what ``dji.project(uuid)`` takes.
        """
        f = filter_params(filters, ProjectFilters)
        check_paging(page, page_size)
        sort_type = f.get("sort_type")
        params = {
            "page": page,
            "page_size": page_size,
            **{key: f.get(key) for key in ("q", "prj_authorized_status", "usage", "sort_column")},
            "sort_type": None if sort_type is None else str(sort_type),
        }

        def parse(data: Any) -> Page[Project]:
            return parse_page(data, Project, page=page, page_size=page_size)

        return await self._get(PROJECT_PATH, params=params, parse=parse, org_level=True)

    async def iter(
        self, *, page_size: int = ITER_PAGE_SIZE, **filters: Unpack[ProjectFilters]
    ) -> AsyncIterator[Project]:
        """Every project of the organization, fetching pages lazily (filters as
        :meth:`list_page`)."""
        check_paging(1, page_size)
        async for item in self._iter_all(self.list_page, page_size=page_size, **filters):
            yield item

    async def devices(
        self,
        page: int | None = None,
        page_size: int | None = None,
        *,
        project_uuid: str | None = None,
    ) -> Page[DevicePair]:
        """Every device pair of the project, all pages fetched (``page_size`` per request,
        default 100). The same as collecting :meth:`iter_devices`.

        ``page=`` is deprecated: it returns that one page, as :meth:`devices_page` does.
        """
        if page is None and page_size is None:
            page_size = ITER_PAGE_SIZE  # a walk sends a size: a full page says more may follow
        return await self._list_all(
            "projects.devices",
            page,
            self.devices_page,
            page_size=page_size,
            project_uuid=project_uuid,
        )

    async def devices_page(
        self,
        page: int = 1,
        page_size: int | None = None,
        *,
        project_uuid: str | None = None,
    ) -> Page[DevicePair]:
        """One page of the project's devices, as dock/aircraft pairs.

        ``GET /openapi/v0.1/project/device?page=&page_size=`` with ``X-Project-Uuid``
        (docs/explanation/api-notes.md#projects;
        same item shape as the org device list). ``page_size=None`` sends no page size: the
        server then decides (the simulator answers every pair). Project-scoped: use
        ``dji.project(uuid).projects.devices_page()`` or pass ``project_uuid=``.
        """
        check_paging(page, page_size)
        project = self._project_for(project_uuid, "projects")
        params = {"page": page, "page_size": page_size}

        def parse(data: Any) -> Page[DevicePair]:
            return parse_page(data, DevicePair, page=page, page_size=page_size)

        return await self._get(
            PROJECT_DEVICE_PATH, params=params, project_uuid=project, parse=parse
        )

    async def iter_devices(
        self, *, page_size: int = ITER_PAGE_SIZE, project_uuid: str | None = None
    ) -> AsyncIterator[DevicePair]:
        """Every device pair of the project, fetching pages lazily."""
        check_paging(1, page_size)
        project = self._project_for(project_uuid, "projects")
        fixed = {"page_size": page_size, "project_uuid": project}
        async for item in self._iter_all(self.devices_page, **fixed):
            yield item

    async def sts_token(self, *, project_uuid: str | None = None) -> StsToken:
        """Temporary credentials to upload files (e.g. wayline KMZ) to the project's storage.

        ``GET /openapi/v0.1/project/sts-token`` with ``X-Project-Uuid``
        (docs/explanation/api-notes.md#projects). The reply's
        field names were not found in the docs; aiodji reads the shape FlightHub clients use:
        ``endpoint``, ``bucket``, ``object_key_prefix``, ``provider``, ``region`` and
        ``credentials {access_key_id, access_key_secret, security_token, expire}``. The secret
        and the session token are masked in the repr.
        """
        project = self._project_for(project_uuid, "projects")

        def parse(data: Any) -> StsToken:
            result: StsToken = structure(data, StsToken)
            return result

        return await self._get(STS_PATH, project_uuid=project, parse=parse)

    async def add_member(
        self,
        user_id: str,
        *,
        role: str = MemberRole.MEMBER,
        nickname: str | None = None,
        project_uuid: str | None = None,
    ) -> None:
        """Add a user to the project, or change the role of a member (an upsert).

        ``PUT /openapi/v0.1/project/member`` with ``{"add_users": [{user_id, role, nickname?}]}``
        (docs/explanation/api-notes.md#live). ``role``: ``"project-member"`` (default) or
        ``"project-admin"``; ``nickname``
        the name shown in the project (not sent when None). :meth:`add_members` sends several.
        """
        await self.add_members(
            [Member(user_id=user_id, role=MemberRole(role), nickname=nickname)],
            project_uuid=project_uuid,
        )

    async def add_members(
        self, members: Sequence[Member], *, project_uuid: str | None = None
    ) -> None:
        """Add or update several members at once: one ``PUT /project/member`` with every
        entry in ``add_users`` (docs/explanation/api-notes.md#live)."""
        users: list[dict[str, Any]] = []
        for member in members:
            if not isinstance(member, Member):
                raise InvalidArgumentError(f"members must be aiodji.models.Member, got {member!r}")
            entry: dict[str, Any] = {
                "user_id": require_text("user_id", member.user_id),
                "role": require_text("role", member.role),
            }
            if member.nickname is not None:
                entry["nickname"] = require_text("nickname", member.nickname)
            users.append(entry)
        if not users:
            raise InvalidArgumentError("add_members needs at least one member")
        project = self._project_for(project_uuid, "projects")
        body = {"add_users": users}
        await self._put(MEMBER_PATH, json=body, project_uuid=project, parse=no_data)
