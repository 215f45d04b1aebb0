"""Open modeling against the simulator: token → callback → resource → start → running → get →
stop / delete, with the documented file-count limits
(docs/explanation/api-notes.md#open-modeling)."""

from __future__ import annotations

import pytest
from _servers import LocalServers, envelope
from aiohttp import web

import aiodji
from aiodji.models import (
    OpenModelStatus,
    OpenModelType,
    ResourceStatus,
    UploadedFile,
)
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio


async def test_open_model_flow() -> None:
    async with Simulator() as sim, aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        om = dji.open_models
        token = await om.obtain_token()
        assert token.resource_uuid and token.callback_param
        batch = token.resource_uuid
        # S3's ETag header comes in quotes; the wire wants none (the simulator refuses them)
        files = [UploadedFile(f"IMG_{i}.JPG", f'"etag{i}"') for i in range(6)]
        assert files[0].etag == "etag0"
        uploaded = await om.upload_callback(
            resource_uuid=batch, callback_param=token.callback_param, files=files
        )
        assert uploaded.resource_uuid == batch and uploaded.upload_count == len(files)
        assert uploaded.file_name_list == sorted(f.name for f in files)
        resource = await om.get_resource(batch)
        assert resource.file_names == sorted(f.name for f in files)
        assert resource.status == ResourceStatus.IMPORT_SUCCESS
        with pytest.raises(aiodji.APIBusinessError):  # 3DGS needs 10 images
            await om.start(resource_uuid=batch, parameters={"parameter_3dgs": "{}"})
        started = await om.start(resource_uuid=batch, parameters={"parameter_3d": "{}"})
        assert list(started.job_ids) == ["3d"]
        model_uuid = started.job_ids["3d"]
        assert [j.model_uuid for j in await om.running()] == [model_uuid]
        job = await om.get(model_uuid)
        assert job.model_status == OpenModelStatus.RECONSTRUCTION_EXECUTING
        assert job.model_type == OpenModelType.MODEL_3D and job.resource_uuid == batch
        assert isinstance(job.model_status, int) and isinstance(job.zip_status, int)
        await om.stop(model_uuid)
        assert await om.running() == []  # null list reads as []
        await om.delete(model_uuid)
        with pytest.raises(aiodji.NotFoundError):
            await om.get(model_uuid)
        await om.delete_resource(batch)
        with pytest.raises(aiodji.InvalidArgumentError):  # 1..100 files a call
            await om.upload_callback(resource_uuid=batch, callback_param="x", files=[])


async def test_the_simulator_refuses_quoted_etags() -> None:
    async with Simulator() as sim, aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        token = await dji.open_models.obtain_token()
        with pytest.raises(aiodji.APIBusinessError, match="etag"):
            await dji.request(
                "POST",
                "/openapi/v0.1/open_model/stores/upload_callback",
                json={
                    "resource_uuid": token.resource_uuid,
                    "callback_param": token.callback_param,
                    "files": [{"name": "a.jpg", "etag": '"abc"'}],
                },
            )


async def test_open_model_calls_send_the_project_of_the_view_or_the_call() -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("X-Project-Uuid"))
        return envelope({"resource_uuid": "r", "status": 1})

    async with LocalServers() as servers:
        url = await servers.add(handler)
        async with aiodji.Client(token="t", base_url=url) as dji:
            await dji.open_models.get_resource("r")
            await dji.open_models.get_resource("r", project_uuid="p-call")
            await dji.project("p-view").open_models.get_resource("r")
            await dji.project("p-view").open_models.get_resource("r", project_uuid="p-call")
    assert seen == [None, "p-call", "p-view", "p-call"]
