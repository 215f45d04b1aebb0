"""Open modeling against the simulator: token → callback → resource → start → running → get →
stop / delete, with the documented file-count limits
(docs/explanation/api-notes.md#open-modeling)."""

from __future__ import annotations

import pytest

import aiodji
from aiodji.models import UploadedFile
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
        await om.upload_callback(
            resource_uuid=batch, callback_param=token.callback_param, files=files
        )
        resource = await om.get_resource(batch)
        assert resource.file_names == sorted(f.name for f in files)
        with pytest.raises(aiodji.APIBusinessError):  # 3DGS needs 10 images
            await om.start(resource_uuid=batch, parameters={"parameter_3dgs": "{}"})
        started = await om.start(resource_uuid=batch, parameters={"parameter_3d": "{}"})
        model_uuid = started["list"][0]["model_uuid"]
        assert [j.model_uuid for j in await om.running()] == [model_uuid]
        job = await om.get(model_uuid)
        assert job.model_status == "running" and job.resource_uuid == batch
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
