"""3D reconstruction models (docs/explanation/api-notes.md#models3d)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiodji._args import check_paging, path_param, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import Model3D, Model3DCreate, Model3DCreated, Page
from aiodji.resources._base import Resource, parse_page
from aiodji.serde import structure, unstructure

__all__ = ["Models3D"]

MODEL_PATH = "/openapi/v0.1/model"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def _parse_created(data: Any) -> Model3DCreated:
    # reply ``{"id": int}`` (docs/explanation/api-notes.md#live); ``model_id`` accepted too
    if isinstance(data, dict) and "id" not in data and "model_id" in data:
        data = {**data, "id": data["model_id"]}
    created: Model3DCreated = structure(data, Model3DCreated)
    return created


def _text_list(name: str, value: str | Sequence[str], *, required: bool) -> builtins.list[str]:
    items = [value] if isinstance(value, str) else builtins.list(value)
    if required and not items:
        raise InvalidArgumentError(f"{name} needs at least one value")
    return [require_text(name, item) for item in items]


class Models3D(Resource):
    """``dji.models3d``: 3D reconstruction. Asynchronous: :meth:`create` returns an id, then
    poll :meth:`get` (or the list) until ``status.finished``.

    Project-scoped: use ``dji.project(uuid).models3d`` or pass ``project_uuid=``. The list of
    reconstruction coordinate systems has no known endpoint
    (docs/explanation/api-notes.md#models3d): see the README.
    """

    async def list(
        self,
        *,
        page: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[Model3D]:
        """Every model of the project, all pages fetched (``page_size`` per request). The
        same as collecting :meth:`iter`.

        ``page=`` is deprecated: it returns that one page, as :meth:`list_page` does.
        """
        fixed = {"page_size": page_size, "project_uuid": project_uuid}
        return await self._list_all("models3d.list", page, self.list_page, **fixed)

    async def list_page(
        self,
        page: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[Model3D]:
        """One page of the project's models. ``GET /openapi/v0.1/model?page=&page_size=``
        (docs/explanation/api-notes.md#models3d;
        paging parameters a guess, ``page_size`` up to 100)."""
        check_paging(page, page_size, maximum=MAX_PAGE_SIZE)
        project = self._project_for(project_uuid, "models3d")
        return await self._get(
            MODEL_PATH,
            params={"page": page, "page_size": page_size},
            project_uuid=project,
            parse=lambda d: parse_page(d, Model3D, page=page, page_size=page_size),
        )

    async def iter(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, project_uuid: str | None = None
    ) -> AsyncIterator[Model3D]:
        """Every model of the project, fetching pages lazily."""
        fixed = {"page_size": page_size, "project_uuid": project_uuid}
        async for model in self._iter_all(self.list_page, **fixed):
            yield model

    async def create(
        self,
        *,
        name: str,
        reconstruction_type: str | Sequence[str],
        task_folder_id: int | str | None = None,
        generate_model_formats: Sequence[str] | None = None,
        wkt: str | None = None,
        quality_level: str | None = None,
        reconstruction_mode: str | None = None,
        simplified_factor: float | None = None,
        predefine_area: object | None = None,
        project_uuid: str | None = None,
        **more: Any,
    ) -> Model3DCreated:
        """Start a reconstruction. ``POST /openapi/v0.1/model/create``
        (docs/explanation/api-notes.md#models3d).

        ``name`` the model name; ``reconstruction_type`` the outputs to build (an array; one
        string is wrapped); ``task_folder_id`` the ``folder_id`` of the flight task whose photos
        to use; ``generate_model_formats`` e.g. ``["b3dm", "osgb"]``; ``wkt`` the coordinate
        system as WKT text (the "coordinate systems" page is a table of WKT strings);
        ``quality_level`` (e.g. ``"medium"``), ``reconstruction_mode`` (``"normal"``),
        ``simplified_factor`` (``0.2``), ``predefine_area``. Unset ones are not sent; other wire
        fields can be passed as keyword arguments. Returns the model ``id`` (an int).
        """
        kinds = _text_list("reconstruction_type", reconstruction_type, required=True)
        formats = (
            None
            if generate_model_formats is None
            else _text_list("generate_model_formats", generate_model_formats, required=False)
        )
        if isinstance(task_folder_id, bool) or not isinstance(task_folder_id, int | str | None):
            raise InvalidArgumentError(
                f"task_folder_id must be an int or str, got {task_folder_id!r}"
            )
        if wkt is not None:
            require_text("wkt", wkt)
        documented = Model3DCreate(
            name=require_text("name", name),
            task_folder_id=task_folder_id if task_folder_id is not None else "",
            reconstruction_type=kinds,
            generate_model_formats=formats,
            wkt=wkt,
            quality_level=quality_level,
            reconstruction_mode=reconstruction_mode,
            simplified_factor=simplified_factor,
            predefine_area=predefine_area,
        )
        wire = {k: v for k, v in unstructure(documented).items() if v is not None}
        if task_folder_id is None:
            del wire["task_folder_id"]
        clash = wire.keys() & more.keys()
        if clash:
            raise InvalidArgumentError(f"duplicate fields: {sorted(clash)}")
        body = {**more, **wire}
        project = self._project_for(project_uuid, "models3d")
        return await self._post(
            f"{MODEL_PATH}/create", json=body, project_uuid=project, parse=_parse_created
        )

    async def get(self, model_id: int | str, *, project_uuid: str | None = None) -> Model3D:
        """One model with ``url`` (download), ``preview_url`` and ``user_name``.
        ``GET /openapi/v0.1/model/{model_id}`` (docs/explanation/api-notes.md#models3d); ids are
        ints live (docs/explanation/api-notes.md#live)."""
        if isinstance(model_id, int) and not isinstance(model_id, bool):
            model_id = str(model_id)
        path = f"{MODEL_PATH}/{path_param('model_id', model_id)}"
        project = self._project_for(project_uuid, "models3d")
        return await self._get(path, project_uuid=project, parse=lambda d: structure(d, Model3D))
