"""Client(hooks=...) events and the aiohttp trace_configs pass-through, against the simulator."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

import aiodji
from aiodji.hooks import (
    Hooks,
    RateLimitedEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    route_template,
)
from aiodji.retry import RetryPolicy
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio


def test_route_template_hides_ids() -> None:
    assert (
        route_template("/openapi/v0.1/live-stream/converter/abc-123")
        == "/openapi/v0.1/live-stream/converter/{converter_id}"
    )
    assert (
        route_template("/openapi/v0.1/device/1581F/state")
        == "/openapi/v0.1/device/{device_sn}/state"
    )
    assert route_template("/openapi/v0.1/project") == "/openapi/v0.1/project"
    assert route_template("/openapi/v0.1/nope/s3cr3t-123") == "/openapi/v0.1/{other}"


async def test_events_carry_route_status_code_and_no_secret(sim: Simulator) -> None:
    seen: list[Any] = []
    hooks = Hooks(on_request=seen.append, on_response=[seen.append], on_retry=seen.append)
    async with aiodji.Client(token=sim.token, base_url=sim.url, hooks=hooks) as dji:
        project = next(iter(sim.state.projects))
        convs = await dji.project(project).converters.list()
        await dji.project(project).converters.set_enabled(convs[0].converter_id, True)
    requests = [e for e in seen if isinstance(e, RequestEvent)]
    responses = [e for e in seen if isinstance(e, ResponseEvent)]
    assert len(requests) == len(responses) == 2
    assert responses[1].route == "/openapi/v0.1/live-stream/converter/{converter_id}"
    assert responses[1].method == "PUT" and responses[1].status == 200 and responses[1].code == 0
    assert all(r.request_id and r.elapsed >= 0 and r.attempt == 1 for r in responses)
    assert sim.token not in repr(seen) and convs[0].converter_id not in repr(seen)


async def test_retry_rate_limit_and_final_failure_events(sim: Simulator) -> None:
    seen: list[Any] = []
    hooks = Hooks(on_response=seen.append, on_retry=seen.append, on_rate_limited=seen.append)
    sim.faults.error_rate = 1.0
    sim.faults.error_statuses = (503,)
    policy = RetryPolicy(max_retries=2, backoff_base=0.001, backoff_max=0.002)
    async with aiodji.Client(token=sim.token, base_url=sim.url, hooks=hooks, retry=policy) as dji:
        with pytest.raises(aiodji.DJIError):
            await dji.system.status()
        sim.faults.error_rate = 0.0
        sim.set_rate_limit(0.5, 1)
        await dji.system.status()  # uses the only token
        with pytest.raises(aiodji.RateLimitError):
            await dji.with_options(max_retries=0).system.status()
    retries = [e for e in seen if isinstance(e, RetryEvent)]
    assert [r.attempt for r in retries] == [1, 2] and retries[0].status == 503
    final = [e for e in seen if isinstance(e, ResponseEvent)]
    assert final[0].status == 503 and final[0].error is not None and final[0].attempt == 3
    assert any(isinstance(e, RateLimitedEvent) for e in seen)


async def test_a_failing_hook_never_breaks_a_call(sim: Simulator) -> None:
    def boom(event: object) -> None:
        raise RuntimeError("observer bug")

    async with aiodji.Client(
        token=sim.token, base_url=sim.url, hooks=Hooks(on_response=boom)
    ) as dji:
        await dji.system.status()


async def test_trace_configs_reach_aiohttp(sim: Simulator) -> None:
    started: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        started.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with aiodji.Client(token=sim.token, base_url=sim.url, trace_configs=[trace]) as dji:
        await dji.system.status()
    assert started == ["GET"]
