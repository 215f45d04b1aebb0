"""System, projects, devices and livestream start against the simulator
(docs/explanation/api-notes.md#system)."""

from __future__ import annotations

from typing import Any

import pytest
from _servers import first_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiodji
from aiodji.models import (
    CameraPosition,
    DeviceClass,
    DeviceCommand,
    DeviceHms,
    DevicePair,
    DeviceState,
    HmsLevel,
    LensType,
    LiveStream,
    MemberRole,
    Page,
    Project,
    StsToken,
    SystemStatus,
    VideoQuality,
)
from aiodji.serde import structure
from aiodji.sim import Simulator
from aiodji.sim.device_state import OPENAPI_HOLDER
from aiodji.sim.routes.devices import CODE_CONTROL_REQUIRED, CODE_CONTROL_TAKEN

pytestmark = pytest.mark.anyio

DRONE_CAMERA = "81-0-0"
DOCK_CAMERA = "165-0-7"


def pair_of(sim: Simulator, project: str) -> tuple[str, str]:
    """(dock sn, aircraft sn) of the project's first pair."""
    pair = sim.state.device_pairs(project)[0]
    assert pair.drone is not None
    return pair.gateway.sn, pair.drone.sn


async def raw_data(dji: aiodji.Client, path: str, project: str | None = None, **params: Any) -> Any:
    return await dji.request("GET", path, params=params or None, project_uuid=project)


# -- system ------------------------------------------------------------------------------------


async def test_system_status(sim: Simulator, dji: aiodji.Client) -> None:
    status = await dji.system.status()
    assert status == SystemStatus(healthy=True)
    assert sim.stats.by_route[("GET", "/openapi/v0.1/system_status")] == 1


async def test_system_status_raises_on_bad_token(sim: Simulator) -> None:
    async with aiodji.Client(token="not-the-token", base_url=sim.url) as dji:
        with pytest.raises(aiodji.AuthenticationError):
            await dji.system.status()


# -- projects ----------------------------------------------------------------------------------


async def test_projects_list_is_every_project_list_page_one_page(
    sim: Simulator, dji: aiodji.Client
) -> None:
    everything = await dji.projects.list(page_size=2)  # two requests
    assert [p.name for p in everything] == [p.name for p in sim.state.projects.values()]
    assert everything.total == 3 and not everything.has_more
    page = await dji.projects.list_page(page_size=2)
    assert isinstance(page, Page) and len(page) == 2 and page.page == 1 and page.has_more
    assert all(isinstance(p, Project) for p in page)
    first = page[0]
    expected = sim.state.projects[first.uuid]
    assert first.name == expected.name and first.org_uuid == sim.state.org_uuid
    assert first.project_work_center_point is not None
    assert first.project_work_center_point.latitude == expected.latitude
    assert first.created_at is not None and first.created_at.tzinfo is not None
    second = await dji.projects.list_page(2, page_size=2)
    assert len(second) == 1 and not second.has_more
    names = [p.name async for p in dji.projects.iter(page_size=2)]
    assert names == [p.name for p in sim.state.projects.values()]
    assert sim.stats.by_route[("GET", "/openapi/v0.1/project")] == 6


async def test_projects_list_filters_and_sorts(dji: aiodji.Client) -> None:
    found = await dji.projects.list(q="project 02")
    assert [p.name for p in found] == ["Project 02"]
    newest_first = await dji.projects.list(sort_column="created_at", sort_type="DESC")
    assert [p.name for p in newest_first] == ["Project 03", "Project 02", "Project 01"]
    authorized = await dji.projects.list(prj_authorized_status="project-status-authorized")
    assert len(authorized) == 3


async def test_projects_list_errors(dji: aiodji.Client) -> None:
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.projects.list_page(page=0)
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.projects.list(page_size=0)
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await dji.projects.list(sort_column="colour")
    assert exc.value.code == 200500


async def test_project_devices_and_iter_devices(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    p = dji.project(project)
    pairs = await p.projects.devices()
    assert len(pairs) == len(sim.state.device_pairs(project)) == 2
    pair = pairs[0]
    assert isinstance(pair, DevicePair) and pair.gateway is not None and pair.drone is not None
    assert pair.gateway.device_model is not None
    assert pair.gateway.device_model.device_class == DeviceClass.AIRPORT
    assert pair.drone.camera_indexes == [DRONE_CAMERA]
    first = await p.projects.devices_page(1, page_size=1)
    assert len(first) == 1 and first.has_more
    assert [x.drone.sn for x in await p.projects.devices(page_size=1) if x.drone] == [
        x.drone.sn for x in pairs if x.drone
    ]
    sns = [x.drone.sn async for x in p.projects.iter_devices(page_size=1) if x.drone]
    assert sns == [x.drone.sn for x in pairs if x.drone]


async def test_project_scoped_calls_need_a_project(sim: Simulator, dji: aiodji.Client) -> None:
    with pytest.raises(aiodji.ConfigError):
        await dji.projects.devices()
    with pytest.raises(aiodji.PermissionDeniedError):
        await dji.projects.devices(project_uuid="no-such-project")


async def test_sts_token_masks_secrets(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    sts = await dji.projects.sts_token(project_uuid=project)
    assert isinstance(sts, StsToken)
    grant = sim.state.device_ops.sts_grants[-1]
    assert sts.access_key_id == grant.access_key_id
    assert sts.access_key_secret == grant.access_key_secret
    assert sts.security_token == grant.security_token
    assert sts.object_key_prefix == grant.object_key_prefix and project in sts.object_key_prefix
    assert sts.expire and sts.expire > 0 and sts.bucket and sts.endpoint
    text = repr(sts)
    assert grant.access_key_secret not in text and grant.security_token not in text
    assert grant.access_key_id in text


async def test_add_member(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    p = dji.project(project)
    await p.projects.add_member("user-42", nickname="Ann")
    await p.projects.add_member("user-43", role=MemberRole.ADMIN)
    members = sim.state.device_ops.members[project]
    assert members["user-42"].role == "project-member" and members["user-42"].nickname == "Ann"
    assert members["user-43"].role == "project-admin"
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.projects.add_member("user-44", role="owner")
    assert exc.value.code == 200500 and "user-44" not in members
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.projects.add_member("  ")


# -- organization devices --------------------------------------------------------------------


async def test_org_devices_list_and_iter(sim: Simulator, dji: aiodji.Client) -> None:
    everything = await dji.devices.list()
    assert len(everything) == len(sim.state.device_pairs()) == 6
    assert everything.total == 6 and not everything.has_more
    server_default = await dji.devices.list_page()  # no page_size sent: the server decides
    assert server_default.page_size is None and len(server_default) == 6
    page = await dji.devices.list_page(2, page_size=4)
    assert len(page) == 2
    gateways = [pair.gateway.sn async for pair in dji.devices.iter(page_size=4) if pair.gateway]
    assert gateways == [pair.gateway.sn for pair in everything if pair.gateway]
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.devices.list(page_size=0)


async def test_unknown_enum_values_are_kept(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    dock_sn, drone_sn = pair_of(sim, project)
    dock = sim.state.devices[dock_sn]
    dock.device_model["class"] = "rc"
    assert dock.camera_list is not None
    dock.camera_list[0]["camera_position"] = "rooftop"
    drone = sim.state.devices[drone_sn]
    assert drone.camera_list is not None
    drone.camera_list[0]["lens_list"][0]["available_lens_types"].append("night")
    pair = (await dji.project(project).projects.devices())[0]
    assert pair.gateway is not None and pair.gateway.device_model is not None
    cls = pair.gateway.device_model.device_class
    assert cls == "rc" and isinstance(cls, DeviceClass) and not cls.known
    position = pair.gateway.cameras[0].camera_position
    assert position == "rooftop" and isinstance(position, CameraPosition)
    assert pair.drone is not None and pair.drone.camera_list is not None
    lens_list = pair.drone.camera_list[0].lens_list
    assert lens_list is not None and lens_list[0].available_lens_types[-1] == "night"
    assert isinstance(lens_list[0].available_lens_types[-1], LensType)


async def test_doc_example_int_camera_positions_are_accepted() -> None:
    camera = {
        "camera_index": DOCK_CAMERA,
        "camera_position": 0,
        "available_camera_positions": [0, 1],
    }
    pair = structure(
        {"gateway": {"sn": "X", "camera_list": [camera]}, "drone": None}, DevicePair, strict=True
    )
    assert pair.gateway.cameras[0].camera_position == 0
    assert pair.gateway.cameras[0].available_camera_positions == [0, 1]


# -- device management --------------------------------------------------------------------------


async def test_device_state_of_dock_and_drone(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    dock_sn, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    drone = await p.devices.state(drone_sn)
    assert isinstance(drone, DeviceState) and drone.sn == drone_sn
    assert "battery" in drone and 0 <= drone["battery"]["capacity_percent"] <= 100
    assert drone.mode_code == 0 and drone.firmware_version
    assert drone.latitude is not None and abs(drone.latitude - 22.5) < 1.1
    dock = await p.devices.state(dock_sn)
    assert "drone_in_dock" in dock and "battery" not in dock
    again = await p.devices.state(drone_sn)
    assert again.properties == drone.properties  # deterministic per device


async def test_device_state_unknown_or_foreign_device(sim: Simulator, dji: aiodji.Client) -> None:
    projects = list(sim.state.projects)
    _, other_drone = pair_of(sim, projects[1])
    p = dji.project(projects[0])
    with pytest.raises(aiodji.NotFoundError):
        await p.devices.state("NO-SUCH-SN")
    with pytest.raises(aiodji.NotFoundError):
        await p.devices.state(other_drone)  # exists, but in another project
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.devices.state("")


async def test_hms(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    dock_sn, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    reports = await p.devices.hms([drone_sn, dock_sn])
    assert [r.device_sn for r in reports] == [drone_sn, dock_sn]
    assert all(isinstance(r, DeviceHms) for r in reports)
    items = [item for r in reports for item in r.items]
    assert items, "the simulator seeds messages for these devices"
    assert all(isinstance(i.level, HmsLevel) and i.code and i.message for i in items)
    single = await p.devices.hms(drone_sn)
    assert single[0].items == reports[0].items
    with pytest.raises(aiodji.NotFoundError):
        await p.devices.hms([drone_sn, "NO-SUCH-SN"])
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.devices.hms([])
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.devices.hms(["A,B"])


async def test_command(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    await p.devices.command(drone_sn, DeviceCommand.RETURN_HOME)
    await p.devices.command(drone_sn, "flighttask_pause")
    assert sim.state.device_ops.commands[drone_sn] == ["return_home", "flighttask_pause"]
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.command(drone_sn, "do_a_barrel_roll")
    assert exc.value.code == 200500
    with pytest.raises(aiodji.NotFoundError):
        await p.devices.command("NO-SUCH-SN", "return_home")


async def test_change_camera(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    dock_sn, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    await p.devices.change_camera(dock_sn, DOCK_CAMERA, CameraPosition.INDOOR)
    pair = (await p.projects.devices())[0]
    assert pair.gateway is not None and pair.gateway.cameras[0].camera_position == "indoor"
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.change_camera(dock_sn, DOCK_CAMERA, "sideways")
    assert exc.value.code == 200500
    with pytest.raises(aiodji.APIBusinessError):
        await p.devices.change_camera(drone_sn, DRONE_CAMERA, "indoor")  # not a dock


async def test_control_lens_and_quality(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    ops = sim.state.device_ops
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.change_lens(drone_sn, DRONE_CAMERA, LensType.ZOOM)
    assert exc.value.code == CODE_CONTROL_REQUIRED
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.set_video_quality(drone_sn, DRONE_CAMERA, VideoQuality.SMOOTH)
    assert exc.value.code == CODE_CONTROL_REQUIRED

    await p.devices.acquire_control(drone_sn, [DRONE_CAMERA])
    assert ops.holder(drone_sn, DRONE_CAMERA) == OPENAPI_HOLDER
    await p.devices.change_lens(drone_sn, DRONE_CAMERA, "ir")
    await p.devices.set_video_quality(drone_sn, DRONE_CAMERA, "ultra_high_definition")
    drone = sim.state.devices[drone_sn]
    assert drone.camera_list is not None
    assert drone.camera_list[0]["lens_list"][0]["lens_type"] == "ir"
    assert ops.quality[(drone_sn, DRONE_CAMERA)] == "ultra_high_definition"
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.set_video_quality(drone_sn, DRONE_CAMERA, "4k")
    assert exc.value.code == 200500

    await p.devices.release_control(drone_sn, DRONE_CAMERA)
    assert ops.holder(drone_sn, DRONE_CAMERA) is None
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.change_lens(drone_sn, DRONE_CAMERA, "wide")
    assert exc.value.code == CODE_CONTROL_REQUIRED


async def test_control_held_by_someone_else(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    sim.state.device_ops.controls[(drone_sn, DRONE_CAMERA)] = "pilot-rc"
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.acquire_control(drone_sn, [DRONE_CAMERA])
    assert exc.value.code == CODE_CONTROL_TAKEN
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.release_control(drone_sn, [DRONE_CAMERA])
    assert exc.value.code == CODE_CONTROL_TAKEN
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await p.devices.acquire_control(drone_sn, ["99-0-0"])  # no such payload
    assert exc.value.code == 200500
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.devices.acquire_control(drone_sn, [])


async def test_video_quality_accepts_the_other_field_name(
    sim: Simulator, dji: aiodji.Client
) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    p = dji.project(project)
    await p.devices.acquire_control(drone_sn, DRONE_CAMERA)
    body = {"sn": drone_sn, "camera_index": DRONE_CAMERA, "quality_type": "smooth"}
    await dji.request("PUT", "/openapi/v0.1/device/stream/quality", json=body, project_uuid=project)
    assert sim.state.device_ops.quality[(drone_sn, DRONE_CAMERA)] == "smooth"


async def test_dock_camera_quality_needs_no_control(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    dock_sn, _ = pair_of(sim, project)
    await dji.project(project).devices.set_video_quality(dock_sn, DOCK_CAMERA, "smooth")
    assert sim.state.device_ops.quality[(dock_sn, DOCK_CAMERA)] == "smooth"
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await dji.project(project).devices.set_video_quality(dock_sn, "1-2-3", "smooth")
    assert exc.value.code == 200500


async def test_rtk_calibration_keeps_the_password_out_of_reprs(
    sim: Simulator, dji: aiodji.Client
) -> None:
    project = first_project(sim)
    dock_sn, _ = pair_of(sim, project)
    p = dji.project(project)
    secret = "ntrip-secret-pw"
    await p.devices.rtk_calibration(
        dock_sn,
        host="rtk.example.test",
        port=2101,
        account="acc",
        password=secret,
        mount_point="RTCM33",
    )
    saved = sim.state.device_ops.rtk[dock_sn]
    assert (saved.host, saved.port, saved.password, saved.mount_point) == (
        "rtk.example.test",
        2101,
        secret,
        "RTCM33",
    )
    model = aiodji.models.RtkCalibration("h", 1, "a", secret, "m")
    assert secret not in repr(model)
    state = await p.devices.state(dock_sn)
    assert state["rtk_calibration"]["host"] == "rtk.example.test"
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.devices.rtk_calibration(
            dock_sn, host="h", port=70000, account="a", password="p", mount_point="m"
        )
    with pytest.raises(aiodji.NotFoundError):
        await p.devices.rtk_calibration(
            "NO-SUCH-SN", host="h", port=2101, account="a", password="p", mount_point="m"
        )


async def test_path_params_are_encoded(sim: Simulator, dji: aiodji.Client) -> None:
    p = dji.project(first_project(sim))
    with pytest.raises(aiodji.NotFoundError):
        await p.devices.state("../project")
    assert ("GET", "/openapi/v0.1/device/{device_sn}/state") in sim.stats.by_route


# -- livestream ----------------------------------------------------------------------------------


async def test_livestream_start(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    stream = await dji.project(project).livestream.start(
        drone_sn, DRONE_CAMERA, video_expire=600, quality_type=VideoQuality.SMOOTH
    )
    assert isinstance(stream, LiveStream) and stream.url_type == "volc"
    grant = sim.state.device_ops.live_streams[(drone_sn, DRONE_CAMERA)]
    assert grant.quality_type == "smooth" and stream.expire_ts == grant.expire_ts
    params = stream.url_params()
    assert params["token"] == grant.token and params["room_id"] == grant.room_id
    assert grant.token not in repr(stream) and "***" in repr(stream)


async def test_livestream_start_errors(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    dock_sn, drone_sn = pair_of(sim, project)
    live = dji.project(project).livestream
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await live.start(drone_sn, "99-0-0")
    assert exc.value.code == 213014
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await live.start("NO-SUCH-SN", DRONE_CAMERA)
    assert exc.value.code == 213014
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await live.start(drone_sn, DRONE_CAMERA, quality_type="8k")
    assert exc.value.code == 200500
    sim.state.devices[dock_sn].device_online_status = False
    with pytest.raises(aiodji.APIBusinessError) as exc:
        await live.start(dock_sn, DOCK_CAMERA)
    assert exc.value.code == 213001
    with pytest.raises(aiodji.InvalidArgumentError):
        await live.start(drone_sn, DRONE_CAMERA, video_expire=0)
    with pytest.raises(aiodji.ConfigError):
        await dji.livestream.start(drone_sn, DRONE_CAMERA)


async def test_raw_response_for_a_device_call(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    raw = await dji.with_raw_response.project(project).devices.state(drone_sn)
    assert raw.status == 200 and raw.request_id
    assert raw.parse().sn == drone_sn


# -- strict contract: every reply of these endpoints fits its model exactly ---------------------


async def test_simulator_replies_fit_the_models_strictly(
    sim: Simulator, dji: aiodji.Client
) -> None:
    project = first_project(sim)
    dock_sn, drone_sn = pair_of(sim, project)
    projects = await raw_data(dji, "/openapi/v0.1/project")
    assert structure(projects["list"], list[Project], strict=True)
    org = await raw_data(dji, "/openapi/v0.1/device")
    assert structure(org["list"], list[DevicePair], strict=True)
    devices = await raw_data(dji, "/openapi/v0.1/project/device", project)
    assert structure(devices["list"], list[DevicePair], strict=True)
    sts = await raw_data(dji, "/openapi/v0.1/project/sts-token", project)
    assert structure(sts, StsToken, strict=True).credentials is not None
    hms = await raw_data(
        dji, "/openapi/v0.1/device/hms", project, device_sn_list=f"{drone_sn},{dock_sn}"
    )
    assert len(structure(hms["list"], list[DeviceHms], strict=True)) == 2
    body = {"sn": drone_sn, "camera_index": DRONE_CAMERA, "video_expire": 60}
    live = await dji.request(
        "POST", "/openapi/v0.1/live-stream/start", json=body, project_uuid=project
    )
    assert structure(live, LiveStream, strict=True).expire_ts
    assert await dji.request("GET", "/openapi/v0.1/system_status") is None


# -- the simulator's device routes answer bad bodies with an envelope, never a crash ----------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_FIELDS = (
    "sn",
    "camera_index",
    "camera_position",
    "lens_type",
    "payload_index",
    "quality",
    "quality_type",
    "device_command",
    "host",
    "port",
    "account",
    "password",
    "mount_point",
    "video_expire",
    "user_id",
    "role",
    "nickname",
)
_WRITES = (
    ("POST", "/openapi/v0.1/device/change-camera"),
    ("POST", "/openapi/v0.1/device/change-lens"),
    ("POST", "/openapi/v0.1/device/control"),
    ("DELETE", "/openapi/v0.1/device/control"),
    ("PUT", "/openapi/v0.1/device/stream/quality"),
    ("POST", "/openapi/v0.1/device/{sn}/command"),
    ("POST", "/openapi/v0.1/device/{sn}/rtk"),
    ("POST", "/openapi/v0.1/live-stream/start"),
    ("PUT", "/openapi/v0.1/project/member"),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(_WRITES),
    body=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=6) | _JSON,
)
async def test_bad_bodies_get_business_errors(
    sim: Simulator, dji: aiodji.Client, route: tuple[str, str], body: Any
) -> None:
    project = first_project(sim)
    _, drone_sn = pair_of(sim, project)
    method, path = route
    client = dji.with_options(max_retries=0)
    try:
        await client.request(method, path.format(sn=drone_sn), json=body, project_uuid=project)
    except aiodji.APIBusinessError as exc:
        assert exc.code in {
            200404,
            200500,
            213001,
            213014,
            CODE_CONTROL_REQUIRED,
            CODE_CONTROL_TAKEN,
        }
