"""Queue mode as an operator meets it: Redis away or wrong (one line, exit 7 / 2), runs show
and runs cancel, Ctrl-C while following a run, worker logs, and nothing secret at rest."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from aiodji.scale.organizations import load_organizations
from aiodji.scale.runs import FINAL, RunStore
from aiodji.sim import Simulator
from tests._redis import RedisServer, redis_server
from tests._servers import unused_port
from tests.test_scale_fleet import (
    QUEUE_KEY,
    Workers,
    creates,
    enqueue,
    log_records,
    make_sim,
    shards_done,
    wait_for_logs,
)

__all__ = ["redis_server"]

pytestmark = pytest.mark.anyio

CLI = [sys.executable, "-c", "from aiodji.cli import main; main()"]
DISABLE_ALL = '[[converters]]\nprojects = "all"\nenabled = false\n'


def aiodji(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60
    )


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert text in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


async def test_nothing_listening_is_one_line_exit_7_without_the_password(tmp_path: Path) -> None:
    dead = f"redis://:s3cret-pw@127.0.0.1:{unused_port()}/0"
    where = f"cannot reach Redis at redis://127.0.0.1:{dead.rsplit(':', 1)[1].split('/')[0]}"
    desired = tmp_path / "d.toml"
    desired.write_text(DISABLE_ALL)
    for args in (
        ("runs", "show", "r1", "--queue", dead),
        ("runs", "cancel", "r1", "--queue", dead),
        ("worker", "--queue", dead),
        ("--base-url", "http://127.0.0.1:1", "converters", "apply", "-f", str(desired)),
    ):
        extra = ("--queue", dead) if "apply" in args else ()
        done = await asyncio.to_thread(aiodji, *args, *extra, env={"AIODJI_TOKEN": "t"})
        assert_one_line(done, 7, where)
        assert "s3cret" not in done.stderr + done.stdout


async def test_a_queue_url_that_is_not_redis_is_a_usage_error(tmp_path: Path) -> None:
    desired = tmp_path / "d.toml"
    desired.write_text(DISABLE_ALL)
    apply = ("--base-url", "http://127.0.0.1:1", "converters", "apply", "-f", str(desired))
    for args in (
        ("runs", "show", "r1", "--queue", "http://127.0.0.1:6379"),
        ("worker", "--queue", "http://127.0.0.1:6379"),
        (*apply, "--queue", "http://127.0.0.1:6379"),
        (*apply, "--queue", "redis://127.0.0.1:99999"),
    ):
        done = await asyncio.to_thread(aiodji, *args, env={"AIODJI_TOKEN": "t"})
        assert_one_line(done, 2, "--queue")


async def test_runs_show_of_no_run_is_exit_5(redis_server: RedisServer) -> None:
    for command in ("show", "cancel"):
        done = await asyncio.to_thread(aiodji, "runs", command, "nope", "--queue", redis_server.url)
        assert_one_line(done, 5, "no run 'nope'")


async def test_creates_are_refused_without_a_queue_key(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with make_sim() as sim:
        project = next(iter(sim.state.projects.values()))
        drone = sim.state.device_pairs(project.uuid)[0].drone
        desired = tmp_path / "d.toml"
        desired.write_text(
            f'[[create]]\nproject = "{project.uuid}"\nname = "n1"\nsn = "{drone.sn}"\n'
            'camera_index = "81-0-0"\nurl = "rtmp://media.test/live/KEY-abc"\n'
        )
        env = {"AIODJI_TOKEN": sim.token, "AIODJI_QUEUE_KEY": "", "AIODJI_QUEUE_KEY_FILE": ""}
        args = ("--base-url", sim.url, "converters", "apply", "-f", str(desired))
        done = await asyncio.to_thread(aiodji, *args, "--queue", redis_server.url, env=env)
        assert_one_line(done, 3, "AIODJI_QUEUE_KEY")
        async with Redis.from_url(redis_server.url) as redis:
            assert not await redis.keys("*")  # refused before anything was written


async def test_organizations_without_an_access_point_use_the_profiles(tmp_path: Path) -> None:
    """The access point comes from the command line, AIODJI_BASE_URL or a profile, not only
    --base-url; an organization with its own keeps it."""
    desired = tmp_path / "d.toml"
    desired.write_text(
        '[[organizations]]\nname = "a"\ntoken = "env:A"\n'
        '[[organizations]]\nname = "b"\ntoken = "env:B"\nbase_url = "https://b.example"\n'
    )
    a, b = load_organizations(desired, region="eu")
    assert (a.base_url, a.region) == (None, "eu") and (b.base_url, b.region) == (
        "https://b.example",
        None,
    )


async def test_apply_on_queue_takes_the_access_point_from_the_environment(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with make_sim() as sim:
        desired = tmp_path / "d.toml"
        desired.write_text(DISABLE_ALL)
        env = {"AIODJI_TOKEN": sim.token, "AIODJI_BASE_URL": sim.url}
        args = ("--json", "converters", "apply", "-f", str(desired), "--no-wait")
        done = await asyncio.to_thread(aiodji, *args, "--queue", redis_server.url, env=env)
        assert done.returncode == 0, done.stderr
        assert orjson.loads(done.stdout.splitlines()[0])["changes"] == 6


async def test_cancel_stops_the_run_and_runs_show_says_so(redis_server: RedisServer) -> None:
    async with make_sim() as sim:
        desired = creates(sim, 3)
        run = await enqueue(sim, redis_server.url, desired)
        done = await asyncio.to_thread(
            aiodji, "runs", "cancel", run.run_id, "--queue", redis_server.url
        )
        assert done.returncode == 0, done.stderr
        pool = Workers(redis_server.url, sim.token)
        pool.start()
        try:
            states = await _finals(redis_server.url, run.run_id, run.total)
        finally:
            pool.stop()
        assert set(states.values()) == {"not_attempted"}  # no shard taken after the cancel
        assert not any(sim.state.create_counts.values())
        show = await asyncio.to_thread(
            aiodji, "runs", "show", run.run_id, "--queue", redis_server.url
        )
        header = orjson.loads(show.stdout.splitlines()[0])
        assert header["status"] == "cancelled" and header["total"] == run.total


async def _finals(url: str, run_id: str, total: int) -> dict[str, str]:
    states: dict[str, str] = {}
    async with Redis.from_url(url) as redis, asyncio.timeout(30):
        async for entry in RunStore(redis).follow(run_id, block_ms=200):
            if entry.get("state") in FINAL:
                states[entry["key"]] = entry["state"]
            if len(states) >= total:
                return states
    raise AssertionError("unreachable")


def _start_apply(sim: Simulator, url: str, desired: Path, **env: str) -> subprocess.Popen[bytes]:
    desired.write_text(DISABLE_ALL)
    args = ["--json", "--base-url", sim.url, "converters", "apply", "-f", str(desired)]
    return subprocess.Popen(
        [*CLI, *args, "--queue", url],
        env={**os.environ, "AIODJI_TOKEN": sim.token, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _first_line(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
    record: dict[str, Any] = orjson.loads(line)
    return record


async def test_ctrl_c_while_following_prints_the_summary_and_both_commands(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with make_sim() as sim:
        proc = _start_apply(sim, redis_server.url, tmp_path / "d.toml")
        run = await _first_line(proc)  # enqueued; no worker: the follow waits
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        assert proc.returncode == 130, err
        summary = orjson.loads(out.splitlines()[-1])
        assert summary == {
            "type": "summary",
            "run_id": run["run_id"],
            "succeeded": 0,
            "not_succeeded": 0,
            "stopped": "interrupted",
        }
        text = err.decode()
        assert f"aiodji runs show {run['run_id']}" in text
        assert f"aiodji runs cancel {run['run_id']}" in text
        assert "Traceback" not in text


async def test_redis_killed_while_following_ends_with_the_run_id_exit_7(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with make_sim() as sim:
        proc = _start_apply(sim, redis_server.url, tmp_path / "d.toml", AIODJI_QUEUE_PATIENCE="1")
        run = await _first_line(proc)
        redis_server.stop()  # and it does not come back
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        text = err.decode()
        assert proc.returncode == 7, text
        assert f"cannot reach Redis at redis://127.0.0.1:{redis_server.port}" in text
        assert run["run_id"] in text and "workers may still be working" in text
        assert f"aiodji runs show {run['run_id']}" in text
        assert "Traceback" not in text
        records = [orjson.loads(line) for line in out.splitlines()]
        assert records[-2]["stopped"] == "redis unreachable"  # the summary so far
        assert records[-1]["type"] == "error" and records[-1]["exit_code"] == 7


async def test_the_follow_survives_a_redis_restart(tmp_path: Path) -> None:
    server = RedisServer(persist_dir=str(tmp_path))
    server.start()
    pool = Workers(server.url, "")
    try:
        async with make_sim() as sim:
            pool.env["SIM_TOKEN"] = sim.token
            proc = _start_apply(sim, server.url, tmp_path / "d.toml")
            await _first_line(proc)
            await asyncio.to_thread(server.restart)
            pool.env["AIODJI_TOKEN"] = sim.token
            pool.start()
            out, err = await asyncio.to_thread(proc.communicate, timeout=60)
            assert proc.returncode == 0, err.decode()
            summary = orjson.loads(out.splitlines()[-1])
            assert summary["succeeded"] == 6 and summary["not_succeeded"] == 0
    finally:
        pool.stop()
        server.stop()


def _json_worker(url: str, token: str, sink: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "worker", "--queue", url, "--log-format", "json"],
        env={**os.environ, "SIM_TOKEN": token, "AIODJI_QUEUE_KEY": QUEUE_KEY},
        stdout=subprocess.DEVNULL,
        stderr=sink,
    )


async def test_worker_logs_start_shards_and_redis_lost_and_back_once(tmp_path: Path) -> None:
    server = RedisServer(persist_dir=str(tmp_path))
    server.start()
    log = tmp_path / "worker.log"
    try:
        async with make_sim() as sim:
            with log.open("wb") as sink:
                proc = _json_worker(server.url, sim.token, sink)
                try:
                    run = await enqueue(sim, server.url, creates(sim, 1))
                    await _finals(server.url, run.run_id, run.total)
                    server.stop()
                    await asyncio.sleep(1.5)  # several failed reads: one "lost" line
                    await asyncio.to_thread(server.start)

                    def settled(records: list[dict[str, Any]]) -> bool:
                        back = any(r["message"].startswith("Redis back") for r in records)
                        return back and len(shards_done(records)) == run.shards

                    await wait_for_logs([log], settled)
                finally:
                    proc.send_signal(signal.SIGINT)
                    proc.wait(15)
        lines = log.read_bytes().splitlines()
        records = log_records([log])
        assert len(records) >= len(lines) - 1  # all JSON but the CLI's final "interrupted"
        messages = [r["message"] for r in records]
        assert any(m.startswith("worker started") for m in messages)
        results = [r.get("result") for r in records]
        assert results.count("taken") == run.shards
        assert set(shards_done(records).values()) == {1} and len(shards_done(records)) == run.shards
        assert sum(m.startswith("Redis lost") for m in messages) == 1
        assert sum(m.startswith("Redis back") for m in messages) == 1
        assert "never retrieved" not in log.read_text() and "Traceback" not in log.read_text()
    finally:
        server.stop()


async def test_cancel_mid_run_lets_in_flight_changes_finish_and_records_them(
    redis_server: RedisServer,
) -> None:
    async with make_sim() as sim:
        sim.faults.latency = 0.2
        desired = creates(sim, 12)
        run = await enqueue(sim, redis_server.url, desired)
        pool = Workers(redis_server.url, sim.token)
        pool.start()
        try:
            states: dict[str, str] = {}
            async with Redis.from_url(redis_server.url) as redis, asyncio.timeout(40):
                store = RunStore(redis)
                async for entry in store.follow(run.run_id, block_ms=200):
                    if entry.get("state") in FINAL:
                        if not states:
                            assert await store.cancel(run.run_id)
                        states[entry["key"]] = entry["state"]
                    if len(states) >= run.total:
                        break
        finally:
            pool.stop()
        counts = Counter(states.values())
        assert counts["succeeded"] >= 1 and counts["not_attempted"] >= 1
        assert set(counts) <= {"succeeded", "not_attempted"}
        for spec in desired.create:  # what was stopped was never sent
            key = next(k for k in states if k.endswith(f":{spec.name}"))
            sent = sim.state.create_counts[spec.name]
            assert sent == (1 if states[key] == "succeeded" else 0), spec.name


def test_sealed_fields_open_only_with_the_same_key() -> None:
    from cryptography.fernet import Fernet

    from aiodji.config import ConfigError
    from aiodji.fleet import Change, ChangeKind, CreateSpec
    from aiodji.scale.sealing import Sealer, load_sealer
    from aiodji.scale.shard import Shard

    spec = CreateSpec("p", "n", "sn", "81-0-0", url="rtmp://h/live/KEY-123")
    change = Change(ChangeKind.CREATE, "p", converter_name="n", spec=spec)
    shard = Shard("r", "s", "o", "env:T", None, (change,))
    mine = Sealer(Fernet.generate_key())
    message = orjson.dumps(shard.to_dict(mine))
    assert b"KEY-123" not in message and b"rtmp://" not in message
    assert Shard.from_dict(orjson.loads(message), mine) == shard
    for other in (Sealer(Fernet.generate_key()), None):
        with pytest.raises(ConfigError):
            Shard.from_dict(orjson.loads(message), other)
    with pytest.raises(ConfigError, match="AIODJI_QUEUE_KEY"):
        shard.to_dict(None)  # a create is never enqueued in clear
    assert "KEY" not in repr(mine)
    assert load_sealer({}) is None
    with pytest.raises(ConfigError) as bad:
        load_sealer({"AIODJI_QUEUE_KEY": "not-a-key-s3cret"})
    assert "s3cret" not in str(bad.value)


def test_an_unexpected_worker_error_is_one_internal_error_line_exit_70(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    import aiodji.scale.broker as broker
    from aiodji.cli import cli, register

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(broker, "run_worker", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("AIODJI_DEBUG", raising=False)
    register()
    loggers = [logging.getLogger(name) for name in ("aiodji", "taskiq")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    try:
        done = CliRunner().invoke(cli, ["worker", "--queue", "redis://127.0.0.1:1/0"])
    finally:  # the worker's log handler writes to the runner's stream: not beyond this test
        for lg, handlers, level, propagate in saved:
            lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate
    assert done.exit_code == 70, done.output
    assert "internal error: RuntimeError: a bug (details: " in done.output
    assert "Traceback" not in done.output
    assert list((tmp_path / "aiodji").glob("crash-worker-*.txt"))
