"""Contract: every reply the simulator gives, and every example reply of the API notes, fits the
models under the STRICT converter (extra keys are errors).

Add an endpoint by adding a row to ``SIM_ROWS`` (a call through ``dji.with_raw_response`` and the
shape of its ``data``) or an example to ``EXAMPLES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import cattrs
import orjson
import pytest

import aiodji
from aiodji import models as m
from aiodji.serde import structure
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio


# ---- shapes of ``data`` ------------------------------------------------------------------------


@attrs.frozen
class One:
    """``data`` is one object of ``model``; ``key`` names a wrapper object around it."""

    model: Any
    key: str | None = None

    def check(self, data: Any) -> None:
        if self.key is not None:
            assert isinstance(data, dict) and set(data) == {self.key}, data
            data = data[self.key]
        structure(data, self.model, strict=True)


@attrs.frozen
class Envelope:
    """Every FlightHub 2 reply: ``{code, message, data}``; ``code == 0`` is success
    (docs/explanation/api-notes.md#envelope)."""

    code: int
    message: str = ""
    data: Any = None


@attrs.frozen
class Pagination:
    """Optional paging info of a list reply (docs/explanation/api-notes.md#pagination; names
    guessed from the V2 API)."""

    page: int | None = None
    page_size: int | None = None
    total: int | None = None


@attrs.frozen
class ListOf:
    """``data`` is ``{"list": [model...]}`` with optional ``pagination``."""

    model: Any

    def check(self, data: Any) -> None:
        assert isinstance(data, dict) and "list" in data and set(data) <= {"list", "pagination"}
        structure(data["list"], list[self.model], strict=True)
        if "pagination" in data:
            structure(data["pagination"], Pagination, strict=True)


@attrs.frozen
class NoData:
    """A write that answers the bare envelope (``data`` absent or null)."""

    def check(self, data: Any) -> None:
        assert data is None


Shape = One | ListOf | NoData


def check_envelope(body: bytes, shape: Shape) -> None:
    envelope = orjson.loads(body)
    structure(envelope, Envelope, strict=True)
    assert envelope["code"] == 0, envelope
    shape.check(envelope.get("data"))


# ---- the simulator's replies -------------------------------------------------------------------


@attrs.define
class Ctx:
    """What the rows need: a raw-response view of the project and ids made along the way."""

    sim: Simulator
    dji: aiodji.Client
    project: str
    ids: dict[str, str] = attrs.field(factory=dict)

    @property
    def raw(self) -> Any:
        return self.dji.with_raw_response.project(self.project)

    @property
    def dock(self) -> str:
        return self.sim.state.device_pairs(self.project)[0].gateway.sn

    @property
    def drone(self) -> str:
        drone = self.sim.state.device_pairs(self.project)[0].drone
        assert drone is not None
        return drone.sn


Call = Callable[[Ctx], Awaitable[Any]]


async def create_task(c: Ctx) -> Any:
    wayline = c.sim.state.missions.project_waylines(c.project)[0].id
    raw = await c.raw.tasks.create(name="c", wayline_uuid=wayline, sn=c.dock, task_type="immediate")
    c.ids["task"] = raw.parse().uuid
    return raw


async def task_media(c: Ctx) -> Any:
    for _ in range(2):  # waiting → executing → success: media and track exist
        c.sim.state.missions.advance_task(c.ids["task"])
    return await c.raw.tasks.media(c.ids["task"])


async def create_model(c: Ctx) -> Any:
    raw = await c.raw.models3d.create(name="m", reconstruction_type=["3d"])
    c.ids["model"] = raw.parse().id
    return raw


async def finished_model(c: Ctx) -> Any:
    missions = c.sim.state.missions
    sim_id = next(k for k, v in missions.models.items() if v.int_id == c.ids["model"])
    for _ in range(2):
        missions.advance_model(sim_id)
    return await c.raw.models3d.get(c.ids["model"])


async def upload_wayline(c: Ctx) -> Any:
    raw = await c.raw.waylines.finish_upload(name="w", object_key="wayline/w.kmz")
    c.ids["wayline"] = raw.parse().id
    return raw


async def create_converter(c: Ctx) -> Any:
    raw = await c.raw.converters.create(
        name="contract", sn=c.drone, camera_index="81-0-0", url="rtmp://127.0.0.1/live/contract"
    )
    c.ids["converter"] = raw.parse().converter_id
    return raw


# (row id, call, shape); rows run in order on one simulator, so later rows may use earlier ids.
SIM_ROWS: list[tuple[str, Call, Shape]] = [
    # part 1: system, projects, devices, livestream
    ("system status", lambda c: c.dji.with_raw_response.system.status(), NoData()),
    ("projects list", lambda c: c.dji.with_raw_response.projects.list(), ListOf(m.Project)),
    ("org devices", lambda c: c.dji.with_raw_response.devices.list(), ListOf(m.DevicePair)),
    ("project devices", lambda c: c.raw.projects.devices(), ListOf(m.DevicePair)),
    ("sts token", lambda c: c.raw.projects.sts_token(), One(m.StsToken)),
    ("add member", lambda c: c.raw.projects.add_member("user-contract"), NoData()),
    ("device state", lambda c: c.raw.devices.state(c.drone), One(dict[str, Any])),
    ("hms", lambda c: c.raw.devices.hms([c.dock, c.drone]), ListOf(m.DeviceHms)),
    ("command", lambda c: c.raw.devices.command(c.drone, "return_home"), NoData()),
    (
        "change camera",
        lambda c: c.raw.devices.change_camera(c.dock, "165-0-7", "indoor"),
        NoData(),
    ),
    (
        "acquire control",
        lambda c: c.raw.devices.acquire_control(c.drone, "81-0-0"),
        One(m.ControlResult),
    ),
    ("change lens", lambda c: c.raw.devices.change_lens(c.drone, "81-0-0", "zoom"), NoData()),
    (
        "video quality",
        lambda c: c.raw.devices.set_video_quality(c.drone, "81-0-0", "smooth"),
        NoData(),
    ),
    ("release control", lambda c: c.raw.devices.release_control(c.drone, "81-0-0"), NoData()),
    (
        "rtk",
        lambda c: c.raw.devices.rtk_calibration(
            c.dock, host="rtk.example", port=2101, account="a", password="p", mount_point="MP"
        ),
        One(m.RtkResult),
    ),
    ("live start", lambda c: c.raw.livestream.start(c.drone, "81-0-0"), One(m.LiveStream)),
    # converters
    ("converter create", create_converter, One(m.Converter)),
    ("converter list", lambda c: c.raw.converters.list_page(1), ListOf(m.Converter)),
    ("converter enable", lambda c: c.raw.converters.enable(c.ids["converter"]), NoData()),
    ("converter delete", lambda c: c.raw.converters.delete(c.ids["converter"]), NoData()),
    # part 2: tasks, waylines, models, annotations
    ("wayline upload", upload_wayline, One(m.WaylineUploaded)),
    ("wayline list", lambda c: c.raw.waylines.list(), ListOf(m.Wayline)),
    ("wayline detail", lambda c: c.raw.waylines.get(c.ids["wayline"]), One(m.WaylineDetail)),
    ("task create", create_task, One(m.FlightTaskCreated)),
    ("task suspend", lambda c: c.raw.tasks.update_status(c.ids["task"], "suspended"), NoData()),
    ("task restore", lambda c: c.raw.tasks.update_status(c.ids["task"], "restored"), NoData()),
    ("task get", lambda c: c.raw.tasks.get(c.ids["task"]), One(m.FlightTask)),
    (
        "task list",
        lambda c: c.raw.tasks.list(sn=c.dock, begin_at=0, end_at=4_102_444_800),
        ListOf(m.FlightTask),
    ),
    ("task media", lambda c: task_media(c), ListOf(m.TaskMedia)),
    ("task track", lambda c: c.raw.tasks.track(c.ids["task"]), One(m.TaskTrack)),
    ("task get executed", lambda c: c.raw.tasks.get(c.ids["task"]), One(m.FlightTask)),
    ("model create", create_model, One(m.Model3DCreated)),
    ("model list", lambda c: c.raw.models3d.list(), ListOf(m.Model3D)),
    ("model detail finished", finished_model, One(m.Model3D)),
    (
        "annotation",
        lambda c: c.raw.annotations.create_polygon("a", [(1.0, 2.0), (1.1, 2.0), (1.1, 2.1)]),
        One(m.AnnotationCreated),
    ),
]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


# Both kinds of reply that coexist in the real world, each a full run of the rows: V2 names and
# flat device state, V1 names (converter camera_index/schema_option) and wrapped device state.
REPLY_KINDS = {"v2-flat": False, "v1-wrapped": True}


@pytest.fixture(scope="module", params=list(REPLY_KINDS))
async def ctx(request: pytest.FixtureRequest) -> AsyncIterator[Ctx]:
    async with (
        Simulator(projects=1, docks_per_project=2, converters_per_project=1) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url, max_retries=0) as dji,
    ):
        sim.state.v1_names = REPLY_KINDS[request.param]  # not left to the seed
        yield Ctx(sim, dji, next(iter(sim.state.projects)))


async def test_each_reply_kind_answers_in_its_own_names(ctx: Ctx) -> None:
    v1 = ctx.sim.state.v1_names
    raw = await ctx.raw.converters.list_page(1)
    body = b"".join(r.body for r in raw.responses)
    assert (b'"schema_option"' in body, b'"bypass_option"' in body) == (v1, not v1)


@pytest.mark.parametrize(("call", "shape"), [r[1:] for r in SIM_ROWS], ids=[r[0] for r in SIM_ROWS])
async def test_simulator_reply_fits_the_model_strictly(ctx: Ctx, call: Call, shape: Shape) -> None:
    raw = await call(ctx)
    assert isinstance(raw, aiodji.APIResponse)
    for response in raw.responses:
        check_envelope(response.body, shape)


# ---- example replies of the API notes (docs/explanation/api-notes.md), copied here ---------------

DEVICE_EXAMPLE = {
    "gateway": {
        "sn": "7CTDM3D00BVY4F",
        "callsign": "Dock 2",
        "device_model": {
            "key": "3-2-0",
            "domain": "3",
            "type": "2",
            "sub_type": "0",
            "name": "DJI Dock 2",
            "class": "airport",
        },
        "device_online_status": True,
        "mode_code": 0,
        "camera_list": [
            {"camera_index": "165-0-7", "camera_position": 0, "available_camera_positions": [0, 1]}
        ],
    },
    "drone": {
        "sn": "1581F6Q8D23CT00A00M8",
        "callsign": "M3D",
        "device_model": {
            "key": "0-91-0",
            "domain": "0",
            "type": "91",
            "sub_type": "0",
            "name": "Matrice 3D",
            "class": "drone",
        },
        "device_online_status": False,
        "mode_code": 14,
        "camera_list": [
            {
                "camera_index": "81-0-0",
                "lens_list": [
                    {"lens_type": "wide", "available_lens_types": ["normal", "wide", "zoom", "ir"]}
                ],
            }
        ],
    },
}

EXAMPLES: list[tuple[str, dict[str, Any], Shape]] = [
    ("system status", {"code": 0, "message": ""}, NoData()),
    ("enable converter", {"code": 0, "message": "OK"}, NoData()),
    (
        "projects",
        {
            "code": 0,
            "message": "OK",
            "data": {
                "list": [
                    {
                        "name": "Wind farm",
                        "introduction": "",
                        "uuid": "a4b4c1e2-7f0e-4bcb-9a0e-1d2f3a4b5c6d",
                        "org_uuid": "0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f",
                        "project_work_center_point": {"latitude": 22.58, "longitude": 113.94},
                        "created_at": 1700000000,
                        "updated_at": 1700003600,
                    }
                ]
            },
        },
        ListOf(m.Project),
    ),
    (
        "org devices",
        {"code": 0, "message": "", "data": {"list": [DEVICE_EXAMPLE]}},
        ListOf(m.DevicePair),
    ),
    (
        "live start",
        {
            "code": 0,
            "message": "OK",
            "data": {
                "url": "app_id=x&room_id=r&token=t&user_id=u&expire_time=1700000600",
                "url_type": "volc",
                "expire_ts": 1700000600,
            },
        },
        One(m.LiveStream),
    ),
    (
        "create converter",
        {
            "code": 0,
            "message": "OK",
            "data": {"converter_id": "7c1a4b1e-0c2d-4e5f-8a9b-0c1d2e3f4a5b"},
        },
        One(m.Converter),
    ),
    (
        "converter item (V2 names)",
        {
            "code": 0,
            "message": "OK",
            "data": {
                "list": [
                    {
                        "converter_id": "c1",
                        "converter_name": "dock-1-wide",
                        "sn": "1581F6Q8D23CT00A00M8",
                        "camera": "81-0-0",
                        "video": "normal-0",
                        "video_type": "normal",
                        "schema": "rtmp",
                        "bypass_option": {"url": "rtmp://example/live/1"},
                        "state": "running",
                        "code": 0,
                        "auto_push_stream": True,
                        "device_online_status": True,
                        "device_callsign": "M3D",
                        "update_ts": "1700000000000",
                    }
                ]
            },
        },
        ListOf(m.Converter),
    ),
    (
        "create task (Sync shape)",
        {
            "code": 0,
            "message": "OK",
            "data": {
                "task": {"uuid": "t1", "begin_at": 1700000000, "wayline_validity_check_codes": []}
            },
        },
        One(m.FlightTaskCreated, key="task"),
    ),
    (
        "track (V2 names)",
        {
            "code": 0,
            "message": "OK",
            "data": {
                "track_id": "tr1",
                "drone_sn": "1581F6Q8D23CT00A00M8",
                "flight_distance": 1234.5,
                "flight_duration": 600,
                "points": [
                    {"timestamp": 1700000000000, "latitude": 22.5, "longitude": 113.9, "height": 80}
                ],
            },
        },
        One(m.Track),  # V2 names flat: the inner track of the live nested reply
    ),
    (
        "annotation (Sync)",
        {"code": 0, "message": "OK", "data": {"id": "e1"}},
        One(m.AnnotationCreated),
    ),
]


@pytest.mark.parametrize(
    ("reply", "shape"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES]
)
def test_documented_example_fits_the_model_strictly(reply: dict[str, Any], shape: Shape) -> None:
    check_envelope(orjson.dumps(reply), shape)


def test_strict_check_catches_an_extra_key() -> None:
    reply = {"code": 0, "message": "", "data": {"id": "e1", "surprise": 1}}
    with pytest.raises(cattrs.ClassValidationError):
        check_envelope(orjson.dumps(reply), One(m.AnnotationCreated))
