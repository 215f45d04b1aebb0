"""3D reconstruction models (API.md §9)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiodji.errors import InvalidArgumentError
from aiodji.models import Model3D, Model3DCreated, Page
from aiodji.resources._base import Resource, check_paging, parse_page, path_param, require_text
from aiodji.serde import structure

__all__ = ["Models3D"]

MODEL_PATH = "/openapi/v0.1/model"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def _parse_created(data: Any) -> Model3DCreated:
    # reply "model id" (§9.3): key not read; ``id`` assumed, ``model_id`` accepted too
    if isinstance(data, dict) and "id" not in data and "model_id" in data:
        data = {**data, "id": data["model_id"]}
    created: Model3DCreated = structure(data, Model3DCreated)
    return created


class Models3D(Resource):
    """``dji.models3d``: 3D reconstruction. Asynchronous: :meth:`create` returns an id, then
    poll :meth:`get` (or the list) until ``status.finished``.

    Project-scoped: use ``dji.project(uuid).models3d`` or pass ``project_uuid=``. The list of
    reconstruction coordinate systems has no known endpoint (API.md §9.1): see the README.
    """

    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[Model3D]:
        """One page of the project's models. ``GET /openapi/v0.1/model?page=&page_size=`` (§9.2;
        paging parameters a guess, ``page_size`` up to 100)."""
        check_paging(page, page_size, maximum=MAX_PAGE_SIZE)
        project = self._client._project_for(project_uuid, "models3d")
        return await self._client._call(
            "GET",
            MODEL_PATH,
            params={"page": page, "page_size": page_size},
            project_uuid=project,
            parse=lambda d: parse_page(d, Model3D, page=page, page_size=page_size),
        )

    async def iter(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, project_uuid: str | None = None
    ) -> AsyncIterator[Model3D]:
        """Every model of the project, fetching pages lazily."""

        async def fetch(page: int) -> Page[Model3D]:
            return await self.list(page=page, page_size=page_size, project_uuid=project_uuid)

        async for model in self._iter_pages(fetch):
            yield model

    async def create(
        self,
        *,
        name: str,
        reconstruction_type: str | Sequence[str],
        project_uuid: str | None = None,
        **more: Any,
    ) -> Model3DCreated:
        """Start a reconstruction. ``POST /openapi/v0.1/model/create`` (§9.3).

        ``name`` the model name; ``reconstruction_type`` the outputs to build (an array on the
        wire; one string is wrapped). The rest of the body was not read (a media folder id,
        quality, output formats such as b3dm/osgb/ply/obj [secondary]): pass those as keyword
        arguments with their wire names; they are sent unchanged. Returns the model ``id``.
        """
        kinds: builtins.list[str] = (
            [reconstruction_type]
            if isinstance(reconstruction_type, str)
            else builtins.list(reconstruction_type)
        )
        if not kinds:
            raise InvalidArgumentError("reconstruction_type needs at least one value")
        for kind in kinds:
            require_text("reconstruction_type", kind)
        clash = {"name", "reconstruction_type"} & more.keys()
        if clash:
            raise InvalidArgumentError(f"duplicate fields: {sorted(clash)}")
        body = {**more, "name": require_text("name", name), "reconstruction_type": kinds}
        project = self._client._project_for(project_uuid, "models3d")
        return await self._client._call(
            "POST", f"{MODEL_PATH}/create", json=body, project_uuid=project, parse=_parse_created
        )

    async def get(self, model_id: str, *, project_uuid: str | None = None) -> Model3D:
        """One model with its status and, once built, ``preview_url``/``download_url``.
        ``GET /openapi/v0.1/model/{model_id}`` (§9.4)."""
        path = f"{MODEL_PATH}/{path_param('model_id', model_id)}"
        project = self._client._project_for(project_uuid, "models3d")
        return await self._client._call(
            "GET", path, project_uuid=project, parse=lambda d: structure(d, Model3D)
        )
