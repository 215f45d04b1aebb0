"""Open modeling (docs/explanation/api-notes.md#open-modeling): token → upload callback → resource
→ start → running → get →
stop / delete, with the documented file-count limits. State lives on the app (one per server)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import attrs
from aiohttp import web

from ..envelope import CODE_BAD_REQUEST, CODE_NOT_FOUND, ApiError, ok, read_json, required_str

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

BASE: Final = "/openapi/v0.1/open_model"
MAX_CALLBACK_FILES: Final = 100
# images a job needs (docs/explanation/api-notes.md#open-modeling): 2D/3D/LiDAR 5–20,000, 3DGS
# 10–4,000
IMAGE_LIMITS: Final = {
    "parameter_2d": (5, 20_000),
    "parameter_3d": (5, 20_000),
    "parameter_lidar": (5, 20_000),
    "parameter_3dgs": (10, 4_000),
}


@attrs.define
class _Batch:
    resource_uuid: str
    callback_param: str
    files: dict[str, str] = attrs.field(factory=dict)  # name → etag


@attrs.define
class _Job:
    model_uuid: str
    resource_uuid: str
    model_type: str
    status: str = "running"
    progress: float = 0.0

    def to_wire(self) -> dict[str, Any]:
        return {
            "resource_uuid": self.resource_uuid,
            "model_uuid": self.model_uuid,
            "model_type": self.model_type,
            "model_status": self.status,
            "model_size": 0,
            "reconstruction_progress": self.progress,
            "error_code": 0,
            "zip_status": "none",
            "zip_progress": 0,
            "zip_file_key": "",
        }


def register(app: web.Application, sim: Simulator) -> None:
    batches: dict[str, _Batch] = {}
    jobs: dict[str, _Job] = {}

    def batch_of(resource_uuid: object) -> _Batch:
        batch = batches.get(resource_uuid) if isinstance(resource_uuid, str) else None
        if batch is None:
            raise ApiError(CODE_NOT_FOUND, "resource not found")
        return batch

    def job_of(request: web.Request) -> _Job:
        job = jobs.get(request.match_info["model_uuid"])
        if job is None:
            raise ApiError(CODE_NOT_FOUND, "model not found")
        return job

    async def obtain_token(request: web.Request) -> web.StreamResponse:
        if request.body_exists:  # no body is documented; a sent one must still be JSON
            await read_json(request)
        batch = _Batch(sim.state.new_uuid(), sim.state.new_uuid())
        batches[batch.resource_uuid] = batch
        store = f"fh/organizations/{sim.state.org_uuid}/open_reconstruction/tmp/"
        return ok(
            {
                "cloud_name": "minio",
                "access_key_id": "SIMAK",
                "secret_access_key": "sim-secret",
                "session_token": "sim-session",
                "region": "sim-1",
                "cloud_bucket_name": "sim-bucket",
                "callback_param": batch.callback_param,
                "store_path": store + batch.resource_uuid + "/{fileName}",
                "expire_time": 3600,
                "end_point": "http://127.0.0.1:9000",
            }
        )

    async def upload_callback(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        batch = batch_of(body.get("resource_uuid"))
        if body.get("callback_param") != batch.callback_param:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: callback_param")
        files = body.get("files")
        if not isinstance(files, list) or not 1 <= len(files) <= MAX_CALLBACK_FILES:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: files (1..100 a call)")
        for entry in files:
            if not isinstance(entry, dict):
                raise ApiError(CODE_BAD_REQUEST, "invalid parameter: files")
            etag = required_str(entry, "etag")
            # docs/explanation/api-notes.md#open-modeling: S3 etags without quotes
            if etag.startswith('"') or etag.endswith('"'):
                raise ApiError(CODE_BAD_REQUEST, "invalid parameter: etag (without quotes)")
            batch.files[required_str(entry, "name")] = etag
        return ok({"resource_uuid": batch.resource_uuid, "file_count": len(batch.files)})

    async def get_resource(request: web.Request) -> web.StreamResponse:
        batch = batch_of(request.match_info["resource_uuid"])
        return ok(
            {
                "resource_uuid": batch.resource_uuid,
                "status": "uploaded" if batch.files else "empty",
                "resource_size": 4_000_000 * len(batch.files),
                # null list when empty (docs/explanation/api-notes.md#live)
                "file_names": sorted(batch.files) or None,
            }
        )

    async def delete_resource(request: web.Request) -> web.StreamResponse:
        batches.pop(batch_of(request.match_info["resource_uuid"]).resource_uuid)
        return ok(omit_data=True)

    async def start(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        batch = batch_of(body.get("resource_uuid"))
        kinds = [k for k in IMAGE_LIMITS if k in body]
        if not kinds or not all(isinstance(body[k], str) for k in kinds):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: a parameter_* JSON string")
        started = []
        for kind in kinds:
            low, high = IMAGE_LIMITS[kind]
            if not low <= len(batch.files) <= high:
                raise ApiError(CODE_BAD_REQUEST, f"{kind} needs {low}..{high} images")
            job = _Job(sim.state.new_uuid(), batch.resource_uuid, kind.removeprefix("parameter_"))
            jobs[job.model_uuid] = job
            started.append(job.to_wire())
        return ok({"list": started})

    async def stop(request: web.Request) -> web.StreamResponse:
        job_of(request).status = "stopped"
        return ok(omit_data=True)

    async def get(request: web.Request) -> web.StreamResponse:
        job = job_of(request)
        reply = ok(job.to_wire())
        if job.status == "running":  # each read moves a job on, after answering
            job.progress = min(100.0, job.progress + 50.0)
            job.status = "success" if job.progress >= 100 else "running"
        return reply

    async def delete(request: web.Request) -> web.StreamResponse:
        jobs.pop(job_of(request).model_uuid)
        return ok(omit_data=True)

    async def running(request: web.Request) -> web.StreamResponse:
        live = [j.to_wire() for j in jobs.values() if j.status == "running"]
        # an empty list arrives as null (docs/explanation/api-notes.md#live)
        return ok({"list": live or None})

    router = app.router
    router.add_post(BASE + "/stores/obtain_token", obtain_token)
    router.add_post(BASE + "/stores/upload_callback", upload_callback)
    router.add_get(BASE + "/resource/{resource_uuid}", get_resource)
    router.add_delete(BASE + "/resource/{resource_uuid}", delete_resource)
    router.add_post(BASE + "/models/reconstruction/start", start)
    router.add_post(BASE + "/models/{model_uuid}/reconstruction/stop", stop)
    router.add_get(BASE + "/models/running", running)
    router.add_get(BASE + "/models/{model_uuid}", get)
    router.add_delete(BASE + "/models/{model_uuid}", delete)
