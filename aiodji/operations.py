"""The one table of every FlightHub 2 OpenAPI operation aiodji wraps.

Each row names an operation, its HTTP method and path template (as in ``fh2-openapi.yaml``, under
the ``/openapi/v0.1`` prefix), the SDK method that calls it (a dotted attribute path on ``Client``),
whether it needs ``X-Project-Uuid``, and how risky it is to call. The CLI (``aiodji call``,
``aiodji schema``), the MCP server and the tests read this table; nothing else lists operations.
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from aiodji.config import API_PREFIX

__all__ = ["API_PREFIX", "OPERATIONS", "Operation", "Risk", "operation", "operations_by_risk"]

Risk = Literal["read", "write", "dangerous", "secret"]
"""``read``: no side effect. ``write``: creates or changes records. ``dangerous``: deletes, moves
hardware (device control, RTK) or starts/stops flights; a tool should ask before calling it.
``secret``: the reply carries credentials (storage STS keys, upload tokens); a tool offers it
only when secrets are explicitly allowed."""


@attrs.frozen
class Operation:
    """One documented API operation."""

    name: str  # "converters.create": stable id for CLI / MCP
    method: str  # "GET" | "POST" | "PUT" | "DELETE"
    path: str  # template as in fh2-openapi.yaml, e.g. "/live-stream/converter/{converter_id}"
    # dotted attribute path on Client, e.g. "livestream.converters.create"; a list operation
    # maps to its one-request ``list_page`` (``page``/``page_size`` arguments), not to the
    # ``list()`` that walks every page
    sdk_method: str
    project_scoped: bool  # sends X-Project-Uuid
    risk: Risk
    summary: str

    @property
    def full_path(self) -> str:
        """The path template with the ``/openapi/v0.1`` prefix."""
        return API_PREFIX + self.path

    @property
    def path_params(self) -> tuple[str, ...]:
        """The ``{names}`` in the path template, in order."""
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{"))


def _op(
    name: str,
    method: str,
    path: str,
    sdk_method: str,
    risk: Risk,
    summary: str,
    *,
    scoped: bool = True,
) -> Operation:
    return Operation(name, method, path, sdk_method, scoped, risk, summary)


OPERATIONS: Final[tuple[Operation, ...]] = (
    # system and organization (no project header)
    _op("system.status", "GET", "/system_status", "system.status", "read",
        "Query FlightHub 2 system status", scoped=False),
    _op("projects.list", "GET", "/project", "projects.list_page", "read",
        "List projects in the organization", scoped=False),
    _op("devices.list", "GET", "/device", "devices.list_page", "read",
        "List devices in the organization", scoped=False),
    # project
    _op("projects.devices", "GET", "/project/device", "projects.devices_page", "read",
        "List devices in a project"),
    _op("projects.sts_token", "GET", "/project/sts-token", "projects.sts_token", "secret",
        "Get project storage upload (STS) credentials"),
    _op("projects.add_member", "PUT", "/project/member", "projects.add_member", "write",
        "Add (upsert) members of a project"),
    # devices
    _op("devices.state", "GET", "/device/{device_sn}/state", "devices.state", "read",
        "Get a device's thing model (state)"),
    _op("devices.hms", "GET", "/device/hms", "devices.hms", "read",
        "Get HMS (health) messages of devices"),
    _op("devices.command", "POST", "/device/{device_sn}/command", "devices.command", "dangerous",
        "Real-time flight command (return home, pause, resume)"),
    _op("devices.change_camera", "POST", "/device/change-camera", "devices.change_camera",
        "dangerous", "Switch a dock camera indoor/outdoor"),
    _op("devices.change_lens", "POST", "/device/change-lens", "devices.change_lens", "dangerous",
        "Switch an aircraft lens (needs payload control)"),
    _op("devices.acquire_control", "POST", "/device/control", "devices.acquire_control",
        "dangerous", "Acquire payload control"),
    _op("devices.release_control", "DELETE", "/device/control", "devices.release_control",
        "dangerous", "Release payload control"),
    _op("devices.set_video_quality", "PUT", "/device/stream/quality", "devices.set_video_quality",
        "dangerous", "Set video transmission quality (needs payload control)"),
    _op("devices.rtk_calibration", "POST", "/device/{device_sn}/rtk", "devices.rtk_calibration",
        "dangerous", "Custom network RTK calibration"),
    # livestream
    _op("livestream.start", "POST", "/live-stream/start", "livestream.start", "write",
        "Start a livestream"),
    _op("converters.create", "POST", "/live-stream/converter", "livestream.converters.create",
        "write", "Create a stream converter (private cloud only)"),
    _op("converters.list", "GET", "/live-stream/converter", "livestream.converters.list_page",
        "read", "List stream converters (private cloud only)"),
    _op("converters.set_enabled", "PUT", "/live-stream/converter/{converter_id}",
        "livestream.converters.set_enabled", "write",
        "Enable or disable a stream converter (private cloud only)"),
    _op("converters.delete", "DELETE", "/live-stream/converter/{converter_id}",
        "livestream.converters.delete", "dangerous",
        "Delete a stream converter (private cloud only)"),
    # flight tasks
    _op("tasks.create", "POST", "/flight-task", "tasks.create", "dangerous",
        "Create a flight task (may fly a drone)"),
    _op("tasks.list", "GET", "/flight-task/list", "tasks.list_page", "read", "List flight tasks"),
    _op("tasks.get", "GET", "/flight-task/{task_uuid}", "tasks.get", "read",
        "Get a flight task"),
    _op("tasks.update_status", "PUT", "/flight-task/{task_uuid}/status", "tasks.update_status",
        "dangerous", "Suspend or restore a flight task"),
    _op("tasks.media", "GET", "/flight-task/{task_uuid}/media", "tasks.media", "read",
        "Media produced by a flight task"),
    _op("tasks.track", "GET", "/flight-task/{task_uuid}/track", "tasks.track", "read",
        "Trajectory of a flight task"),
    # waylines
    _op("waylines.finish_upload", "POST", "/wayline/finish-upload", "waylines.finish_upload",
        "write", "Register an uploaded wayline KMZ"),
    _op("waylines.list", "GET", "/wayline", "waylines.list_page", "read", "List waylines"),
    _op("waylines.get", "GET", "/wayline/{wayline_id}", "waylines.get", "read",
        "Get a wayline"),
    # 3D models
    _op("models3d.list", "GET", "/model", "models3d.list_page", "read", "List 3D models"),
    _op("models3d.create", "POST", "/model/create", "models3d.create", "write",
        "Reconstruct a 3D model from a task's media (async)"),
    _op("models3d.get", "GET", "/model/{model_id}", "models3d.get", "read", "Get a 3D model"),
    # map annotations
    _op("annotations.create", "POST", "/map/element", "annotations.create", "write",
        "Create a map annotation (point, line, polygon)"),
    # open modeling (docs/explanation/api-notes.md#open-modeling): the live client sent no project
    # header
    _op("open_models.obtain_token", "POST", "/open_model/stores/obtain_token",
        "open_models.obtain_token", "secret",
        "Obtain upload credentials for an open-modeling batch", scoped=False),
    _op("open_models.upload_callback", "POST", "/open_model/stores/upload_callback",
        "open_models.upload_callback", "write",
        "Report the files uploaded to an open-modeling batch", scoped=False),
    _op("open_models.get_resource", "GET", "/open_model/resource/{resource_uuid}",
        "open_models.get_resource", "read",
        "Get an uploaded open-modeling resource", scoped=False),
    _op("open_models.delete_resource", "DELETE", "/open_model/resource/{resource_uuid}",
        "open_models.delete_resource", "dangerous",
        "Delete an uploaded open-modeling resource", scoped=False),
    _op("open_models.start", "POST", "/open_model/models/reconstruction/start",
        "open_models.start", "write",
        "Start reconstruction jobs on an uploaded resource", scoped=False),
    _op("open_models.stop", "POST", "/open_model/models/{model_uuid}/reconstruction/stop",
        "open_models.stop", "dangerous", "Stop a running reconstruction", scoped=False),
    _op("open_models.get", "GET", "/open_model/models/{model_uuid}", "open_models.get", "read",
        "Get an open-modeling job", scoped=False),
    _op("open_models.delete", "DELETE", "/open_model/models/{model_uuid}",
        "open_models.delete", "dangerous",
        "Delete an open-modeling model (stops it if running)", scoped=False),
    _op("open_models.running", "GET", "/open_model/models/running", "open_models.running",
        "read", "List running open-modeling jobs", scoped=False),
)  # fmt: skip

_BY_NAME: Final[dict[str, Operation]] = {op.name: op for op in OPERATIONS}


def operation(name: str) -> Operation:
    """The operation called ``name`` (e.g. ``"converters.create"``); ``KeyError`` if unknown."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}; see aiodji.operations.OPERATIONS") from None


def operations_by_risk(*risks: Risk) -> tuple[Operation, ...]:
    """The operations whose risk is one of ``risks`` (e.g. ``"read"`` for a read-only tool)."""
    return tuple(op for op in OPERATIONS if op.risk in risks)
