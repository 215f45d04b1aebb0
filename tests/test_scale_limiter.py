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


async def test_congestion_in_one_process_sets_the_shared_rate(redis_server: RedisServer) -> None:
    key = "aiodji:budget:t3"
    a = RedisLimiter(redis_server.url, key, 8)
    b = RedisLimiter(redis_server.url, key, 8)
    loop = asyncio.get_running_loop()
    try:
        for _ in range(40):
            assert await a._shared_wait() == 0  # discovery: no shared rate yet
            a.on_success()
        await asyncio.sleep(0.2)
        # the ratecontrol judge: one 429 is noise, a few in the window are congestion
        signals = [a.on_rate_limited(loop.time()) for _ in range(4)]
        assert signals[0] is RateSignal.NOISE and signals[-1] is not RateSignal.NOISE
        await asyncio.gather(*a._tasks)
        shared = await a._redis.hgetall(key)
        assert float(shared[b"ceiling"]) > 1  # from what the budget admitted
        await b._shared_wait()
        assert b.shared_rate is not None  # b follows the shared curve now
        # an event of a request reserved before the last event: the same burst, ignored
        event = a._script("event")
        args = [1, ratecontrol.BETA, ratecontrol.CUBIC_C, ratecontrol.MIN_RATE, 10]
        assert await event(keys=[key], args=args) == 0
    finally:
        await a.aclose()
        await b.aclose()


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
