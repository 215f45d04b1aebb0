"""Flight tasks, waylines, 3D models and map annotations against the simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from _servers import first_project

import aiodji
from aiodji.models import (
    FlightTask,
    FlightTaskCreate,
    Geometry,
    Page,
    TaskStatus,
    TaskType,
    WaylineTemplateType,
)
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

WIDE_WINDOW = {"begin_at": 0, "end_at": 4_102_444_800}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=2, docks_per_project=2, converters_per_project=0) as sim:
        yield sim


@pytest.fixture
async def dji(sim: Simulator) -> AsyncIterator[aiodji.Client]:
    async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=0) as client:
        yield client


def project_of(sim: Simulator) -> str:
    return next(iter(sim.state.projects))


def dock_of(sim: Simulator, project: str) -> str:
    return sim.state.device_pairs(project)[0].gateway.sn


def wayline_of(sim: Simulator, project: str) -> str:
    return sim.state.missions.project_waylines(project)[0].id


# ---- flight tasks ----------------------------------------------------------------------------


async def test_task_lifecycle_media_and_track(sim: Simulator, dji: aiodji.Client) -> None:
    project = project_of(sim)
    p = dji.project(project)
    dock = dock_of(sim, project)
    created = await p.tasks.create(
        name="patrol",
        wayline_uuid=wayline_of(sim, project),
        sn=dock,
        task_type="immediate",
        rth_altitude=100,
        rth_mode="optimal",
        wayline_precision_type="rtk",
        out_of_control_action_in_flight="return_home",
        resumable_status="auto",
    )
    assert created.uuid in sim.state.missions.tasks
    assert sim.state.missions.tasks[created.uuid].body["rth_altitude"] == 100

    assert await p.tasks.media(created.uuid) == []  # nothing flown yet
    seen = [(await p.tasks.get(created.uuid)).status for _ in range(4)]
    assert seen == [TaskStatus.WAITING, TaskStatus.EXECUTING, TaskStatus.SUCCESS, "success"]

    task = await p.tasks.get(created.uuid)
    assert isinstance(task, FlightTask) and task.name == "patrol" and task.sn == dock
    assert task.task_type is TaskType.IMMEDIATE and task.folder_info is not None
    assert task.folder_info.complete and task.folder_info.expected_file_count == 4

    media = await p.tasks.media(created.uuid)
    assert len(media) == 4 and all(m.original_url and m.preview_url for m in media)
    assert "signature" not in repr(media[0])  # signed URLs masked in repr
    track = await p.tasks.track(created.uuid)
    assert len(track.points) > 2 and track.distance and track.distance > 0
    assert track.duration and track.duration > 0
    assert track.drone_sn == sim.state.device_pairs(project)[0].drone.sn


async def test_task_suspend_and_restore(sim: Simulator, dji: aiodji.Client) -> None:
    project = project_of(sim)
    p = dji.project(project)
    begin = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    created = await p.tasks.create(
        FlightTaskCreate(
            name="timed",
            wayline_uuid=wayline_of(sim, project),
            sn=dock_of(sim, project),
            task_type=TaskType.TIMED,
            begin_at=int(begin.timestamp()),
        )
    )
    await p.tasks.suspend(created.uuid)
    sim.state.missions.tick()  # a suspended task does not start
    suspended = await p.tasks.get(created.uuid)
    assert suspended.status is TaskStatus.SUSPENDED
    assert suspended.begin_at == begin  # sent as an RFC 3339 string, read as a datetime
    with pytest.raises(aiodji.APIBusinessError) as err:  # already suspended
        await p.tasks.update_status(created.uuid, "suspended")
    assert err.value.code == 200500
    await p.tasks.update_status(created.uuid, "restored")
    assert (await p.tasks.get(created.uuid)).status is TaskStatus.WAITING
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.tasks.update_status(created.uuid, "paused")


async def test_task_list_filters_and_pages(sim: Simulator, dji: aiodji.Client) -> None:
    project = project_of(sim)
    p = dji.project(project)
    dock = dock_of(sim, project)
    other_dock = sim.state.device_pairs(project)[1].gateway.sn
    line = wayline_of(sim, project)
    for i in range(7):
        await p.tasks.create(
            name=f"t{i}",
            wayline_uuid=line,
            sn=dock,
            task_type="timed",
            begin_at=1_800_000_000 + i * 3_600,
        )
    await p.tasks.create(
        name="elsewhere",
        wayline_uuid=line,
        sn=other_dock,
        task_type="timed",
        begin_at=1_800_000_000,
    )
    page = await p.tasks.list_page(sn=dock, **WIDE_WINDOW, page_size=3)
    assert isinstance(page, Page) and len(page) == 3 and page.total == 7 and page.has_more
    everything = await p.tasks.list(sn=dock, **WIDE_WINDOW, page_size=3)
    assert sorted(t.name for t in everything) == [f"t{i}" for i in range(7)]
    names = [t.name async for t in p.tasks.iter(sn=dock, **WIDE_WINDOW, page_size=3)]
    assert sorted(names) == [f"t{i}" for i in range(7)]
    window = await p.tasks.list(sn=dock, begin_at=1_800_000_000, end_at=1_800_000_000 + 3_600)
    assert {t.name for t in window} == {"t0", "t1"}
    assert [t.name for t in await p.tasks.list(sn=dock, **WIDE_WINDOW, name="t6")] == ["t6"]
    assert await p.tasks.list(sn=dock, **WIDE_WINDOW, status="success") == []
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.tasks.list(sn=dock, begin_at=10, end_at=5)


async def test_task_errors(sim: Simulator, dji: aiodji.Client) -> None:
    project = project_of(sim)
    p = dji.project(project)
    dock = dock_of(sim, project)
    with pytest.raises(aiodji.NotFoundError) as nf:
        await p.tasks.get("no-such-task")
    assert isinstance(nf.value, aiodji.APIBusinessError) and nf.value.code == 200404
    with pytest.raises(aiodji.NotFoundError):
        await p.tasks.create(name="x", wayline_uuid="nope", sn=dock, task_type="immediate")
    with pytest.raises(aiodji.APIBusinessError) as bad:  # not a dock of this project
        await p.tasks.create(
            name="x", wayline_uuid=wayline_of(sim, project), sn="NOPE", task_type="immediate"
        )
    assert bad.value.code == 200500
    with pytest.raises(aiodji.APIBusinessError) as bad_sn:
        await p.request("GET", "/openapi/v0.1/flight-task/list", params={"begin_at": 0})
    assert bad_sn.value.code == 200500
    with pytest.raises(aiodji.InvalidArgumentError):  # timed without begin_at
        await p.tasks.create(name="x", wayline_uuid="w", sn=dock, task_type="timed")
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.tasks.get("")
    with pytest.raises(aiodji.ConfigError):
        await dji.tasks.get("x")  # project-scoped


async def test_another_projects_resources_are_not_found(sim: Simulator, dji: aiodji.Client) -> None:
    # a task, wayline or model of project A is, seen from project B, as unknown as a missing one
    mine, other = list(sim.state.projects)
    a, b = dji.project(mine), dji.project(other)
    line = wayline_of(sim, mine)
    task = await a.tasks.create(
        name="x", wayline_uuid=line, sn=dock_of(sim, mine), task_type="immediate"
    )
    model = await a.models3d.create(name="Site", reconstruction_type=["3d"], quality="high")
    with pytest.raises(aiodji.NotFoundError, match="flight task not found"):
        await b.tasks.get(task.uuid)
    with pytest.raises(aiodji.NotFoundError, match="wayline not found"):
        await b.waylines.get(line)
    with pytest.raises(aiodji.NotFoundError, match="wayline not found"):
        await b.tasks.create(
            name="x", wayline_uuid=line, sn=dock_of(sim, other), task_type="immediate"
        )
    with pytest.raises(aiodji.NotFoundError, match="model not found"):
        await b.models3d.get(model.id)


# ---- waylines --------------------------------------------------------------------------------


async def test_waylines_upload_list_detail(sim: Simulator, dji: aiodji.Client) -> None:
    project = project_of(sim)
    p = dji.project(project)
    before = await p.waylines.list()
    uploaded = await p.waylines.finish_upload(name="Bridge", object_key="wayline/bridge.kmz")
    assert uploaded.id is not None
    after = [w async for w in p.waylines.iter(page_size=1)]
    assert len(after) == len(before) + 1
    line = next(w for w in after if w.id == uploaded.id)
    assert line.name == "Bridge" and line.template_types == [WaylineTemplateType.WAYPOINT]
    detail = await p.waylines.get(uploaded.id)
    assert detail.download_url and detail.waypoint_count and detail.waypoint_count >= 4
    assert detail.distance and detail.distance > 0
    assert "signature" not in repr(detail)
    with pytest.raises(aiodji.NotFoundError):
        await p.waylines.get("no-such-wayline")
    with pytest.raises(aiodji.APIBusinessError) as bad:
        await p.request("POST", "/openapi/v0.1/wayline/finish-upload", json={"name": "x"})
    assert bad.value.code == 200500


# ---- 3D models -------------------------------------------------------------------------------


async def test_models_create_list_and_finish(sim: Simulator, dji: aiodji.Client) -> None:
    p = dji.project(project_of(sim))
    created = await p.models3d.create(name="Site", reconstruction_type=["3d"], quality="high")
    listed = await p.models3d.list()
    # live model ids are ints (docs/explanation/api-notes.md#live)
    assert isinstance(created.id, int)
    assert [m.id for m in listed] == [created.id] and listed[0].show_on_map is False
    # live replies carry no status: a model is built when its download ``url`` appears
    urls = [(await p.models3d.get(created.id)).url for _ in range(3)]
    assert urls[:2] == [None, None] and urls[2]
    model = await p.models3d.get(created.id)
    assert model.url == model.download_url and model.user_name and model.show_on_map
    assert [m.id async for m in p.models3d.iter()] == [created.id]
    with pytest.raises(aiodji.NotFoundError):
        await p.models3d.get("missing")
    with pytest.raises(aiodji.APIBusinessError) as bad:
        await p.request("POST", "/openapi/v0.1/model/create", json={"name": "x"})
    assert bad.value.code == 200500
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.models3d.create(name="x", reconstruction_type=[])


# ---- map annotations -------------------------------------------------------------------------


async def test_annotations_point_line_polygon(sim: Simulator, dji: aiodji.Client) -> None:
    project = project_of(sim)
    p = dji.project(project)
    point = await p.annotations.create_point("Pad", 113.9, 22.5, 10.0, desc="landing pad")
    line = await p.annotations.create_line("Fence", [(113.9, 22.5), (113.91, 22.51)])
    area = await p.annotations.create(
        name="Zone",
        geometry=Geometry.polygon([(113.9, 22.5), (113.91, 22.5), (113.91, 22.51)]),
        color="#FF0000",
        clamp_to_ground=True,
    )
    # live replies {} (docs/explanation/api-notes.md#live)
    assert point.id is None and line.id is None and area.id is None
    pad, fence, zone = sim.state.missions.annotations.values()
    assert pad.resource["type"] == 0 and pad.desc == "landing pad"
    assert fence.resource["content"]["geometry"]["type"] == "LineString"
    polygon = zone.resource["content"]
    assert polygon["properties"] == {"color": "#FF0000", "clampToGround": True}
    ring = polygon["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 4
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.annotations.create_point("bad", 200.0, 22.5)
    with pytest.raises(aiodji.InvalidArgumentError):
        await p.annotations.create_line("short", [(113.9, 22.5)])
    bad_body = {"name": "x", "resource": {"type": 0, "content": {"geometry": {"type": "Polygon"}}}}
    with pytest.raises(aiodji.APIBusinessError) as bad:
        await p.request("POST", "/openapi/v0.1/map/element", json=bad_body)
    assert bad.value.code == 200500


async def test_raw_response_on_mission_methods(sim: Simulator, dji: aiodji.Client) -> None:
    raw = await dji.with_raw_response.project(project_of(sim)).waylines.list()
    assert raw.status == 200 and raw.request_id
    assert len(raw.parse()) == 1


async def test_enum_arguments_of_another_type_fail_before_sending(
    sim: Simulator, dji: aiodji.Client
) -> None:
    sim.stats.reset()
    with pytest.raises(aiodji.InvalidArgumentError, match="task_type"):
        await dji.project(first_project(sim)).tasks.create(
            name="n",
            wayline_uuid="w",
            sn="s",
            task_type=5,  # type: ignore[arg-type]
        )
    assert sim.stats.total == 0
