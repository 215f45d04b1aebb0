"""``aiodji mcp serve`` end to end, the official mcp client over stdio against the
simulator; the plan book's freshness rule in virtual time."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

import aiodji
from aiodji.fleet import Desired, Plan
from aiodji.mcp import PlanBook
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio


def params(sim: Simulator, tmp_path: Path, *flags: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(
        AIODJI_TOKEN=sim.token,
        AIODJI_BASE_URL=sim.url,
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return StdioServerParameters(
        command=sys.executable, args=["-m", "aiodji.cli", "mcp", "serve", *flags], env=env
    )


def payload(result: Any) -> Any:
    assert not result.isError, result.content
    return orjson.loads(result.content[0].text)


async def test_tools_plan_and_apply_over_stdio(tmp_path: Path) -> None:
    async with Simulator(projects=2, docks_per_project=2, converters_per_project=3) as sim:
        for c in sim.state.converters.values():
            c.auto_push_stream = True
        async with (
            stdio_client(params(sim, tmp_path)) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = {t.name: t for t in (await session.list_tools()).tools}
            assert "converters_list" in names and "plan" in names and "apply" in names
            assert "converters_delete" not in names  # dangerous: hidden by default
            assert names["devices_state"].inputSchema["required"] == ["sn", "project_uuid"]
            project = next(iter(sim.state.projects))
            listed = payload(await session.call_tool("converters_list", {"project_uuid": project}))
            assert len(listed["items"]) == 3
            shown = payload(
                await session.call_tool("plan", {"enabled": False, "projects": ["all"]})
            )
            assert len(shown["changes"]) == 6 and all(c.auto_push_stream for c in
                                                      sim.state.converters.values())  # fmt: skip
            # the live state changes behind the agent's back: the plan is refused
            next(iter(sim.state.converters.values())).auto_push_stream = False
            refused = await session.call_tool("apply", {"plan_id": shown["plan_id"]})
            assert refused.isError and "changed" in refused.content[0].text
            again = payload(await session.call_tool("plan", {"enabled": False}))
            done = payload(await session.call_tool("apply", {"plan_id": again["plan_id"]}))
            assert done["ok"] and done["succeeded"] == 5
            assert not any(c.auto_push_stream for c in sim.state.converters.values())


async def test_read_only_lists_only_reads(tmp_path: Path) -> None:
    async with (
        Simulator(projects=1) as sim,
        stdio_client(params(sim, tmp_path, "--read-only")) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        names = {t.name for t in (await session.list_tools()).tools}
        assert "plan" in names and "apply" not in names and "converters_create" not in names
        refused = await session.call_tool("converters_create", {})
        assert refused.isError


def test_plan_book_refuses_an_old_plan() -> None:
    now = [0.0]
    book = PlanBook(ttl=60.0, clock=lambda: now[0])
    desired = Desired.enabled(True)
    fresh, old = book.add(desired, Plan()), book.add(desired, Plan())
    assert book.take(fresh)[0] is desired
    now[0] = 61.0
    with pytest.raises(aiodji.InvalidArgumentError, match="older"):
        book.take(old)
    with pytest.raises(aiodji.InvalidArgumentError, match="no plan"):
        book.take(fresh)  # a plan is applied once
