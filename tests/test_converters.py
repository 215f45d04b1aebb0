"""Every converter call and error class against the simulator, plus the 2,000-call gather."""

from __future__ import annotations

import asyncio
import gc

import pytest
from _servers import first_project

import aiodji
from aiodji.models import Converter, ConverterState, Page
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio


def a_camera(sim: Simulator, project: str) -> tuple[str, str]:
    pair = sim.state.device_pairs(project)[0]
    return pair.drone.sn, pair.drone.camera_list[0]["camera_index"]


async def test_list_returns_every_converter_of_the_project(
    sim: Simulator, dji: aiodji.Client
) -> None:
    project = first_project(sim)
    converters = await dji.project(project).converters.list()
    assert isinstance(converters, list) and isinstance(converters, Page)
    expected = {c.converter_id for c in sim.state.converters_of(project)}
    assert {c.converter_id for c in converters} == expected
    assert converters.total == len(expected) > 0
    for c in converters:
        assert isinstance(c, Converter)
        assert c.project_uuid == project
        assert c.converter_name and c.sn and c.camera_index
        assert isinstance(c.auto_push_stream, bool)
        assert isinstance(c.state, ConverterState)


async def test_list_follows_pages(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    sim.state.converter_limit = 1000
    sn, camera = a_camera(sim, project)
    p = dji.project(project)
    for i in range(23):
        await p.converters.create(
            name=f"extra-{i}", sn=sn, camera_index=camera, url=f"rtmp://127.0.0.1/live/extra-{i}"
        )
    everything = await p.converters.list(page_size=5)
    assert len(everything) == len(sim.state.converters_of(project)) == 25
    assert len({c.converter_id for c in everything}) == 25
    page = await p.converters.list_page(2, page_size=10)
    assert len(page) == 10 and page.total == 25 and page.page == 2 and page.has_more
    ids = [c.converter_id async for c in p.converters.iter(page_size=7)]
    assert ids == [c.converter_id for c in everything]


async def test_create_enable_disable_delete(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    sn, camera = a_camera(sim, project)
    p = dji.project(project)
    created = await p.converters.create(
        name="dock-1-wide", sn=sn, camera_index=camera, url="rtmp://example.test/live/1"
    )
    assert created.converter_id in sim.state.converters
    assert created.converter_name == "dock-1-wide" and created.auto_push_stream is False
    await p.converters.set_enabled(created.converter_id, True)
    assert sim.state.converters[created.converter_id].auto_push_stream is True
    await p.converters.disable(created.converter_id)
    assert sim.state.converters[created.converter_id].auto_push_stream is False
    await p.converters.enable(created.converter_id)
    listed = {c.converter_id: c for c in await p.converters.list()}
    assert listed[created.converter_id].auto_push_stream is True
    assert listed[created.converter_id].state == ConverterState.RUNNING
    await p.converters.delete(created.converter_id)
    assert created.converter_id not in sim.state.converters


async def test_livestream_namespace_and_project_kwarg(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    assert dji.livestream.converters is dji.converters
    listed = await dji.livestream.converters.list(project_uuid=project)
    assert len(listed) == len(sim.state.converters_of(project))
    with pytest.raises(aiodji.ConfigError, match="project-scoped"):
        await dji.converters.list()


@pytest.mark.parametrize(
    ("change", "code"),
    [("duplicate_name", 213025), ("unknown_camera", 213014), ("duplicate_url", 213054)],
)
async def test_create_errors_carry_the_documented_code(
    sim: Simulator, dji: aiodji.Client, change: str, code: int
) -> None:
    project = first_project(sim)
    sn, camera = a_camera(sim, project)
    existing = sim.state.converters_of(project)[0]
    kwargs = {"name": "fresh", "sn": sn, "camera_index": camera, "url": "rtmp://h/live/fresh"}
    if change == "duplicate_name":
        kwargs["name"] = existing.converter_name
    elif change == "unknown_camera":
        kwargs["camera_index"] = "99-9-9"
    else:
        kwargs["url"] = existing.bypass_option["url"]
    with pytest.raises(aiodji.APIBusinessError) as info:
        await dji.project(project).converters.create(**kwargs)
    assert info.value.code == code
    assert info.value.meaning
    assert info.value.method == "POST" and info.value.attempts == 1


async def test_converter_limit_is_233317(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    sn, camera = a_camera(sim, project)
    p = dji.project(project)
    room = sim.state.converter_limit - len(sim.state.converters)
    for i in range(room):
        await p.converters.create(
            name=f"fill-{i}", sn=sn, camera_index=camera, url=f"rtmp://h/live/fill-{i}"
        )
    with pytest.raises(aiodji.APIBusinessError) as info:
        await p.converters.create(
            name="one-too-many", sn=sn, camera_index=camera, url="rtmp://h/live/too-many"
        )
    assert info.value.code == 233317
    assert len(sim.state.converters) == 20


async def test_unknown_converter_is_213029(sim: Simulator, dji: aiodji.Client) -> None:
    p = dji.project(first_project(sim))
    for call in (p.converters.enable("no-such-id"), p.converters.delete("no-such-id")):
        with pytest.raises(aiodji.APIBusinessError) as info:
            await call
        assert info.value.code == 213029
        assert info.value.meaning == "converter not found"


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "a?b=c", "%2e%2e", ".."])
async def test_path_parameters_stay_in_their_segment(
    sim: Simulator, dji: aiodji.Client, bad_id: str
) -> None:
    p = dji.project(first_project(sim))
    before = dict(sim.state.converters)
    with pytest.raises(aiodji.APIBusinessError) as info:
        await p.converters.delete(bad_id)
    assert info.value.code == 213029
    assert sim.state.converters == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "", "sn": "s", "camera_index": "c", "url": "rtmp://h/a/b"},
        {"name": "n", "sn": "s", "camera_index": "c", "url": "http://h/a/b"},
        {"name": "n", "sn": "s", "camera_index": "c"},
        {"name": "n", "sn": None, "camera_index": "c", "url": "rtmp://h/a/b"},
    ],
)
async def test_bad_arguments_fail_before_any_request(
    sim: Simulator, dji: aiodji.Client, kwargs: dict[str, object]
) -> None:
    sim.stats.reset()
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.project(first_project(sim)).converters.create(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.project(first_project(sim)).converters.set_enabled("x", "false")  # type: ignore[arg-type]
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.project(first_project(sim)).converters.delete("")
    assert sim.stats.total == 0


async def test_error_classes_against_the_simulator(sim: Simulator) -> None:
    project = first_project(sim)
    async with aiodji.Client(token="wrong", base_url=sim.url, max_retries=0) as bad:
        with pytest.raises(aiodji.AuthenticationError) as auth:
            await bad.project(project).converters.list()
        assert auth.value.code == 200401
    async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=0) as dji:
        with pytest.raises(aiodji.PermissionDeniedError):
            await dji.project("not-a-project").converters.list()
        sim.http_errors = True
        with pytest.raises(aiodji.NotFoundError):
            await dji.request("GET", "/openapi/v0.1/no/such/endpoint")
        sim.faults.error_rate = 1.0
        with pytest.raises(aiodji.InternalServerError):
            await dji.project(project).converters.list()
        sim.faults.error_rate = 0.0
        sim.faults.html_rate = 1.0
        with pytest.raises(aiodji.ResponseValidationError, match="wrong base URL"):
            await dji.project(project).converters.list()


async def test_transient_faults_are_retried_for_puts(sim: Simulator) -> None:
    project = first_project(sim)
    target = sim.state.converters_of(project)[0]
    policy = aiodji.RetryPolicy(max_retries=6, backoff_base=0.001, backoff_max=0.002)
    async with aiodji.Client(token=sim.token, base_url=sim.url, retry=policy) as dji:
        p = dji.project(project)
        for kind in ("error_rate", "business_error_rate", "malformed_rate", "reset_before_rate"):
            setattr(sim.faults, kind, 0.5)
            for enabled in (True, False, True):
                await p.converters.set_enabled(target.converter_id, enabled)
                assert sim.state.converters[target.converter_id].auto_push_stream is enabled
            setattr(sim.faults, kind, 0.0)


async def test_gather_2000_calls_queue_in_aiodji_not_in_aiohttp(sim: Simulator) -> None:
    """The design card's shape: 2,000 concurrent set_enabled with 8 connections and a short
    read timeout — 0 errors, 0 timeouts, because calls wait in the limiter, not the pool."""
    project = first_project(sim)
    ids = [c.converter_id for c in sim.state.converters_of(project)]
    timeouts = aiodji.Timeouts(connect=2.0, read=2.0)
    async with aiodji.Client(
        token=sim.token, base_url=sim.url, max_connections=8, timeout=timeouts, max_retries=0
    ) as dji:
        p = dji.project(project)
        results = await asyncio.gather(
            *(p.converters.set_enabled(ids[i % len(ids)], i % 2 == 0) for i in range(2000)),
            return_exceptions=True,
        )
        assert dji.limiter.stats.admitted == 2000
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert sim.stats.count("PUT") == 2000


async def test_rate_gate_and_server_429(sim: Simulator) -> None:
    """With the server limiting and 429 + Retry-After, every call still succeeds."""
    project = first_project(sim)
    target = sim.state.converters_of(project)[0].converter_id
    sim.set_rate_limit(200, 5)
    async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=1) as dji:
        p = dji.project(project)
        await asyncio.gather(*(p.converters.set_enabled(target, True) for _ in range(60)))
        assert dji.limiter.stats.rate_limited >= 1  # adaptive: it found the limit
        assert dji.limiter.rate is not None and dji.limiter.rate < 400


async def test_raw_response(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    raw = await dji.with_raw_response.project(project).converters.list()
    assert raw.status == 200 and raw.attempts == 1 and len(raw.request_id) == 36
    parsed = raw.parse()
    assert len(parsed) == len(sim.state.converters_of(project))
    raw_put = await dji.with_raw_response.converters.enable(
        parsed[0].converter_id, project_uuid=project
    )
    assert raw_put.parse() is None and raw_put.status == 200


async def test_client_built_outside_loop_and_no_leak(sim: Simulator) -> None:
    dji = aiodji.Client(token=sim.token, base_url=sim.url)
    assert not dji.closed
    await dji.project(first_project(sim)).converters.list()  # session made on first use
    await dji.close()
    assert dji.closed
    with pytest.raises(aiodji.DJIError, match="closed"):
        await dji.request("GET", "system_status")
    del dji
    gc.collect()
