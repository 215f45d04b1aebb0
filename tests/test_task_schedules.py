"""Scheduled flight tasks: the documented create rules are checked before anything is sent, and
the simulator runs recurring and continuous tasks at their times, so a listed window shows them."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from _servers import LocalServers, envelope
from aiohttp import web

import aiodji
from aiodji.operation_calls import argument_schema, coerce_arguments, find_operation
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000  # a fixed unix time: no wall clock in these tests
HOUR = 3600
BASE: dict[str, Any] = {"name": "n", "wayline_uuid": "w", "sn": "dock"}


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"task_type": "timed"}, "begin_at"),
        ({"task_type": "recurring", "begin_at": T0, "end_at": T0 + HOUR}, "start_time"),
        (
            {"task_type": "recurring", "begin_at": T0, "recurring_task_start_time_list": [T0]},
            "end_at",
        ),
        ({"task_type": "recurring", "end_at": T0, "recurring_task_start_time_list": [T0]}, "begin"),
        ({"task_type": "continuous", "begin_at": T0, "end_at": T0 + HOUR}, "periods"),
        (
            {"task_type": "continuous", "begin_at": T0, "continuous_task_periods": [[T0, T0 + 1]]},
            "end_at",
        ),
        (
            {
                "task_type": "continuous",
                "begin_at": T0,
                "end_at": T0 + HOUR,
                "continuous_task_periods": [[T0 + 5, T0]],
            },
            "start < end",
        ),
        ({"task_type": "immediate", "rth_altitude": 0}, "rth_altitude"),
        ({"task_type": "immediate", "rth_altitude": -20}, "rth_altitude"),
        ({"task_type": "timed", "begin_at": T0, "end_at": T0 - 1}, "before"),
        ({"task_type": "immediate", "repeat_option": "daily"}, "repeat_option"),
    ],
)
async def test_a_broken_schedule_rule_sends_nothing(kw: dict[str, Any], says: str) -> None:
    requests = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal requests
        requests += 1
        return envelope({"task_uuid": "t"})

    async with LocalServers() as servers:
        url = await servers.add(handler)
        async with aiodji.Client(token="t", base_url=url, project_uuid="p") as dji:
            with pytest.raises(aiodji.InvalidArgumentError, match=says):
                await dji.tasks.create(**BASE, **kw)
            await dji.tasks.create(**BASE, task_type="immediate")  # the server is reachable
    assert requests == 1


async def test_the_schedule_fields_are_sent_with_their_wire_names() -> None:
    bodies: list[Any] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        bodies.append(orjson.loads(await request.read()))
        return envelope({"task_uuid": "t"})

    begin = dt.datetime.fromtimestamp(T0, tz=dt.UTC)
    async with LocalServers() as servers:
        url = await servers.add(handler)
        async with aiodji.Client(token="t", base_url=url, project_uuid="p") as dji:
            await dji.tasks.create(
                **BASE,
                task_type="recurring",
                begin_at=begin,
                end_at=T0 + 7 * 24 * HOUR,
                recurring_task_start_time_list=[T0 + HOUR, begin],
                repeat_type="daily",
                repeat_option={"repeat_type": "daily", "interval": 1},
                rth_altitude=100,
            )
            await dji.tasks.create(
                **BASE,
                task_type="continuous",
                begin_at=T0,
                end_at=T0 + 2 * HOUR,
                continuous_task_periods=[[T0, T0 + HOUR]],
            )
    recurring, continuous = bodies
    assert recurring["begin_at"] == T0 and recurring["end_at"] == T0 + 7 * 24 * HOUR
    assert recurring["recurring_task_start_time_list"] == [T0 + HOUR, T0]
    assert recurring["repeat_option"] == {"repeat_type": "daily", "interval": 1}
    assert recurring["repeat_type"] == "daily" and "continuous_task_periods" not in recurring
    assert continuous["continuous_task_periods"] == [[T0, T0 + HOUR]]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=1, docks_per_project=1, converters_per_project=0) as sim:
        yield sim


async def test_the_simulator_runs_recurring_and_continuous_tasks_in_their_windows(
    sim: Simulator,
) -> None:
    project = next(iter(sim.state.projects))
    dock = sim.state.device_pairs(project)[0].gateway.sn
    wayline = sim.state.missions.project_waylines(project)[0].id
    starts = [T0 + HOUR, T0 + 25 * HOUR, T0 + 49 * HOUR]
    async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=0) as dji:
        tasks = dji.project(project).tasks
        common = {"wayline_uuid": wayline, "sn": dock, "rth_altitude": 100}
        created = await tasks.create(
            name="daily",
            task_type="recurring",
            begin_at=T0,
            end_at=T0 + 72 * HOUR,
            recurring_task_start_time_list=starts,
            repeat_option={"repeat_type": "daily", "week_of_month": 2},
            **common,
        )
        await tasks.create(
            name="watch",
            task_type="continuous",
            begin_at=T0,
            end_at=T0 + 72 * HOUR,
            continuous_task_periods=[
                [T0 + 2 * HOUR, T0 + 3 * HOUR],
                [T0 + 50 * HOUR, T0 + 51 * HOUR],
            ],
            **common,
        )
        first_day = await tasks.list(sn=dock, begin_at=T0, end_at=T0 + 24 * HOUR)
        assert sorted((t.name, t.begin_at) for t in first_day) == [
            ("daily", dt.datetime.fromtimestamp(starts[0], tz=dt.UTC)),
            ("watch", dt.datetime.fromtimestamp(T0 + 2 * HOUR, tz=dt.UTC)),
        ]
        watch = next(t for t in first_day if t.name == "watch")
        assert watch.end_at == dt.datetime.fromtimestamp(T0 + 3 * HOUR, tz=dt.UTC)
        everything = await tasks.list(sn=dock, begin_at=T0, end_at=T0 + 72 * HOUR)
        assert [t.name for t in everything].count("daily") == 3
        assert [t.name for t in everything].count("watch") == 2
        third_day = await tasks.list(
            sn=dock, begin_at=T0 + 48 * HOUR, end_at=T0 + 72 * HOUR, task_type="recurring"
        )
        assert [t.begin_at for t in third_day] == [dt.datetime.fromtimestamp(starts[2], tz=dt.UTC)]
        run = await tasks.get(created.uuid)  # the create names the first run
        assert run.begin_at == dt.datetime.fromtimestamp(starts[0], tz=dt.UTC)
        assert run.week_of_month == 2 and run.task_type == "recurring"


async def test_the_simulator_refuses_what_the_rules_refuse(sim: Simulator) -> None:
    project = next(iter(sim.state.projects))
    body = {
        "name": "n",
        "wayline_uuid": sim.state.missions.project_waylines(project)[0].id,
        "sn": sim.state.device_pairs(project)[0].gateway.sn,
        "task_type": "recurring",
        "begin_at": T0,
        "end_at": T0 + HOUR,
    }
    async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=0) as dji:
        with pytest.raises(aiodji.APIBusinessError, match="recurring_task_start_time_list"):
            await dji.request("POST", "/openapi/v0.1/flight-task", json=body, project_uuid=project)
        periods = {**body, "task_type": "continuous", "continuous_task_periods": [[T0]]}
        with pytest.raises(aiodji.APIBusinessError, match="continuous_task_periods"):
            await dji.request(
                "POST", "/openapi/v0.1/flight-task", json=periods, project_uuid=project
            )


def test_the_operation_schema_and_the_cli_arguments_carry_the_schedule_fields() -> None:
    op = find_operation("tasks.create")
    props = argument_schema(op)["properties"]
    assert props["end_at"]["anyOf"][0] == {"type": "integer"}
    assert props["recurring_task_start_time_list"]["type"] == "array"
    assert props["continuous_task_periods"]["items"]["type"] == "array"
    assert props["repeat_option"] == {"type": "object"}
    raw = {
        **BASE,
        "task_type": "recurring",
        "end_at": "1800003600",
        "recurring_task_start_time_list": "1800000000,1800086400",
        "continuous_task_periods": "[[1800000000, 1800003600]]",
        "repeat_option": '{"repeat_type": "daily"}',
    }
    args = coerce_arguments(op, raw)
    assert args["end_at"] == 1_800_003_600
    assert args["recurring_task_start_time_list"] == [1_800_000_000, 1_800_086_400]
    assert args["continuous_task_periods"] == [[1_800_000_000, 1_800_003_600]]
    assert args["repeat_option"] == {"repeat_type": "daily"}


async def test_the_cli_creates_a_recurring_task_and_refuses_a_broken_one(sim: Simulator) -> None:
    project = next(iter(sim.state.projects.values()))
    dock = sim.state.device_pairs(project.uuid)[0].gateway.sn
    line = sim.state.missions.project_waylines(project.uuid)[0].id
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(AIODJI_TOKEN=sim.token, NO_COLOR="1")
    base = [sys.executable, "-c", "from aiodji.cli import main; main()", "--base-url", sim.url]
    base += ["tasks", "create", "--project", project.name, "--yes"]
    for pair in (
        "name=n",
        f"wayline_uuid={line}",
        f"sn={dock}",
        "task_type=recurring",
        f"begin_at={T0}",
        f"recurring_task_start_time_list={T0 + HOUR},{T0 + 25 * HOUR}",
        "rth_altitude=100",
    ):
        base += ["--arg", pair]

    async def run(*extra: str) -> int:
        proc = await asyncio.create_subprocess_exec(
            *base, *extra, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return await asyncio.wait_for(proc.wait(), timeout=60)

    assert await run("--arg", f"end_at={T0 - 1}") == 2  # end before begin: a usage error
    assert sim.state.missions.tasks == {}  # nothing sent
    assert await run("--arg", f"end_at={T0 + 48 * HOUR}") == 0
    runs = sorted(t.begin_at for t in sim.state.missions.tasks.values())
    assert runs == [T0 + HOUR, T0 + 25 * HOUR]
