"""``aiodji controller run`` and ``aiodji converters diff`` through a subprocess."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_cli import CLI, aiodji, env_for

from aiodji.fleet import read_journal
from aiodji.sim import Simulator
from tests._controller import Running, get, until

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


async def start_controller(
    sim: Simulator, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Running:
    argv = (*CLI, "--base-url", sim.url, "controller", "run", *args)
    return await Running.start(*argv, env=env or env_for(sim, tmp_path))


async def test_debug_logging_prints_each_line_once(sim: Simulator, tmp_path: Path) -> None:
    env = env_for(sim, tmp_path) | {"AIODJI_LOG": "debug"}
    ctl = await start_controller(
        sim, tmp_path, "-f", str(desired_file(tmp_path)), "--once", env=env
    )
    code, err = await ctl.wait()
    assert code == 0 and ctl.count("cycle 1 ok") == 1, err


def no_prometheus(tmp_path: Path) -> str:
    """A PYTHONPATH on which ``import prometheus_client`` fails, as in the base install."""
    shim = tmp_path / "shim" / "prometheus_client"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named prometheus_client')\n")
    return str(shim.parent)


async def test_metrics_without_the_extra_say_which_to_install(
    sim: Simulator, tmp_path: Path
) -> None:
    env = env_for(sim, tmp_path) | {"PYTHONPATH": no_prometheus(tmp_path)}
    ctl = await start_controller(
        sim, tmp_path, "-f", str(desired_file(tmp_path)), "--metrics-port", "0", env=env
    )
    code, text = await ctl.wait()
    assert code == 2, text
    assert "pip install 'aiodji[controller]'" in text and "Traceback" not in text
    assert len(text.strip().splitlines()) == 1


async def test_a_busy_metrics_port_is_one_line_exit_7_and_a_bad_host_exit_2(
    sim: Simulator, tmp_path: Path
) -> None:
    path = str(desired_file(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        code, _, err = await aiodji(
            sim, tmp_path, "controller", "run", "-f", path, "--metrics-port", port
        )
    assert code == 7 and "in use" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    code, _, err = await aiodji(
        sim,
        tmp_path,
        "controller",
        "run",
        "-f",
        path,
        "--metrics-port",
        "0",
        "--metrics-host",
        "no-such-host.invalid",
    )
    assert code == 2 and "does not resolve" in err and "Traceback" not in err


def crash_file_text(line: str) -> str:
    return Path(line.rsplit("(details: ", 1)[1].rstrip(")\n")).read_text()


async def test_an_unexpected_exception_outside_the_loop_is_one_line_and_exit_70(
    sim: Simulator, tmp_path: Path
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import aiodji.controller.service as s\n"
        "async def boom(*a, **k):\n"
        "    raise RuntimeError('boom url=rtmp://h/live/STREAMKEY2')\n"
        "s.run_service = boom\n"
    )
    env = env_for(sim, tmp_path) | {"PYTHONPATH": str(hook)}
    ctl = await start_controller(sim, tmp_path, "-f", str(desired_file(tmp_path)), env=env)
    code, text = await ctl.wait()
    assert code == 70, text
    assert text.startswith("internal error: RuntimeError: boom") and "Traceback" not in text
    assert "STREAMKEY2" not in text and len(text.strip().splitlines()) == 1
    assert "STREAMKEY2" not in crash_file_text(text)


async def test_a_utf16_file_at_start_keeps_it_running_not_ready_until_fixed(
    sim: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "desired.toml"
    path.write_bytes(DESIRED.encode("utf-16-le"))  # no BOM: refused (with one it is decoded)
    ctl = await start_controller(
        sim, tmp_path, "-f", str(path), "--interval", "0.05", "--metrics-port", "0"
    )
    try:
        base = await ctl.metrics_base()
        assert await until(lambda: readyz_is(base, 503, "no valid desired file"))
        assert ctl.running  # up, not crash-looping
        path.write_text(DESIRED)
        assert await until(lambda: readyz_is(base, 200, "ready"))
        assert not any(c.auto_push_stream for c in sim.state.converters.values())
    finally:
        code, err = await ctl.stop()
    assert code == 0 and err.count("rejected") == 1 and "Traceback" not in err


async def readyz_is(base: str, status: int, text: str) -> bool:
    got, body = await get(base + "/readyz")
    return got == status and text in body


async def test_leader_elect_usage_errors_and_the_missing_extra(
    sim: Simulator, tmp_path: Path
) -> None:
    path = str(desired_file(tmp_path))
    run = ("controller", "run", "-f", path)
    for args, text in (
        (("--leader-elect", "http://127.0.0.1:1/0"), "want redis://"),
        (("--leader-elect", "redis://127.0.0.1:1/0", "--once"), "--once"),
        (("--leader-elect", "redis://127.0.0.1:1/0", "--renew-deadline", "20"), "renew deadline"),
    ):
        code, _, err = await aiodji(sim, tmp_path, *run, *args)
        assert code == 2 and text in err and "Traceback" not in err, err
    shim = tmp_path / "shim" / "redis"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named redis')\n")
    env = env_for(sim, tmp_path) | {"PYTHONPATH": str(shim.parent)}
    ctl = await start_controller(
        sim, tmp_path, "-f", path, "--leader-elect", "redis://h/0", env=env
    )
    code, err = await ctl.wait()
    assert code == 2 and "pip install 'aiodji[scale]'" in err and "Traceback" not in err, err
