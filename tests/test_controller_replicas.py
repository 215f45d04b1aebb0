"""Two real ``aiodji controller run --leader-elect`` processes on one desired file, one
simulator and a real redis-server: one acts, the other stands by — no create is sent twice —
and after the leader is SIGKILLed the standby takes over and repairs the drift.

The simulator refuses duplicate names (213025), so duplicates are counted as create POSTs per
name (``sim.state.create_counts``), which counts refused ones too."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

import pytest
from test_cli import CLI, env_for

from aiodji.sim import Simulator
from tests._controller import Running, get, until
from tests._redis import RedisServer, redis_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]
__all__ = ["redis_server"]

INTERVAL = 0.2
LEASE = 1.5
TIMING = ("--lease-duration", str(LEASE), "--renew-deadline", "1.0", "--retry-period", "0.25")


def desired_text(sim: Simulator) -> tuple[str, list[str]]:
    """Every converter enabled, and one create per drone camera (6, within the quota)."""
    parts = ["[[converters]]\nprojects = 'all'\nenabled = true\n"]
    names = []
    for sn, device in sim.state.devices.items():
        if not sn.startswith("1581F"):
            continue
        name = f"rep-{sn}"
        names.append(name)
        project = sim.state.projects[device.project_uuid].name
        camera = next(iter(device.camera_indexes()))
        parts.append(
            f"[[create]]\nproject = '{project}'\nname = '{name}'\nsn = '{sn}'\n"
            f"camera_index = '{camera}'\nurl = 'rtmp://media.example/live/KEY{sn}'\n"
        )
    return "\n".join(parts), names


async def replica(sim: Simulator, tmp_path: Path, path: Path, redis_url: str, name: str) -> Running:
    argv = (*CLI, "--base-url", sim.url, "controller", "run", "-f", str(path))
    options = ("--interval", str(INTERVAL), "--metrics-port", "0", "--leader-elect", redis_url)
    return await Running.start(*argv, *options, *TIMING, env=env_for(sim, tmp_path / name))


async def roles(bases: dict[str, str]) -> dict[str, str]:
    return {name: (await get(base + "/readyz"))[1].strip() for name, base in bases.items()}


def token_of(readyz: str) -> int:
    found = re.search(r"token (\d+)", readyz)
    assert found is not None, readyz
    return int(found.group(1))


def converged(sim: Simulator, names: list[str]) -> bool:
    have = [c.converter_name for c in sim.state.converters.values()]
    return all(have.count(n) == 1 for n in names) and all(
        c.auto_push_stream for c in sim.state.converters.values()
    )


async def test_two_replicas_one_leader_no_duplicate_create_and_failover_after_sigkill(
    sim: Simulator, tmp_path: Path, redis_server: RedisServer
) -> None:
    text, names = desired_text(sim)
    path = tmp_path / "desired.toml"
    path.write_text(text)
    ctls = {name: await replica(sim, tmp_path, path, redis_server.url, name) for name in ("a", "b")}
    try:
        bases = {name: await ctl.metrics_base() for name, ctl in ctls.items()}

        async def one_leader_and_converged() -> bool:
            found = await roles(bases)
            leaders = [n for n, r in found.items() if r.startswith("leader")]
            return len(leaders) == 1 and converged(sim, names)

        assert await until(one_leader_and_converged, 30)
        await asyncio.sleep(5 * INTERVAL)  # a few more cycles of both replicas
        assert all(sim.state.create_counts[n] == 1 for n in names), sim.state.create_counts
        found = await roles(bases)
        leader = next(n for n, r in found.items() if r.startswith("leader"))
        standby = "b" if leader == "a" else "a"
        assert found[standby] == "standby"
        old_token = token_of(found[leader])

        ctls[leader].kill()
        killed = time.monotonic()
        await ctls[leader].proc.wait()
        gone = sim.state.converter_by_name(names[0])
        assert gone is not None
        sim.state.destroy_converter(gone.converter_id)  # drift only the new leader can repair

        async def took_over() -> bool:
            _, body = await get(bases[standby] + "/readyz")
            return body.startswith("leader") and converged(sim, names)

        assert await until(took_over, 2 * INTERVAL + LEASE + 20)  # slack for a loaded machine
        failover = time.monotonic() - killed
        new_token = token_of((await roles(bases))[standby])
        assert new_token > old_token
        assert sim.state.create_counts[names[0]] == 2  # one POST before, one after the kill
        assert all(sim.state.create_counts[n] == 1 for n in names[1:])
        print(f"failover after SIGKILL: {failover:.2f} s (bound {2 * INTERVAL + LEASE:.2f} s)")
    finally:
        codes = {name: await ctl.stop() for name, ctl in ctls.items()}
    code, err = codes[standby]
    assert code == 0 and "Traceback" not in err
    assert sim.token not in err
