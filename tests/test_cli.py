"""The ``aiodji`` command through a subprocess, against an in-process simulator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

PUT = ("PUT", "/openapi/v0.1/live-stream/converter/{converter_id}")
CLI = [sys.executable, "-c", "from aiodji.cli import main; main()"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=3, docks_per_project=2, converters_per_project=6) as sim:
        yield sim


def env_for(sim: Simulator, tmp_path: Path, token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(
        AIODJI_TOKEN=sim.token if token is None else token,
        XDG_STATE_HOME=str(tmp_path / "state"),
        COLUMNS="200",
        NO_COLOR="1",
    )
    return env


async def aiodji(
    sim: Simulator, tmp_path: Path, *args: str, token: str | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "--base-url",
        sim.url,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env_for(sim, tmp_path, token),
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    text_out, text_err = out.decode(), err.decode()
    assert sim.token not in text_out + text_err  # never the token
    return proc.returncode, text_out, text_err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


async def test_disable_all_with_json_output(sim: Simulator, tmp_path: Path) -> None:
    enabled = {cid for cid, c in sim.state.converters.items() if c.auto_push_stream}
    code, out, _ = await aiodji(sim, tmp_path, "--json", "converters", "disable", "--all-projects")
    assert code == 0
    records = json_lines(out)
    results = [r for r in records if r["type"] == "result"]
    assert {r["converter_id"] for r in results} == enabled
    assert all(r["state"] == "succeeded" and r["ok"] for r in results)
    assert records[-1]["type"] == "summary" and records[-1]["succeeded"] == len(enabled)
    assert not any(c.auto_push_stream for c in sim.state.converters.values())


async def test_dry_run_changes_nothing(sim: Simulator, tmp_path: Path) -> None:
    before = {cid: c.auto_push_stream for cid, c in sim.state.converters.items()}
    code, out, _ = await aiodji(
        sim, tmp_path, "converters", "disable", "--project", "Project 01", "--dry-run"
    )
    assert code == 0 and "will disable" in out
    code, out, _ = await aiodji(
        sim, tmp_path, "--json", "converters", "enable", "--all-projects", "--dry-run"
    )
    changes = [r for r in json_lines(out) if r["type"] == "change"]
    assert code == 0 and len(changes) == sum(not v for v in before.values())
    assert sim.stats.count(*PUT) == 0
    assert {cid: c.auto_push_stream for cid, c in sim.state.converters.items()} == before


async def test_list_masks_stream_urls(sim: Simulator, tmp_path: Path) -> None:
    code, out, _ = await aiodji(sim, tmp_path, "converters", "list", "--all-projects")
    assert code == 0 and "/live/***" in out
    for c in sim.state.converters.values():
        assert c.url is not None and c.url not in out
    code, out, _ = await aiodji(sim, tmp_path, "--json", "converters", "list", "--all-projects")
    rows = json_lines(out)
    assert len(rows) == 18 and all(r["url"].endswith("/***") for r in rows)


async def test_apply_file_reports_quota_skips_with_a_failing_exit_code(
    sim: Simulator, tmp_path: Path
) -> None:
    pair = next(iter(sim.state.pairs.values()))[0]
    desired = tmp_path / "desired.toml"
    desired.write_text(
        "converter_limit = 19\n"
        + "".join(
            f"""
[[create]]
project = "Project 01"
name = "cli-new-{i}"
sn = "{pair.drone.sn}"
camera_index = "81-0-0"
url = "rtmp://media.test/live/cli-{i}"
enabled = true
"""
            for i in range(2)
        )
    )
    sim.state.converter_limit = 19
    code, out, _ = await aiodji(
        sim, tmp_path, "converters", "apply", "-f", str(desired), "--dry-run"
    )
    assert code == 0 and "will create" in out and "skipped (quota)" in out
    assert not sim.state.create_counts
    code, out, _ = await aiodji(sim, tmp_path, "converters", "apply", "-f", str(desired))
    assert code == 1 and "skipped (quota)" in out
    made = sim.state.converter_by_name("cli-new-0")
    assert made is not None and made.auto_push_stream
    assert sim.state.converter_by_name("cli-new-1") is None


async def test_doctor(sim: Simulator, tmp_path: Path) -> None:
    code, out, _ = await aiodji(sim, tmp_path, "doctor", "--project", "Project 02")
    assert code == 0 and "organization" in out and sim.state.org_uuid in out
    assert "expires 2100" in out
    code, out, _ = await aiodji(sim, tmp_path, "doctor", token="not-a-valid-token")
    assert code == 4 and "token" in out and "refused" in out  # authentication
    code, out, _ = await aiodji(sim, tmp_path, "doctor", "--project", "No Such")
    assert code == 5 and "No Such" in out  # not found


async def test_without_a_token_it_says_how_to_give_one(sim: Simulator, tmp_path: Path) -> None:
    code, _, err = await aiodji(sim, tmp_path, "projects", "list", token="")
    assert code == 3 and "AIODJI_TOKEN" in err


async def test_ctrl_c_stops_cleanly_and_prints_the_resume_command(tmp_path: Path) -> None:
    async with Simulator(
        projects=4, docks_per_project=2, converters_per_project=80, rate_limit=150
    ) as sim:
        proc = await asyncio.create_subprocess_exec(
            *CLI,
            "--base-url",
            sim.url,
            "--json",
            "--concurrency",
            "4",
            "--rate",
            "140",
            "converters",
            "disable",
            "--all-projects",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env_for(sim, tmp_path),
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = await proc.stdout.readline()  # the first result: the run is under way
        assert orjson.loads(first)["type"] == "result"
        proc.send_signal(signal.SIGINT)
        rest, err = await proc.communicate()
        assert proc.returncode == 130
        summary = json_lines(rest.decode())[-1]
        assert summary["type"] == "summary" and summary["not_attempted"] > 0
        assert summary["unknown"] == 0  # in-flight items were let finish
        line = next(x for x in err.decode().splitlines() if x.startswith("to resume: "))
        command = line.removeprefix("to resume: ").split()
        assert command[0] == "aiodji" and "--resume" in command
        puts_before = sim.stats.count(*PUT)
        resumed = await asyncio.create_subprocess_exec(
            *CLI,
            *command[1:],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env_for(sim, tmp_path),
        )
        out, _ = await resumed.communicate()
        assert resumed.returncode == 0, out
        assert not any(c.auto_push_stream for c in sim.state.converters.values())
        assert sim.stats.count(*PUT) - puts_before == summary["not_attempted"]
