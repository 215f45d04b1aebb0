"""RedisRateLimit: the GCRA and pause Lua scripts run for real in a throw-away redis-server."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator

import pytest

import aiodji
from aiodji import ratecontrol
from aiodji.ratecontrol import RateSignal
from aiodji.scale import RedisLimiter, budget_key, redis_limiter
from aiodji.scale.budget import FALLBACK_RATE
from aiodji.scale.budget_key import organization_of
from aiodji.sim import Simulator
from tests._redis import RedisServer, redis_server

__all__ = ["redis_server"]

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_process_shares() -> Iterator[None]:
    """Each test a fresh process as far as the budgets' shared state goes."""
    redis_limiter._SHARES.clear()
    yield
    redis_limiter._SHARES.clear()


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


@pytest.fixture
def wide_horizon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reserve as many slots as a test asks at once, however far ahead they go."""
    monkeypatch.setattr(redis_limiter, "HORIZON", 60.0)


async def _reserve(
    limiter: RedisLimiter, n: int = 1, give: tuple[int, int, int] = (0, 0, 0)
) -> list[int]:
    """One gcra.lua round trip: ``[reserved, first_us, floor_us, interval_us, now_us, ...]``."""
    reply = await limiter._call_gcra(asyncio.get_running_loop(), n, give)
    assert reply is not None
    return [int(v) for v in reply]


def _wait_s(reply: list[int], i: int = 0) -> float:
    """When slot ``i`` of a reservation goes, seconds after it was made."""
    return max(reply[2], reply[1] + i * reply[3]) / 1e6


@pytest.mark.usefixtures("wide_horizon")
async def test_reservations_are_fifo_across_processes(redis_server: RedisServer) -> None:
    # two limiters = two processes on one budget: each reservation waits one interval more
    a = RedisLimiter(redis_server.url, "aiodji:budget:t1", 8, rate=20.0, burst=1)
    b = RedisLimiter(redis_server.url, "aiodji:budget:t1", 8, rate=20.0, burst=1)
    try:
        waits = [_wait_s(await _reserve(a if i % 2 else b)) for i in range(5)]
    finally:
        await a.aclose()
        await b.aclose()
    assert waits == sorted(waits)
    assert waits[-1] >= 3.5 / 20  # 5 reservations at 20/s span 4 intervals, minus slack
    assert a.redis_calls + b.redis_calls == 5


async def test_a_batch_is_one_round_trip_spaced_by_the_rate(redis_server: RedisServer) -> None:
    a = RedisLimiter(redis_server.url, "aiodji:budget:t6", 8, rate=40.0, burst=1)
    try:
        reply = await _reserve(a, 8)  # a horizon's worth at most: 4 slots of 25 ms
        assert reply[0] == int(redis_limiter.HORIZON * 40) == 4 and a.redis_calls == 1
        assert reply[3] == 25_000  # µs between slots: the shared rate
        slots = [_wait_s(reply, i) for i in range(4)]
        assert slots == sorted(slots) and slots[3] - slots[0] == pytest.approx(0.075, abs=1e-3)
        # the budget is now queued a horizon ahead: the next batch waits, nothing is taken
        full = await _reserve(a, 4)
        assert full[0] == 0 and full[1] > 0
    finally:
        await a.aclose()


async def test_waiting_requests_share_a_batch_and_a_cancelled_one_loses_nothing(
    redis_server: RedisServer,
) -> None:
    a = RedisLimiter(redis_server.url, "aiodji:budget:t11", 16, rate=40.0, burst=1)
    try:
        tasks = [asyncio.create_task(a.admit()) for _ in range(4)]
        await asyncio.sleep(0)  # all four wait for the one reservation in flight
        tasks[1].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[1], asyncio.CancelledError)
        times = [t for i, t in enumerate(done) if i != 1]
        assert times == sorted(times) and all(isinstance(t, float) for t in times)
        assert a.redis_calls <= 2  # one batch (plus the first request's own, at most)
        for _ in times:
            a.release()
        assert a.in_flight == 0 and not a._waiters
    finally:
        await a.aclose()


async def test_unused_slots_are_given_back_unless_someone_reserved_after(
    redis_server: RedisServer,
) -> None:
    key = "aiodji:budget:t7"
    a = RedisLimiter(redis_server.url, key, 8, rate=20.0, burst=1)
    b = RedisLimiter(redis_server.url, key, 8, rate=20.0, burst=1)
    try:
        first = await _reserve(a, 4)
        tat = a._lease.end_us
        await _reserve(a, 0, (3, tat, first[3]))  # 3 of the 4 were not used
        again = await _reserve(b, 1)
        assert _wait_s(again) < _wait_s(first, 2)  # b goes where a's second slot was
        await _reserve(b, 1)
        await _reserve(a, 0, (1, tat, first[3]))  # b reserved after: too late to give back
        assert int(await a._redis.hget(key, "tat")) == b._lease.end_us
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_pause_holds_every_process(redis_server: RedisServer) -> None:
    a = RedisLimiter(redis_server.url, "aiodji:budget:t2", 8)
    b = RedisLimiter(redis_server.url, "aiodji:budget:t2", 8)
    try:
        a.pause(2.0)
        await asyncio.gather(*a._tasks)
        assert _wait_s(await _reserve(b)) > 1.5  # b never saw the 429 itself
    finally:
        await a.aclose()
        await b.aclose()


async def _sent(limiter: RedisLimiter, requests: int) -> None:
    """``requests`` reservations: the budget counts each as a request sent."""
    for _ in range(requests):
        assert (await _reserve(limiter))[0] == 1


async def _limited(limiter: RedisLimiter, n: int, reserved_at: int = 0) -> None:
    """``n`` 429s of requests reserved at ``reserved_at`` (server µs: 0 = long ago)."""
    loop = asyncio.get_running_loop()
    for _ in range(n):
        redis_limiter._reserved_at.set(reserved_at)
        limiter.on_rate_limited(loop.time())
        await asyncio.gather(*limiter._tasks)  # in order: one report after the other


async def _ceiling(limiter: RedisLimiter) -> float | None:
    raw = await limiter._redis.hget(limiter.key, "ceiling")
    return None if raw is None else float(raw)


@pytest.mark.usefixtures("wide_horizon")
async def test_congestion_is_judged_on_the_shared_counters(redis_server: RedisServer) -> None:
    # four processes each see 2 429s among 10 requests: noise for each alone (the 2 of its
    # 10), congestion for the budget (4 of 40 is the 10 % it needs); the burst makes ONE
    # back-off, its later 429s are the same burst
    key = "aiodji:budget:t3"
    procs = [RedisLimiter(redis_server.url, key, 8) for _ in range(4)]
    try:
        for p in procs:
            await _sent(p, 10)
        await asyncio.sleep(0.1)  # the window must span more than the burst (rate = replies/s)
        for p in procs:
            await _limited(p, 2)
        verdicts = [p.verdicts for p in procs]
        assert sum(v["congestion"] + v["saturation"] for v in verdicts) == 1
        assert sum(v["ignored"] for v in verdicts) == 4  # reserved before the cut
        shared = await procs[0]._redis.hgetall(key)
        assert int(shared[b"events"]) == 1
        ceiling = float(shared[b"ceiling"])
        assert ceiling > 1  # from what the server accepted in the window (reserved - limited)
        assert procs[0].stats.congestion_events + procs[1].stats.congestion_events == 1
        # every process follows the shared curve from there
        for p in procs:
            await _reserve(p)
            assert p.shared_rate is not None and p.shared_rate <= ceiling * 1.01
    finally:
        for p in procs:
            await p.aclose()


@pytest.mark.usefixtures("wide_horizon")
async def test_one_unlucky_process_does_not_back_off_the_budget(
    redis_server: RedisServer,
) -> None:
    # one process got 3 429s of its only 3 requests (saturation, alone), the other three
    # sent 40 each: 3 of 123 is noise for the budget, no back-off
    key = "aiodji:budget:t4"
    procs = [RedisLimiter(redis_server.url, key, 8) for _ in range(4)]
    try:
        for p in procs[1:]:
            await _sent(p, 40)
        await _sent(procs[0], 3)
        loop = asyncio.get_running_loop()
        signals = [procs[0].on_rate_limited(loop.time()) for _ in range(3)]
        assert signals[-1] is RateSignal.SATURATION  # the local reading (this retry only)
        await asyncio.gather(*procs[0]._tasks)
        assert await _ceiling(procs[0]) is None
        assert procs[0].verdicts["noise"] == 3
    finally:
        for p in procs:
            await p.aclose()


@pytest.mark.usefixtures("wide_horizon")
async def test_event_of_an_earlier_burst_is_ignored(redis_server: RedisServer) -> None:
    key = "aiodji:budget:t5"
    a = RedisLimiter(redis_server.url, key, 8)
    try:
        await _sent(a, 20)
        await _limited(a, 3)  # the 3rd: an event (3 of 20)
        assert a.verdicts["congestion"] + a.verdicts["saturation"] == 1
        await _limited(a, 1, reserved_at=1)  # reserved at 1 µs: long before the cut
        assert a.verdicts["ignored"] == 1
    finally:
        await a.aclose()


@pytest.mark.usefixtures("wide_horizon")
async def test_the_learned_rate_outlives_the_budget_and_starts_the_next_run(
    redis_server: RedisServer,
) -> None:
    key = "aiodji:budget:t8"
    a = RedisLimiter(redis_server.url, key, 8)
    try:
        await _sent(a, 30)
        await asyncio.sleep(0.2)
        await _limited(a, 3)
        learned = float(await a._redis.get(f"{key}:learned"))
        assert learned == await _ceiling(a)
        ttl = await a._redis.pttl(f"{key}:learned")
        assert 0.9 * redis_limiter.LEARNED_TTL * 1000 < ttl <= redis_limiter.LEARNED_TTL * 1000
        await a._redis.delete(key)  # the working state expired (or a fresh Redis database)
        b = RedisLimiter(redis_server.url, key, 8)  # the next run
        try:
            await _reserve(b)
            assert b.shared_rate == pytest.approx(learned, rel=0.01)  # not a slow start
        finally:
            await b.aclose()
    finally:
        await a.aclose()


async def test_heartbeats_count_the_live_processes(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "aiodji:budget:t9"
    procs = []
    try:
        for i in range(3):  # three processes: three heartbeat members
            monkeypatch.setattr(redis_limiter, "_NONCE", f"p{i}")
            p = RedisLimiter(redis_server.url, key, 8, rate=100.0)
            await _reserve(p)
            procs.append(p)
        assert procs[2].processes == 3
        members = await procs[0]._redis.zrange(f"{key}:processes", 0, -1)
        assert len(members) == 3 and await procs[0]._redis.pttl(f"{key}:processes") > 0
        monkeypatch.setattr(redis_limiter, "HEARTBEAT_TTL", 0.0)  # the others fell silent
        redis_limiter._share(key).beat_at = -1e18
        await _reserve(procs[2])
        assert procs[2].processes == 1
    finally:
        for p in procs:
            await p.aclose()


async def test_without_redis_the_process_takes_its_share_on_one_gate(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # three processes seen, a 60 req/s shared rate: while Redis is away this process paces
    # at its third (cut by BETA), however many Limiters (one per shard) it runs on the budget
    key = "aiodji:budget:t10"
    monkeypatch.setattr(redis_limiter, "_NONCE", "solo")
    a = RedisLimiter(redis_server.url, key, 8, rate=60.0)
    b = RedisLimiter(redis_server.url, key, 8, rate=60.0)
    try:
        await _reserve(a)
        redis_limiter._share(key).processes = 3
        redis_server.stop()
        a.fixed_rate = b.fixed_rate = None  # adaptive: the fallback applies
        a.shared_rate = None
        for p in (a, b):
            assert await p._call_gcra(asyncio.get_running_loop(), 1) is None
            assert not p.redis_available and p.stats.mode == "fallback"
            assert p.rate == pytest.approx(ratecontrol.BETA * 20.0)
        assert a._gcra is b._gcra  # one local gate for the process
    finally:
        redis_server.start()
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
            # one request at first, then batches for the requests waiting meanwhile
            assert 2 <= limiter.redis_calls <= 10 and limiter.redis_available
            # the budget counts its round trips and the slots it handed out (the benchmark's
            # round trips per request, across processes)
            await asyncio.gather(*limiter._tasks)
            budget = await limiter._redis.hgetall(limiter.key)
            assert int(budget[b"calls"]) == limiter.redis_calls
            assert int(budget[b"reserved"]) >= 20
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
            assert limiter.rate == FALLBACK_RATE
            assert limiter.stats.mode == "fallback"
            assert sum("unreachable" in r.message for r in caplog.records) == 1
            assert sim.token not in caplog.text
            redis.start()
            try:
                assert len(await dji.projects.list()) == 3
                assert limiter.redis_available and limiter.rate is None  # no local gate
                assert limiter.stats.mode == "shared"
            finally:
                await limiter.aclose()
                redis.stop()
