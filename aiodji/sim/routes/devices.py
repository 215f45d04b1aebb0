"""Device management: thing model, HMS, commands, camera/lens, control, quality, RTK.

Error codes where the docs give none (invented for the simulator, documented here):
200404 for a serial number that is not in the project; 200500 for a missing field or a value
outside its enum; ``CODE_CONTROL_REQUIRED`` when a lens or quality change comes without payload
control; ``CODE_CONTROL_TAKEN`` when someone else (a pilot's remote controller) holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..device_state import DEVICE_COMMANDS, OPENAPI_HOLDER, QUALITIES, RtkSettings
from ..envelope import (
    CODE_BAD_REQUEST,
    CODE_NOT_FOUND,
    ApiError,
    ok,
    project_of,
    project_scoped,
    read_json,
    required_str,
)
from ..state import Device

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["CODE_CONTROL_REQUIRED", "CODE_CONTROL_TAKEN", "register"]

BASE: Final = "/openapi/v0.1/device"
CODE_CONTROL_REQUIRED: Final = 219001  # invented: payload control not acquired
CODE_CONTROL_TAKEN: Final = 219002  # invented: payload control held by another client
_CAMERA_POSITIONS: Final = frozenset({"indoor", "outdoor"})


def _choice(body: dict[str, Any], key: str, allowed: frozenset[str] | tuple[str, ...]) -> str:
    value = required_str(body, key)
    if value not in allowed:
        raise ApiError(CODE_BAD_REQUEST, f"invalid parameter: {key}")
    return value


# Request names where the documentation and another client disagree (neither live-verified):
# the documented one first. Both are accepted; ``sim.stats.request_names`` counts which came.
COMMAND_NAMES: Final = ("device_command", "command")
CONTROL_SN_NAMES: Final = ("sn", "drone_sn")


def _either(body: dict[str, Any], names: tuple[str, ...], area: str, seen: Any) -> str:
    """The value under the first of ``names`` present, counted as ``"<area>.<name>"``."""
    for name in names:
        if name in body:
            seen[f"{area}.{name}"] += 1
            return required_str(body, name)
    return required_str(body, names[0])  # the error names the documented field


def _camera(device: Device, camera_index: str) -> dict[str, Any]:
    for cam in device.camera_list or ():
        if cam.get("camera_index") == camera_index:
            return cam
    raise ApiError(CODE_BAD_REQUEST, "invalid parameter: camera_index")


def register(app: web.Application, sim: Simulator) -> None:
    ops = sim.state.device_ops

    def device(request: web.Request, sn: str) -> Device:
        dev = sim.state.device_in_project(project_of(request), sn)
        if dev is None:
            raise ApiError(CODE_NOT_FOUND, f"device {sn} not found in this project")
        return dev

    def drone(request: web.Request, sn: str) -> Device:
        dev = device(request, sn)
        if dev.is_gateway:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: sn is not an aircraft")
        return dev

    def require_control(sn: str, camera_index: str) -> None:
        if not ops.holds(sn, camera_index):
            raise ApiError(CODE_CONTROL_REQUIRED, "payload control not acquired")

    @project_scoped
    async def state(request: web.Request) -> web.StreamResponse:
        dev = device(request, request.match_info["device_sn"])
        project = sim.state.projects[project_of(request)]
        model = ops.thing_model(dev, project.latitude, project.longitude)
        # the wrapped form of docs/explanation/api-notes.md#live; the other instances answer flat
        if sim.state.v1_names:
            return ok(
                {"device_sn": dev.sn, "device_model": dict(dev.device_model), "device_state": model}
            )
        return ok(model)

    @project_scoped
    async def hms(request: web.Request) -> web.StreamResponse:
        raw = request.query.get("device_sn_list", "")
        sns = [s for s in (part.strip() for part in raw.split(",")) if s]
        if not sns:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: device_sn_list")
        devices = [device(request, sn) for sn in dict.fromkeys(sns)]
        return ok(
            {
                "list": [
                    {"device_sn": dev.sn, "device_hms": {"list": ops.hms_of(dev)}}
                    for dev in devices
                ]
            }
        )

    @project_scoped
    async def command(request: web.Request) -> web.StreamResponse:
        dev = device(request, request.match_info["device_sn"])
        body = await read_json(request)
        cmd = _either(body, COMMAND_NAMES, "command", sim.stats.request_names)
        if cmd not in DEVICE_COMMANDS:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: device_command")
        ops.commands.setdefault(dev.sn, []).append(cmd)
        return ok(omit_data=True)

    @project_scoped
    async def change_camera(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        dev = device(request, required_str(body, "sn"))
        if not dev.is_gateway:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: sn is not a dock")
        cam = _camera(dev, required_str(body, "camera_index"))
        cam["camera_position"] = _choice(body, "camera_position", _CAMERA_POSITIONS)
        return ok(omit_data=True)

    @project_scoped
    async def change_lens(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        dev = drone(request, required_str(body, "sn"))
        camera_index = required_str(body, "camera_index")
        cam = _camera(dev, camera_index)
        lens = required_str(body, "lens_type")
        lenses = cam.get("lens_list") or [{}]
        if lens not in lenses[0].get("available_lens_types", ()):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: lens_type")
        require_control(dev.sn, camera_index)
        lenses[0]["lens_type"] = lens
        return ok(omit_data=True)

    async def control_target(request: web.Request) -> tuple[Device, list[str]]:
        body = await read_json(request)
        dev = drone(request, _either(body, CONTROL_SN_NAMES, "control", sim.stats.request_names))
        payloads = body.get("payload_index")
        if not isinstance(payloads, list) or not payloads:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: payload_index")
        for index in payloads:
            if not isinstance(index, str):
                raise ApiError(CODE_BAD_REQUEST, "invalid parameter: payload_index")
            _camera(dev, index)
        return dev, payloads

    def check_not_taken(sn: str, payloads: list[str]) -> None:
        for index in payloads:
            holder = ops.holder(sn, index)
            if holder is not None and holder != OPENAPI_HOLDER:
                raise ApiError(CODE_CONTROL_TAKEN, f"payload {index} is controlled by {holder}")

    @project_scoped
    async def acquire_control(request: web.Request) -> web.StreamResponse:
        dev, payloads = await control_target(request)
        check_not_taken(dev.sn, payloads)
        for index in payloads:
            ops.controls[(dev.sn, index)] = OPENAPI_HOLDER
        dock = next(
            (p.gateway.sn for p in sim.state.device_pairs(dev.project_uuid) if p.drone is dev), ""
        )
        # gateway and user are objects in the reference another client was built from; their
        # keys are not documented (these are the simulator's)
        held = [
            {"type": "payload", "gateway": {"sn": dock}, "user": {"user_id": OPENAPI_HOLDER},
             "payload_index": index}
            for index in payloads
        ]  # fmt: skip
        return ok({"drone_sn": dev.sn, "controls": held})

    @project_scoped
    async def release_control(request: web.Request) -> web.StreamResponse:
        dev, payloads = await control_target(request)
        check_not_taken(dev.sn, payloads)
        for index in payloads:
            ops.controls.pop((dev.sn, index), None)  # releasing a free payload is a no-op
        return ok(omit_data=True)

    @project_scoped
    async def stream_quality(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        dev = device(request, required_str(body, "sn"))
        camera_index = required_str(body, "camera_index")
        _camera(dev, camera_index)
        # live clients send quality_type (docs/explanation/api-notes.md#live); the older V1
        # comment's "quality" is accepted
        key = "quality_type" if "quality_type" in body else "quality"
        quality = _choice(body, key, QUALITIES)
        # control is taken on aircraft payloads only (docs/explanation/api-notes.md#devices)
        if not dev.is_gateway:
            require_control(dev.sn, camera_index)
        ops.quality[(dev.sn, camera_index)] = quality
        return ok(omit_data=True)

    @project_scoped
    async def rtk(request: web.Request) -> web.StreamResponse:
        dev = device(request, request.match_info["device_sn"])
        body = await read_json(request)
        port = body.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: port")
        ops.rtk[dev.sn] = RtkSettings(
            host=required_str(body, "host"),
            port=port,
            account=required_str(body, "account"),
            password=required_str(body, "password"),
            mount_point=required_str(body, "mount_point"),
        )
        # docs/explanation/api-notes.md#live reply shape
        return ok({"bid": sim.state.new_uuid(), "status": "ok"})

    router = app.router
    router.add_get(BASE + "/hms", hms)
    router.add_post(BASE + "/change-camera", change_camera)
    router.add_post(BASE + "/change-lens", change_lens)
    router.add_post(BASE + "/control", acquire_control)
    router.add_delete(BASE + "/control", release_control)
    router.add_put(BASE + "/stream/quality", stream_quality)
    router.add_get(BASE + "/{device_sn}/state", state)
    router.add_post(BASE + "/{device_sn}/command", command)
    router.add_post(BASE + "/{device_sn}/rtk", rtk)
