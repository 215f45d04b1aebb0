"""Open modeling (docs/explanation/api-notes.md#open-modeling): ``dji.open_models``. The client
that ran these live sent no
project header; aiodji sends ``X-Project-Uuid`` only when the view or the call has one."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from aiodji._args import path_param, require_bool, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import OpenModel, OpenModelResource, OpenModelUploadToken, UploadedFile
from aiodji.resources._base import Resource, Verb, no_data, parse_page
from aiodji.serde import structure

__all__ = ["OpenModels"]

T = TypeVar("T")

BASE = "/openapi/v0.1/open_model"
MAX_FILES_PER_CALLBACK = 100  # documented: 1..100 files a call
PARAMETERS = ("parameter_2d", "parameter_3d", "parameter_3dgs", "parameter_lidar")


class OpenModels(Resource):
    """Upload images to FlightHub 2's store and reconstruct from them."""

    def _project(self, project_uuid: str | None) -> str | None:
        project = project_uuid or self._client.project_uuid
        return require_text("project_uuid", project) if project else None

    async def _send(
        self,
        verb: Verb,
        path: str,
        parse: Callable[[Any], T],
        project_uuid: str | None,
        **kw: Any,
    ) -> T:
        project = self._project(project_uuid)
        result: T = await verb(path, project_uuid=project, parse=parse, **kw)
        return result

    async def obtain_token(self, *, project_uuid: str | None = None) -> OpenModelUploadToken:
        """S3 credentials for a new batch. ``POST /open_model/stores/obtain_token``. Use
        ``token.object_key(name)`` for each file and ``token.resource_uuid`` afterwards."""

        def parse(data: Any) -> OpenModelUploadToken:
            token: OpenModelUploadToken = structure(data or {}, OpenModelUploadToken)
            return token

        return await self._send(self._post, f"{BASE}/stores/obtain_token", parse, project_uuid)

    async def upload_callback(
        self,
        *,
        resource_uuid: str,
        callback_param: str,
        files: Sequence[UploadedFile],
        resource_name: str | None = None,
        project_uuid: str | None = None,
    ) -> Any:
        """Report uploaded files (1..100 a call; etags without quotes).
        ``POST /open_model/stores/upload_callback``; returns the server's result object."""
        if not 1 <= len(files) <= MAX_FILES_PER_CALLBACK:
            raise InvalidArgumentError(
                f"files: 1..{MAX_FILES_PER_CALLBACK} a call, got {len(files)}"
            )
        body: dict[str, Any] = {
            "resource_uuid": require_text("resource_uuid", resource_uuid),
            "callback_param": require_text("callback_param", callback_param),
            "files": [
                {
                    "name": require_text("name", f.name),
                    "etag": require_text("etag", f.etag).strip('"'),
                }
                for f in files
            ],
        }
        if resource_name is not None:
            body["resource_name"] = require_text("resource_name", resource_name)
        return await self._send(
            self._post, f"{BASE}/stores/upload_callback", lambda d: d, project_uuid, json=body
        )

    async def get_resource(
        self, resource_uuid: str, *, project_uuid: str | None = None
    ) -> OpenModelResource:
        """An uploaded batch. ``GET /open_model/resource/{resource_uuid}``."""
        path = f"{BASE}/resource/{path_param('resource_uuid', resource_uuid)}"
        return await self._send(
            self._get, path, lambda d: structure(d or {}, OpenModelResource), project_uuid
        )

    async def delete_resource(self, resource_uuid: str, *, project_uuid: str | None = None) -> None:
        """``DELETE /open_model/resource/{resource_uuid}``."""
        path = f"{BASE}/resource/{path_param('resource_uuid', resource_uuid)}"
        await self._send(self._delete, path, no_data, project_uuid)

    async def start(
        self,
        *,
        resource_uuid: str,
        parameters: Mapping[str, str],
        delete_resource_if_finish: bool = False,
        project_uuid: str | None = None,
    ) -> Any:
        """Start jobs on a batch. ``POST /open_model/models/reconstruction/start``.
        ``parameters``: at least one of ``parameter_2d``/``_3d``/``_3dgs``/``_lidar``, each a
        JSON string (2D/3D/LiDAR take 5–20,000 images, 3DGS 10–4,000)."""
        if not parameters or not set(parameters) <= set(PARAMETERS):
            raise InvalidArgumentError(f"parameters: at least one of {', '.join(PARAMETERS)}")
        require_bool("delete_resource_if_finish", delete_resource_if_finish)
        body: dict[str, Any] = {"resource_uuid": require_text("resource_uuid", resource_uuid)}
        body.update({k: require_text(k, v) for k, v in parameters.items()})
        body["delete_resource_if_finish"] = delete_resource_if_finish
        return await self._send(
            self._post, f"{BASE}/models/reconstruction/start", lambda d: d, project_uuid, json=body
        )

    async def stop(self, model_uuid: str, *, project_uuid: str | None = None) -> None:
        """Stop a running job (refunds the image quota)."""
        path = f"{BASE}/models/{path_param('model_uuid', model_uuid)}/reconstruction/stop"
        await self._send(self._post, path, no_data, project_uuid)

    async def get(self, model_uuid: str, *, project_uuid: str | None = None) -> OpenModel:
        """``GET /open_model/models/{model_uuid}``."""
        path = f"{BASE}/models/{path_param('model_uuid', model_uuid)}"
        return await self._send(
            self._get, path, lambda d: structure(d or {}, OpenModel), project_uuid
        )

    async def delete(self, model_uuid: str, *, project_uuid: str | None = None) -> None:
        """``DELETE /open_model/models/{model_uuid}`` (stops it if running)."""
        path = f"{BASE}/models/{path_param('model_uuid', model_uuid)}"
        await self._send(self._delete, path, no_data, project_uuid)

    async def running(self, *, project_uuid: str | None = None) -> builtins.list[OpenModel]:
        """``GET /open_model/models/running``: ``data.list[]`` (``null`` reads as [])."""
        parse = lambda d: list(parse_page(d, OpenModel, page=1, page_size=None))  # noqa: E731
        return await self._send(self._get, f"{BASE}/models/running", parse, project_uuid)
