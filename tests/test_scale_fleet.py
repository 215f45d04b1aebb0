"""Fleet on Taskiq + Redis: the shard coroutine, tokens, multi-organization files, and end to
end with real worker processes (SIGKILL mid-shard, Redis restarted mid-run)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

import aiodji
from aiodji.bulk import ItemResult, ItemState
from aiodji.config import ConfigError
from aiodji.fleet import Change, CreateSpec, Desired, Selection, StateRule
from aiodji.scale.controller import enqueue_run
from aiodji.scale.organizations import Organization, load_organizations
from aiodji.scale.runs import FINAL, RunStore
from aiodji.scale.sealing import Sealer
from aiodji.scale.shard import Shard, make_shards, run_shard
from aiodji.scale.tokens import TokenRefs
from aiodji.sim import Simulator
from tests._redis import RedisServer, redis_server

__all__ = ["redis_server"]

pytestmark = pytest.mark.anyio

QUEUE_KEY = "dGVzdC1xdWV1ZS1rZXktMzItYnl0ZXMtbG9uZy0xMjM="  # a Fernet key, for tests only
SEALER = Sealer(QUEUE_KEY.encode())


def make_sim() -> Simulator:
    return Simulator(projects=3, docks_per_project=2, converters_per_project=4, converter_limit=500)


def creates(sim: Simulator, per_project: int) -> Desired:
    specs = []
    for project in sim.state.projects.values():
        drone = sim.state.device_pairs(project.uuid)[0].drone
        specs += [
            CreateSpec(
                project=project.uuid,
                name=f"{project.name}-new-{i}",
                sn=drone.sn,
                camera_index="81-0-0",
                url=f"rtmp://media.test/{project.uuid}/{i}",
            )
            for i in range(per_project)
        ]
    rule = StateRule(Selection(), enabled=False)
    return Desired(rules=(rule,), create=tuple(specs), converter_limit=500)


def assert_desired(sim: Simulator, desired: Desired) -> None:
    names = [c.converter_name for c in sim.state.converters.values()]
    assert len(names) == len(set(names))  # never a duplicate
    for spec in desired.create:
        assert sim.state.create_counts[spec.name] == 1, spec.name  # created exactly once
    assert not any(c.auto_push_stream for c in sim.state.converters.values())


async def test_a_redelivered_shard_does_only_what_is_missing() -> None:
    async with make_sim() as sim:
        desired = creates(sim, 5)
        async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
            plan = await dji.fleet.plan(desired)
            shards = make_shards(
                plan, run_id="r1", organization="o", token_ref="env:T", base_url=sim.url
            )
            assert len(shards) == 3  # one per project
            messages = [orjson.dumps(s.to_dict(SEALER)) for s in shards]
            assert all(b'token"' not in m and b"rtmp://" not in m for m in messages)
            first: list[ItemResult[Change, Any]] = []
            for shard in shards:
                await run_shard(dji, Shard.from_dict(shard.to_dict(SEALER), SEALER), first.append)
            again: list[ItemResult[Change, Any]] = []
            for shard in shards:  # at-least-once: the same shards delivered a second time
                await run_shard(dji, shard, again.append)
        assert len(first) == len(again) == len(plan.changes)
        assert all(r.state is ItemState.SUCCEEDED for r in (*first, *again))
        assert all(r.attempts == 0 for r in again)  # re-planned: nothing left to send
        assert_desired(sim, desired)


def test_token_references_and_organization_files(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text('acme = "tok-acme"\n')
    refs = TokenRefs(env={"B_TOKEN": "tok-b"}, file=tokens)
    assert refs.token_for("env:B_TOKEN") == "tok-b"
    assert refs.token_for("file:acme") == "tok-acme"
    for bad in ("env:MISSING", "file:nobody", "tok-acme"):
        with pytest.raises(ConfigError) as err:
            refs.token_for(bad)
        assert "tok-" not in str(err.value)
    desired = tmp_path / "orgs.toml"
    desired.write_text(
        '[[organizations]]\nname = "acme"\ntoken = "file:acme"\n'
        'base_url = "http://127.0.0.1:1"\nconverter_limit = 30\n'
        '[[organizations.converters]]\nprojects = "all"\nenabled = false\n'
        '[[organizations]]\nname = "b"\ntoken = "env:B_TOKEN"\n'
    )
    acme, b = load_organizations(desired)
    assert (acme.name, acme.token_ref, acme.base_url) == ("acme", "file:acme", "http://127.0.0.1:1")
    assert acme.desired.converter_limit == 30 and len(acme.desired.rules) == 1
    assert b.base_url is None and b.desired == Desired()
    desired.write_text('[[organizations]]\nname = "x"\ntoken = "tok-raw"\n')
    with pytest.raises(aiodji.InvalidArgumentError):
        load_organizations(desired)


class Workers:
    """``aiodji worker`` processes; killed by pid. ``logs``: a directory for their stderr
    (``worker-N.log``, JSON lines); without it they are silent unless AIODJI_TEST_WORKER_LOGS."""

    def __init__(
        self, url: str, token: str, *, lease: float = 1.0, logs: Path | None = None
    ) -> None:
        self.url, self.lease, self.logs = url, lease, logs
        self.env = {**os.environ, "SIM_TOKEN": token, "AIODJI_QUEUE_KEY": QUEUE_KEY}
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        args = ["--concurrency", "2", "worker", "--queue", self.url]
        args += ["--idle-timeout", "1", "--lease", str(self.lease), "--shards", "2"]
        if self.logs is None:
            return self._spawn(
                args, None if os.environ.get("AIODJI_TEST_WORKER_LOGS") else subprocess.DEVNULL
            )
        with (self.logs / f"worker-{len(self.procs)}.log").open("wb") as sink:
            return self._spawn([*args, "--log-format", "json"], sink)

    def _spawn(self, args: list[str], stderr: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from aiodji.cli import main; main()", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def log_records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The JSON log records of workers started with ``--log-format json``."""
    lines = [line for path in paths for line in path.read_bytes().splitlines()]
    return [orjson.loads(line) for line in lines if line.startswith(b"{")]


async def wait_for_logs(
    paths: Iterable[Path], ready: Callable[[list[dict[str, Any]]], bool], seconds: float = 20
) -> list[dict[str, Any]]:
    """The records once ``ready`` says so (a worker may still be finishing what the run's
    results already show: marking a shard done after a Redis restart); bounded."""
    paths = list(paths)
    for _ in range(int(seconds * 10)):
        records = await asyncio.to_thread(log_records, paths)
        if ready(records):
            return records
        await asyncio.sleep(0.1)
    return await asyncio.to_thread(log_records, paths)


def shards_done(records: list[dict[str, Any]]) -> Counter[str]:
    """How many times each shard was logged done (its id is the message's second word)."""
    return Counter(r["message"].split()[1] for r in records if r.get("result") == "done")


@pytest.fixture
def workers(redis_server: RedisServer) -> Iterator[Workers]:
    pool = Workers(redis_server.url, "")
    try:
        yield pool
    finally:
        pool.stop()


async def run_to_end(url: str, run_id: str, total: int, *, on_first: Any = None) -> dict[str, str]:
    states: dict[str, str] = {}
    async with Redis.from_url(url) as redis:
        async with asyncio.timeout(30):
            async for entry in RunStore(redis).follow(run_id, block_ms=200):
                if on_first is not None and not states:
                    on_first()
                if entry.get("state") in FINAL:
                    states[entry["key"]] = entry["state"]
                if len(states) >= total:
                    return states
    raise AssertionError("unreachable")


async def enqueue(sim: Simulator, url: str, desired: Desired) -> Any:
    org = Organization("sim", "env:SIM_TOKEN", sim.url, desired)
    tokens = TokenRefs(env={"SIM_TOKEN": sim.token})
    return await enqueue_run(url, [org], tokens=tokens, sealer=SEALER)


async def test_two_workers_end_to_end_and_runs_show(
    redis_server: RedisServer, workers: Workers
) -> None:
    async with make_sim() as sim:
        sim.faults.latency = 0.02
        workers.env["SIM_TOKEN"] = sim.token
        workers.start()
        workers.start()
        desired = creates(sim, 10)
        run = await enqueue(sim, redis_server.url, desired)
        assert run.shards == 3 and run.total == 30 + 6  # 30 creates, 6 seeded ones to disable
        states = await run_to_end(redis_server.url, run.run_id, run.total)
        assert set(states.values()) == {"succeeded"}
        assert_desired(sim, desired)
        show = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-c",
                "from aiodji.cli import main; main()",
                "runs",
                "show",
                run.run_id,
                "--queue",
                redis_server.url,
            ],
            capture_output=True,
            timeout=30,
            check=True,
        )
        lines = show.stdout.decode().splitlines()
        assert '"type":"run"' in lines[0] and len(lines) >= 1 + run.total
        assert sim.token not in show.stdout.decode()


async def test_sigkill_mid_shard_is_redelivered_without_duplicates(
    redis_server: RedisServer, workers: Workers
) -> None:
    async with make_sim() as sim:
        sim.faults.latency = 0.05
        workers.env["SIM_TOKEN"] = sim.token
        first = workers.start()
        desired = creates(sim, 12)
        run = await enqueue(sim, redis_server.url, desired)

        def kill_then_replace() -> None:
            os.kill(first.pid, signal.SIGKILL)  # mid-shard: it has just reported its first item
            workers.start()

        states = await run_to_end(
            redis_server.url, run.run_id, run.total, on_first=kill_then_replace
        )
        assert first.wait(5) == -signal.SIGKILL
        assert len(states) == run.total and set(states.values()) == {"succeeded"}
        assert_desired(sim, desired)


def _working(records: list[dict[str, Any]]) -> bool:
    """Both workers started and a shard taken."""
    started = sum(r["message"].startswith("worker started") for r in records)
    return started == 2 and any(" taken (fencing token " in r["message"] for r in records)


async def test_redis_restart_mid_run_completes(tmp_path: Path) -> None:
    redis = RedisServer(persist_dir=str(tmp_path))  # the queue must survive the restart
    redis.start()
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Workers(redis.url, "", logs=logs)
    try:
        async with make_sim() as sim:
            sim.faults.latency = 0.05
            pool.env["SIM_TOKEN"] = sim.token
            pool.start()
            pool.start()
            desired = creates(sim, 12)
            run = await enqueue(sim, redis.url, desired)
            # both workers up and working first: one still starting would meet "nothing
            # listening" and exit 7 by design (docs/how-to/scale-out.md); a running one waits
            # the restart out. A shard takes about 0.8 s: the restart falls inside it
            records = await wait_for_logs(logs.glob("worker-*.log"), _working)
            assert _working(records), records
            await asyncio.to_thread(redis.restart)
            states = await run_to_end(redis.url, run.run_id, run.total)
            assert len(states) == run.total and set(states.values()) == {"succeeded"}
            assert_desired(sim, desired)
            assert [p.poll() for p in pool.procs] == [None] * len(pool.procs)  # nothing crashed
    finally:
        pool.stop()
        redis.stop()


async def test_cli_apply_on_queue_no_wait_json(redis_server: RedisServer, tmp_path: Path) -> None:
    async with make_sim() as sim:
        desired = tmp_path / "desired.toml"
        desired.write_text('[[converters]]\nprojects = "all"\nenabled = false\n')
        argv = [sys.executable, "-c", "from aiodji.cli import main; main()", "--json"]
        argv += ["--base-url", sim.url, "converters", "apply", "-f", str(desired)]
        argv += ["--queue", redis_server.url, "--no-wait"]
        env = {**os.environ, "AIODJI_TOKEN": sim.token}
        done = await asyncio.to_thread(
            subprocess.run, argv, env=env, capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        run = orjson.loads(done.stdout.splitlines()[0])
        assert run["type"] == "run" and run["changes"] == 6 and run["shards"] == 3
        assert sim.token.encode() not in done.stdout + done.stderr
        async with Redis.from_url(redis_server.url) as redis:
            assert (await RunStore(redis).meta(run["run_id"]))["total"] == 6
