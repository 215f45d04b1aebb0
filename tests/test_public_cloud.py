"""The simulator as a public gateway (the EU one): a bad token is HTTP 401, stream forwarding is
not served (HTTP 404, empty body). The SDK, the fleet plan, the controller, ``doctor`` and the
CLI are run against it end to end and must each say "not available here", never retry it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import aiodji
from aiodji.controller import Reconciler
from aiodji.fleet import Desired
from aiodji.sim import Simulator
from aiodji.sim.__main__ import build_parser

pytestmark = pytest.mark.anyio

CONVERTERS = "/openapi/v0.1/live-stream/converter"
CLI = [sys.executable, "-c", "from aiodji.cli import main; main()"]


@pytest.fixture
async def public() -> AsyncIterator[Simulator]:
    async with Simulator(projects=2, converters_per_project=2, unserved=["converters"]) as sim:
        yield sim


async def test_unserved_routes_answer_404_with_an_empty_body(public: Simulator) -> None:
    headers = {"X-User-Token": public.token, "X-Request-Id": "1"}
    project = next(iter(public.state.projects))
    async with aiohttp.ClientSession() as http:
        for method in ("GET", "POST"):
            async with http.request(
                method, public.url + CONVERTERS, headers={**headers, "X-Project-Uuid": project}
            ) as resp:
                assert resp.status == 404 and await resp.read() == b""
        async with http.put(public.url + CONVERTERS + "/c1", headers=headers) as resp:
            assert resp.status == 404 and await resp.read() == b""
        async with http.get(public.url + "/openapi/v0.1/project", headers=headers) as resp:
            assert resp.status == 200  # the other areas are served


async def test_the_sdk_says_not_available_after_one_attempt(public: Simulator) -> None:
    project = next(iter(public.state.projects))
    async with aiodji.Client(token=public.token, base_url=public.url) as dji:
        with pytest.raises(aiodji.NotAvailableError) as err:
            await dji.project(project).converters.list()
        assert await dji.projects.list()  # not the whole gateway
    assert err.value.attempts == 1 and public.stats.count("GET", CONVERTERS) == 1
    assert "not available on this deployment" in str(err.value)


async def test_fleet_plan_and_the_controller_report_it_per_project(
    public: Simulator, tmp_path: Path
) -> None:
    desired = tmp_path / "desired.toml"
    desired.write_text('[[converters]]\nprojects = "all"\nenabled = true\n')
    async with aiodji.Client(token=public.token, base_url=public.url, max_retries=0) as dji:
        plan = await dji.fleet.plan(Desired.from_toml(desired))
        assert set(plan.unavailable) == set(public.state.projects) and plan.empty
        rec = Reconciler(dji.fleet, desired, full_relist_every=1)
        rec._maybe_reload()
        report = await rec.cycle()
    assert report.drift == 0  # nothing to do where nothing is served, and nothing crashed
    assert not any(method == "PUT" for method, _ in public.stats.by_route)


def _env(sim: Simulator, tmp_path: Path, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(AIODJI_TOKEN=token, XDG_STATE_HOME=str(tmp_path), COLUMNS="200", NO_COLOR="1")
    return env


async def _cli(sim: Simulator, tmp_path: Path, *args: str, token: str = "") -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "--base-url",
        sim.url,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_env(sim, tmp_path, token or sim.token),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    assert sim.token not in out.decode()
    return proc.returncode, out.decode()


async def test_doctor_and_the_cli_against_a_public_gateway(
    public: Simulator, tmp_path: Path
) -> None:
    name = next(iter(public.state.projects.values())).name
    code, out = await _cli(public, tmp_path, "doctor", "--project", name)
    assert code == 1 and "not available on this deployment" in out
    code, out = await _cli(public, tmp_path, "converters", "list", "--project", name)
    assert code == 5 and "not available on this deployment" in out
    lines = out.strip().splitlines()  # the error record and the one-line message, no traceback
    assert "Traceback" not in out and all("not available" in line for line in lines)
    code, out = await _cli(public, tmp_path, "projects", "list", token="not-the-key")
    assert code == 4 and "Traceback" not in out  # HTTP 401: an authentication error


async def test_a_bad_token_is_http_401_by_default_and_200401_on_request() -> None:
    async with Simulator(projects=1) as sim, aiodji.Client(token="wrong", base_url=sim.url) as dji:
        with pytest.raises(aiodji.AuthenticationError) as err:
            await dji.projects.list()
        assert err.value.status_code == 401
        sim.auth_style = "envelope"
        with pytest.raises(aiodji.AuthenticationError) as err:
            await dji.projects.list()
        assert err.value.status_code == 200 and err.value.code == 200401


def test_the_command_line_takes_areas_and_refuses_unknown_ones() -> None:
    args = build_parser().parse_args(
        ["--unserved", "converters,open-models", "--auth-style", "envelope"]
    )
    assert args.unserved == ("converters", "open_models") and args.auth_style == "envelope"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--unserved", "teleport"])
    with pytest.raises(ValueError, match="unknown area"):
        Simulator(unserved=["teleport"])
