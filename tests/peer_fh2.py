"""Drive every catalogue operation of the third-party client ``flighthub2-cli`` (PyPI, 0.1.2)
against a running simulator; print one JSON line per operation: ``{"op", "ok", "error"}``.

Runs under that client's own venv (never aiodji's): ``python tests/peer_fh2.py INFO_JSON``, where
INFO_JSON names the simulator's url, token and seeded ids. Operations run in an order where each
finds what an earlier one made (a converter before its delete, a task before its media).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from flighthub2.client import FlightHub2Client
from flighthub2.config import Settings
from flighthub2.dispatch import invoke
from flighthub2.spec import OPERATIONS

FAR = 4_102_444_800
WKT = 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]]]'


def _batch(got: dict[str, Any]) -> str:
    """The resource uuid inside the token's ``store_path`` (``.../<uuid>/{fileName}``)."""
    return str(got["openmodel.obtain-token"]["store_path"]).split("/")[-2]


def plan(info: dict[str, Any], got: dict[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    """(operation, arguments-maker) in run order; ``got`` holds earlier results by name."""
    drone, dock, cam = info["drone_sn"], info["dock_sn"], info["drone_camera"]
    ctl = {"drone_sn": drone, "payload_index": [cam]}
    files = [{"name": f"IMG_{i:04d}.JPG", "etag": f"etag{i}"} for i in range(10)]
    task = lambda: got["task.create"]["task_uuid"]  # noqa: E731
    return [
        ("system.status", lambda: {}),
        ("project.list", lambda: {}),
        ("project.find", lambda: {"name_or_uuid": info["project_name"]}),
        ("device.list-org", lambda: {}),
        ("device.list", lambda: {}),
        ("project.sts-token", lambda: {}),
        ("project.add-member", lambda: {"user_id": "peer-user", "role": "project-member"}),
        ("device.state", lambda: {"device_sn": drone}),
        ("device.hms", lambda: {"device_sns": [drone]}),
        ("device.command", lambda: {"device_sn": drone, "command": "return_home"}),
        (
            "device.change-camera",
            lambda: {"sn": dock, "camera_index": info["dock_camera"], "camera_position": "indoor"},
        ),
        ("device.acquire-control", lambda: ctl),
        ("device.change-lens", lambda: {"sn": drone, "camera_index": cam, "lens_type": "zoom"}),
        (
            "device.stream-quality",
            lambda: {"sn": drone, "camera_index": cam, "quality_type": "smooth"},
        ),
        ("device.release-control", lambda: ctl),
        (
            "device.rtk-calibrate",
            lambda: {
                "device_sn": dock,
                "host": "rtk.example",
                "port": 2101,
                "account": "peer",
                "password": "peer-pass",
                "mount_point": "RTCM3",
            },
        ),
        ("livestream.start", lambda: {"sn": drone, "camera_index": cam}),
        (
            "converter.create",
            lambda: {
                "converter_name": "peer-converter",
                "sn": drone,
                "camera_index": cam,
                "schema": "rtmp",
                "schema_option": {"url": "rtmp://127.0.0.1/live/peer-key"},
            },
        ),
        ("converter.list", lambda: {}),
        (
            "converter.set",
            lambda: {"converter_id": got["converter.create"]["converter_id"], "auto_push": True},
        ),
        ("converter.delete", lambda: {"converter_id": got["converter.create"]["converter_id"]}),
        ("wayline.finish-upload", lambda: {"object_key": "wayline/peer.kmz", "name": "peer"}),
        ("wayline.list", lambda: {}),
        ("wayline.get", lambda: {"wayline_id": got["wayline.finish-upload"]["uuid"]}),
        ("wayline.find", lambda: {"name_or_id": "peer"}),
        (
            "task.create",
            lambda: {
                "name": "peer-task",
                "sn": dock,
                "wayline_uuid": got["wayline.finish-upload"]["uuid"],
                "task_type": "timed",
                "begin_at": 1_800_000_000,
            },
        ),
        ("task.update-status", lambda: {"task_uuid": task(), "status": "suspended"}),
        ("task.list", lambda: {"sn": dock, "begin_at": 0, "end_at": FAR}),
        ("task.get", lambda: {"task_uuid": task()}),
        ("task.media", lambda: {"task_uuid": task()}),
        ("task.track", lambda: {"task_uuid": task()}),
        (
            "model.create",
            lambda: {
                "name": "peer-model",
                "task_folder_id": got["task.get"]["folder_id"],
                "reconstruction_type": ["3d"],
                "generate_model_formats": ["b3dm"],
                "wkt": WKT,
            },
        ),
        ("model.list", lambda: {}),
        ("model.get", lambda: {"model_id": str(got["model.create"]["id"])}),
        (
            "annotation.create",
            lambda: {"name": "peer", "annotation_type": 0, "coordinates": [113.9, 22.5]},
        ),
        ("openmodel.obtain-token", lambda: {}),
        (
            "openmodel.upload-callback",
            lambda: {
                "resource_uuid": _batch(got),
                "callback_param": got["openmodel.obtain-token"]["callback_param"],
                "files": files,
            },
        ),
        (
            "openmodel.resource-get",
            lambda: {"resource_uuid": _batch(got)},
        ),
        (
            "openmodel.start",
            lambda: {
                "resource_uuid": _batch(got),
                "parameter_3d": "{}",
            },
        ),
        ("openmodel.running", lambda: {}),
        ("openmodel.get", lambda: {"model_uuid": got["openmodel.start"]["model_3d"]["uuid"]}),
        ("openmodel.stop", lambda: {"model_uuid": got["openmodel.start"]["model_3d"]["uuid"]}),
        ("openmodel.delete", lambda: {"model_uuid": got["openmodel.start"]["model_3d"]["uuid"]}),
        (
            "openmodel.resource-delete",
            lambda: {"resource_uuid": _batch(got)},
        ),
    ]


def main(info: dict[str, Any]) -> None:
    settings = Settings(
        token=info["token"], base_url=info["url"], project_uuid=info["project_uuid"], max_retries=0
    )
    client = FlightHub2Client(settings=settings)
    got: dict[str, Any] = {}
    steps = plan(info, got)
    assert sorted(name for name, _ in steps) == sorted(op.name for op in OPERATIONS)
    for name, arguments in steps:
        try:
            result = invoke(client, name, arguments(), allow_dangerous=True)
            got[name] = result
            print(json.dumps({"op": name, "ok": True, "error": None}), flush=True)
        except Exception as exc:  # every failure is a result here, with its type
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            print(json.dumps({"op": name, "ok": False, "error": error}), flush=True)
    client.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
