"""RedisRateLimit: the GCRA and pause Lua scripts run for real in a throw-away redis-server."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

import aiodji
from aiodji import ratecontrol
from aiodji.ratecontrol import RateSignal
from aiodji.scale import RedisLimiter, budget_key, redis_limiter
from aiodji.scale.budget_key import organization_of
from aiodji.sim import Simulator
from tests._redis import RedisServer, redis_server

__all__ = ["redis_server"]

pytestmark = pytest.mark.anyio


def test_import_aiodji_does_not_import_redis() -> None:
    import subprocess

    code = "import sys, aiodji; aiodji.Client; assert 'redis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_budget_key_is_the_organization_never_the_token() -> None:
    sim = Simulator()
    assert organization_of(sim.token) == sim.state.org_uuid
    assert budget_key(sim.token) == f"aiodji:budget:{sim.state.org_uuid}"
    assert budget_key(sim.token, "team-a") == "aiodji:budget:team-a"
    for opaque in ("not-a-jwt", "a.b.c", "x.eyJvcmdhbml6YXRpb25fdXVpZCI6IDF9.y"):
        key = budget_key(opaque)
        assert key.startswith("aiodji:budget:token-") and opaque not in key


async def test_reservations_are_fifo_across_processes(redis_server: RedisServer) -> None:
    # two limiters = two processes on one budget: each reservation waits one interval more
    a = RedisLimiter(redis_server.url, "aiodji:budget:t1", 8, rate=20.0, burst=1)
    b = RedisLimiter(redis_server.url, "aiodji:budget:t1", 8, rate=20.0, burst=1)
    try:
        waits = [await (a if i % 2 else b)._shared_wait() for i in range(10)]
    finally:
        await a.aclose()
        await b.aclose()
    assert waits == sorted(waits)
    assert waits[-1] >= 8 / 20  # 10 reservations at 20/s span at least 9 intervals, minus slack
    assert a.redis_calls == b.redis_calls == 5


async def test_a_pause_holds_every_process(redis_server: RedisServer) -> None:
    a = RedisLimiter(redis_server.url, "aiodji:budget:t2", 8)
    b = RedisLimiter(redis_server.url, "aiodji:budget:t2", 8)
    try:
        a.pause(2.0)
        await asyncio.gather(*a._tasks)
        assert await b._shared_wait() > 1.5  # b never saw the 429 itself
    finally:
        await a.aclose()
        await b.aclose()


async def _replies(limiter: RedisLimiter, accepted: int) -> None:
    for _ in range(accepted):
        assert await limiter._shared_wait() == 0  # discovery: no shared rate yet
        limiter.on_success()


async def _limited(limiter: RedisLimiter, n: int) -> None:
    """``n`` 429s of requests reserved before now (the task's last reservation)."""
    loop = asyncio.get_running_loop()
    for _ in range(n):
        limiter.on_rate_limited(loop.time())
        await asyncio.gather(*limiter._tasks)  # in order: one report after the other


async def _shared_rate(limiter: RedisLimiter) -> float | None:
    await limiter._shared_wait()
    return limiter.shared_rate


async def test_congestion_is_judged_on_the_shared_counters(redis_server: RedisServer) -> None:
    # four processes each see 2 429s among 12 replies: noise for each alone, congestion for
    # the budget (8 of 48); the burst makes ONE back-off, its later 429s are the same burst
    key = "aiodji:budget:t3"
    procs = [RedisLimiter(redis_server.url, key, 8) for _ in range(4)]
    try:
        for p in procs:
            await _replies(p, 10)
        await asyncio.sleep(0.1)  # the window must span more than the burst (rate = replies/s)
        for p in procs:
            await _limited(p, 2)
        rates = [await _shared_rate(p) for p in procs]
        assert all(r is not None for r in rates)  # every process follows the shared curve
        verdicts = [p.verdicts for p in procs]
        assert sum(v["congestion"] + v["saturation"] for v in verdicts) == 1
        assert sum(v["ignored"] for v in verdicts) == 4  # reserved before the cut
        shared = await procs[0]._redis.hgetall(key)
        assert int(shared[b"events"]) == 1
        assert float(shared[b"ceiling"]) > 1  # from what the server accepted in the window
        assert procs[0].stats.congestion_events + procs[1].stats.congestion_events == 1
    finally:
        for p in procs:
            await p.aclose()


async def test_one_unlucky_process_does_not_back_off_the_budget(
    redis_server: RedisServer,
) -> None:
    # one process got 3 429s of its only 3 replies (saturation, alone), the other three 40
    # accepted each: 3 of 123 is noise for the budget, no back-off
    key = "aiodji:budget:t4"
    procs = [RedisLimiter(redis_server.url, key, 8) for _ in range(4)]
    try:
        for p in procs[1:]:
            await _replies(p, 40)
        for _ in range(3):
            await procs[0]._shared_wait()
        signals = [procs[0].on_rate_limited(asyncio.get_running_loop().time()) for _ in range(3)]
        assert signals[-1] is RateSignal.SATURATION  # the local reading (this retry only)
        await asyncio.gather(*procs[0]._tasks)
        assert [await _shared_rate(p) for p in procs] == [None] * 4
        assert procs[0].verdicts["noise"] == 3
    finally:
        for p in procs:
            await p.aclose()


async def test_event_of_an_earlier_burst_is_ignored(redis_server: RedisServer) -> None:
    key = "aiodji:budget:t5"
    a = RedisLimiter(redis_server.url, key, 8)
    try:
        await _replies(a, 20)
        await _limited(a, 4)  # the 4th: an event
        event = a._script("event")
        args = [1, 0, ratecontrol.BETA, *redis_limiter._CURVE]
        args += [*redis_limiter._RING, *redis_limiter._JUDGE]
        assert await event(keys=[key], args=args) == 0  # reserved at 1 µs: long before
    finally:
        await a.aclose()


async def test_client_uses_the_shared_budget(redis_server: RedisServer) -> None:
    async with Simulator() as sim:
        limit = aiodji.RedisRateLimit(redis_server.url, rate=200.0)
        async with aiodji.Client(token=sim.token, base_url=sim.url, rate_limit=limit) as dji:
            projects = await asyncio.gather(*(dji.projects.list() for _ in range(20)))
            assert all(len(p) == 3 for p in projects)
            limiter = dji.limiter
            assert isinstance(limiter, RedisLimiter)
            assert limiter.redis_calls == 20 and limiter.redis_available
            assert sim.token not in repr(limit) and sim.token not in limiter.key


async def test_fail_closed_then_recover(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_limiter, "RETRY_REDIS", 0.0)
    redis = RedisServer()  # not started yet: Redis is away
    async with Simulator() as sim:
        limit = aiodji.RedisRateLimit(redis.url)
        async with aiodji.Client(token=sim.token, base_url=sim.url, rate_limit=limit) as dji:
            with caplog.at_level(logging.WARNING, "aiodji.scale"):
                for _ in range(3):
                    assert len(await dji.projects.list()) == 3
            limiter = dji.limiter
            assert isinstance(limiter, RedisLimiter)
            assert not limiter.redis_available
            assert limiter.rate == redis_limiter.FALLBACK_RATE
            assert limiter.stats.mode == "fallback"
            assert sum("unreachable" in r.message for r in caplog.records) == 1
            assert sim.token not in caplog.text
            redis.start()
            try:
                assert len(await dji.projects.list()) == 3
                assert limiter.redis_available and limiter.rate is None
                assert limiter.stats.mode == "shared"
            finally:
                await limiter.aclose()
                redis.stop()
