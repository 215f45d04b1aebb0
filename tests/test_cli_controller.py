"""``aiodji controller run`` and ``aiodji converters diff`` through a subprocess."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_cli import CLI, aiodji, env_for

from aiodji.fleet import read_journal
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

DESIRED = "[[converters]]\nprojects = 'all'\nenabled = false\n"


def desired_file(tmp_path: Path) -> Path:
    path = tmp_path / "desired.toml"
    path.write_text(DESIRED)
    return path


async def test_diff_exits_1_on_drift_then_once_repairs_then_0(
    sim: Simulator, tmp_path: Path
) -> None:
    path = str(desired_file(tmp_path))
    code, out, _ = await aiodji(sim, tmp_path, "converters", "diff", "-f", path)
    assert code == 1 and "will disable" in out
    code, _, err = await aiodji(
        sim, tmp_path, "controller", "run", "-f", path, "--once", "--log-format", "json"
    )
    assert code == 0
    lines = [orjson.loads(line) for line in err.splitlines() if line.startswith("{")]
    items = [r for r in lines if r.get("action") == "disable"]
    assert items and all(r["result"] == "succeeded" and r["cycle"] == 1 for r in items)
    assert {"project", "converter"} <= items[0].keys()
    assert any(r.get("action") == "cycle" and r["result"] == "ok" for r in lines)
    assert not any(c.auto_push_stream for c in sim.state.converters.values())
    code, out, _ = await aiodji(sim, tmp_path, "--json", "converters", "diff", "-f", path)
    assert code == 0 and orjson.loads(out)["in_sync"] is True


async def test_a_broken_first_file_is_a_usage_error(sim: Simulator, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[converters]]\nenabled = 'maybe'\n")
    code, _, err = await aiodji(sim, tmp_path, "controller", "run", "-f", str(bad), "--once")
    assert code == 2 and "enabled" in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sigterm_stops_a_running_controller_with_metrics(
    sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "--base-url",
        sim.url,
        "controller",
        "run",
        "-f",
        str(desired_file(tmp_path)),
        "--interval",
        "0.05",
        "--metrics-port",
        "0",
        "--journal",
        str(journal),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env_for(sim, tmp_path),
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        url = line.split("metrics on ", 1)[1].strip()
        text = ""
        async with aiohttp.ClientSession() as s:
            for _ in range(200):  # until a cycle has been counted
                async with s.get(url) as resp:
                    text = await resp.text()
                if "aiodji_reconcile_cycles_total{" in text:
                    break
                await asyncio.sleep(0.02)
        names = {f.name for f in text_string_to_metric_families(text)}
        assert {"aiodji_requests", "aiodji_reconcile_cycles"} <= names
        assert sim.token not in text
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0
    assert {s.value for s in read_journal(journal).values()} == {"succeeded"}
