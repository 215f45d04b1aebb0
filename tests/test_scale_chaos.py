"""Queue mode under chaos, end to end with real parts: three ``aiodji worker`` processes, a real
redis-server (append-only) SIGKILLed and restarted mid-run, one worker SIGKILLed and replaced,
the simulator with faults, and the real enqueuer (``converters apply --queue``) following it.

"Executed twice" is counted on the server side: every create POST that reaches the handler
(``create_counts``, accepted or refused as a duplicate name: the simulator has no switch to
accept duplicate names, so counting the POSTs is the stricter test) and every applied
enable/disable per converter. The faults are the kinds a server does not apply (5xx, a
connection dropped before the request), so a legitimate retry is never counted as a
duplicate; a second *runner* of a shard would be.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from aiodji.scale.runs import FINAL, RunStore
from aiodji.sim import Simulator
from aiodji.sim.state import SimState
from tests._redis import RedisServer
from tests.test_scale_fleet import QUEUE_KEY, Workers, shards_done, wait_for_logs

pytestmark = pytest.mark.anyio

CLI = [sys.executable, "-c", "from aiodji.cli import main; main()"]
PROJECTS, CREATES = 6, 6


@pytest.fixture
def flips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Applied enable/disable requests per converter id (the route's one state change)."""
    counts: Counter[str] = Counter()
    original = SimState.set_converter_enabled

    def counting(self: SimState, converter_id: str, enabled: bool, *, touch: bool = True) -> Any:
        if touch:
            counts[converter_id] += 1
        return original(self, converter_id, enabled, touch=touch)

    monkeypatch.setattr(SimState, "set_converter_enabled", counting)
    yield counts


def desired_file(sim: Simulator, path: Path) -> list[str]:
    """Every converter disabled, CREATES new ones per project; the stream keys, returned."""
    text, keys = 'converter_limit = 500\n[[converters]]\nprojects = "all"\nenabled = false\n', []
    for project in sim.state.projects.values():
        drone = sim.state.device_pairs(project.uuid)[0].drone
        for i in range(CREATES):
            keys.append(f"SECRETKEY{project.uuid[:8]}x{i}")
            text += (
                f'[[create]]\nproject = "{project.uuid}"\nname = "{project.name}-new-{i}"\n'
                f'sn = "{drone.sn}"\ncamera_index = "81-0-0"\n'
                f'url = "rtmp://media.test/live/{keys[-1]}"\n'
            )
    path.write_text(text)
    return keys


async def dump_every_key(url: str) -> bytes:
    out: list[bytes] = []
    async with Redis.from_url(url) as redis:
        read = {
            "string": redis.get,
            "hash": redis.hgetall,
            "set": redis.smembers,
            "list": lambda key: redis.lrange(key, 0, -1),
            "zset": lambda key: redis.zrange(key, 0, -1),
            "stream": redis.xrange,
        }
        for key in await redis.keys("*"):
            kind = (await redis.type(key)).decode()
            out.append(key + b" " + repr(await read[kind](key)).encode())
    return b"\n".join(out)


def read_files(directory: Path, pattern: str) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob(pattern) if p.is_file())


async def follow_and_strike(
    url: str, run_id: str, total: int, strikes: list[tuple[float, Any]]
) -> dict[str, str]:
    """Every change's final state; each strike runs once that share of results is in."""
    states: dict[str, str] = {}
    async with Redis.from_url(url) as redis, asyncio.timeout(75):
        async for entry in RunStore(redis).follow(run_id, block_ms=200, patience=20):
            if entry.get("state") in FINAL:
                states[entry["key"]] = entry["state"]
            while strikes and len(states) >= strikes[0][0] * total:
                await asyncio.to_thread(strikes.pop(0)[1])
            if len(states) >= total:
                return states
    raise AssertionError("unreachable")


async def test_chaos_one_runner_per_shard_nothing_twice_nothing_secret(
    tmp_path: Path, flips: Counter[str]
) -> None:
    redis = RedisServer(persist_dir=str(tmp_path / "redis"))
    (tmp_path / "redis").mkdir()
    redis.start()
    sim = Simulator(
        projects=PROJECTS, docks_per_project=2, converters_per_project=6, converter_limit=500
    )
    await sim.start()
    env = {**os.environ, "AIODJI_TOKEN": sim.token, "AIODJI_QUEUE_KEY": QUEUE_KEY}
    pool = Workers(redis.url, sim.token, lease=2.0, logs=tmp_path)
    pool.env = env
    try:
        sim.faults.latency = 0.05
        sim.faults.error_rate = 0.03  # 5xx, not applied
        sim.faults.reset_before_rate = 0.02  # a connection dropped before the request
        stream_keys = desired_file(sim, tmp_path / "desired.toml")
        to_flip = {c.converter_id for c in sim.state.converters.values() if c.auto_push_stream}
        first, _, _ = pool.start(), pool.start(), pool.start()
        args = ["--json", "--base-url", sim.url, "converters", "apply"]
        args += ["-f", str(tmp_path / "desired.toml"), "--queue", redis.url]
        enqueuer = await asyncio.to_thread(
            subprocess.Popen, [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert enqueuer.stdout is not None
        run = orjson.loads(await asyncio.to_thread(enqueuer.stdout.readline))
        assert run["type"] == "run" and run["shards"] == PROJECTS

        def kill_and_replace() -> None:
            os.kill(first.pid, signal.SIGKILL)
            pool.start()

        states = await follow_and_strike(
            redis.url,
            run["run_id"],
            run["changes"],
            [(0.3, kill_and_replace), (0.6, redis.restart)],
        )
        out, _ = await asyncio.to_thread(enqueuer.communicate, timeout=60)
        failures = [line for line in out.splitlines() if b'"succeeded"' not in line]
        assert enqueuer.returncode == 0, failures  # followed through the restart
        summary = orjson.loads(out.splitlines()[-1])
        assert summary["succeeded"] == run["changes"] and summary["not_succeeded"] == 0
        assert first.wait(5) == -signal.SIGKILL

        # every change has a result; the final state is right
        assert len(states) == run["changes"] and set(states.values()) == {"succeeded"}
        names = [c.converter_name for c in sim.state.converters.values()]
        assert len(names) == len(set(names)) == PROJECTS * (6 + CREATES)
        assert not any(c.auto_push_stream for c in sim.state.converters.values())
        # 0 changes executed twice
        new = [n for n in sim.state.create_counts if "-new-" in n]
        assert len(new) == PROJECTS * CREATES
        assert {sim.state.create_counts[n] for n in new} == {1}
        assert set(flips) == to_flip and set(flips.values()) == {1}

        # nothing secret at rest: every key, and the append-only file(s) on disk
        async with Redis.from_url(redis.url) as r:
            for _ in range(100):  # an ack lost in the restart: retaken after the idle timeout
                if not await r.xlen("aiodji:shards"):
                    break
                await asyncio.sleep(0.1)
            assert await r.xlen("aiodji:shards") == 0  # acknowledged shards are deleted
            assert await r.ttl(f"aiodji:run:{run['run_id']}:results") > 0
        at_rest = await dump_every_key(redis.url)
        at_rest += await asyncio.to_thread(read_files, tmp_path / "redis", "*")
        for secret in (*stream_keys, sim.token, QUEUE_KEY, "rtmp://"):
            assert secret.encode() not in at_rest, secret
        paths = [tmp_path / f"worker-{i}.log" for i in range(len(pool.procs))]
        records = await wait_for_logs(paths, lambda rs: len(shards_done(rs)) == PROJECTS)
        done = shards_done(records)
        assert len(done) == PROJECTS and set(done.values()) == {1}  # each shard done once
        logs = await asyncio.to_thread(read_files, tmp_path, "worker-*.log")
        assert b"Traceback" not in logs and b"never retrieved" not in logs
        assert not any(k.encode() in logs for k in stream_keys)
    finally:
        pool.stop()
        await sim.close()
        redis.stop()
