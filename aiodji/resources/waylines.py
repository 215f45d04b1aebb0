"""Waylines (docs/explanation/api-notes.md#waylines)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiodji._args import check_paging, path_param, require_text
from aiodji.models import Page, Wayline, WaylineDetail, WaylineUploaded
from aiodji.resources._base import Resource, parse_page
from aiodji.serde import structure

__all__ = ["Waylines"]

WAYLINE_PATH = "/openapi/v0.1/wayline"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def _parse_uploaded(data: Any) -> WaylineUploaded:
    # reply not read (docs/explanation/api-notes.md#waylines): an empty/absent ``data`` just means
    # "accepted"
    if data is None:
        return WaylineUploaded()
    uploaded: WaylineUploaded = structure(data, WaylineUploaded)
    return uploaded


class Waylines(Resource):
    """``dji.waylines``: wayline (KMZ) files of a project.

    Project-scoped: use ``dji.project(uuid).waylines`` or pass ``project_uuid=``. Uploading is
    two steps: put the KMZ in the project bucket with ``dji.projects.sts_token()`` credentials,
    then call :meth:`finish_upload` with its object key.
    """

    async def finish_upload(
        self, *, name: str, object_key: str, project_uuid: str | None = None
    ) -> WaylineUploaded:
        """Tell FlightHub 2 a KMZ was uploaded. ``POST /openapi/v0.1/wayline/finish-upload``
        with ``name`` (the wayline name shown in FlightHub 2) and ``object_key`` (the key of the
        KMZ in the project's storage bucket) (docs/explanation/api-notes.md#waylines). Returns
        ``{uuid, name}``: the new
        wayline's id is ``uuid`` (docs/explanation/api-notes.md#live)."""
        body = {
            "name": require_text("name", name),
            "object_key": require_text("object_key", object_key),
        }
        project = self._project_for(project_uuid, "waylines")
        return await self._post(
            f"{WAYLINE_PATH}/finish-upload",
            json=body,
            project_uuid=project,
            parse=_parse_uploaded,
        )

    async def list(
        self,
        *,
        page: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[Wayline]:
        """Every wayline of the project, all pages fetched (``page_size`` per request). The
        same as collecting :meth:`iter`.

        ``page=`` is deprecated: it returns that one page, as :meth:`list_page` does.
        """
        fixed = {"page_size": page_size, "project_uuid": project_uuid}
        return await self._list_all("waylines.list", page, self.list_page, **fixed)

    async def list_page(
        self,
        page: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[Wayline]:
        """One page of the project's waylines. ``GET /openapi/v0.1/wayline?page=&page_size=``
        (docs/explanation/api-notes.md#waylines; paging parameters as clients send them,
        ``page_size`` up to 100)."""
        check_paging(page, page_size, maximum=MAX_PAGE_SIZE)
        project = self._project_for(project_uuid, "waylines")
        return await self._get(
            WAYLINE_PATH,
            params={"page": page, "page_size": page_size},
            project_uuid=project,
            parse=lambda d: parse_page(d, Wayline, page=page, page_size=page_size),
        )

    async def iter(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, project_uuid: str | None = None
    ) -> AsyncIterator[Wayline]:
        """Every wayline of the project, fetching pages lazily."""
        fixed = {"page_size": page_size, "project_uuid": project_uuid}
        async for line in self._iter_all(self.list_page, **fixed):
            yield line

    async def get(self, wayline_id: str, *, project_uuid: str | None = None) -> WaylineDetail:
        """One wayline with its KMZ ``download_url``, distance and waypoint count.
        ``GET /openapi/v0.1/wayline/{wayline_id}`` (docs/explanation/api-notes.md#waylines)."""
        path = f"{WAYLINE_PATH}/{path_param('wayline_id', wayline_id)}"
        project = self._project_for(project_uuid, "waylines")
        return await self._get(
            path, project_uuid=project, parse=lambda d: structure(d, WaylineDetail)
        )
