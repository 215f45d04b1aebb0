"""Leader election for controller replicas: the pure decisions with a fake clock, the Redis
lease on a real redis-server (electors stepped by hand: no sleeping for a lease), and the
reconcile loop behind a gate."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

import aiodji
from aiodji.controller import Reconciler
from aiodji.controller.leader import (
    LeaderElector,
    LeaseTiming,
    Role,
    acting_left,
    may_act,
    redis_label,
    role_after,
)
from aiodji.sim import Simulator
from tests._redis import RedisServer, redis_server

pytestmark = pytest.mark.anyio
__all__ = ["redis_server"]

TIMING = LeaseTiming(lease=15.0, renew_deadline=10.0, retry=2.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_defaults_are_controller_runtimes_and_the_order_is_checked() -> None:
    assert LeaseTiming() == TIMING
    for bad in ((10, 10, 2), (15, 10, 10), (15, 10, 0), (5, 10, 2)):
        with pytest.raises(ValueError, match="retry period < renew deadline < lease"):
            LeaseTiming(*bad)


def test_the_holder_acts_only_within_the_renew_deadline_shorter_than_the_lease() -> None:
    assert not may_act(None, 0.0, TIMING)
    assert may_act(100.0, 109.9, TIMING) and acting_left(100.0, 104.0, TIMING) == 6.0
    assert not may_act(100.0, 110.0, TIMING)  # 5 s before the lease (115) can lapse
    assert role_after(acting=True, redis_ok=False) == Role.LEADER
    assert role_after(acting=False, redis_ok=True) == Role.STANDBY
    assert role_after(acting=False, redis_ok=False) == Role.NO_REDIS


def test_redis_label_never_shows_a_password() -> None:
    assert redis_label("redis://:hunter2@db.local:6380/3") == "db.local:6380/3"


def electors(url: str, clock: FakeClock, n: int = 2) -> list[LeaderElector]:
    out = [
        LeaderElector(url, key="t:leader", identity=f"r{i}", timing=TIMING, clock=clock)
        for i in range(n)
    ]
    for e in out:
        e.connect()
    return out


async def test_one_replica_acts_the_other_waits_and_takes_over_with_a_larger_token(
    redis_server: RedisServer,
) -> None:
    clock = FakeClock()
    a, b = electors(redis_server.url, clock)
    try:
        await a.step()
        await b.step()
        assert a.acting() and a.token == 1 and await a.confirm()
        assert not b.acting() and b.token is None and b.role == Role.STANDBY
        await a.step()  # a renewal keeps the same token
        assert a.token == 1 and a.describe() == "leader (token 1)"
        await a.close()  # a clean stop releases the lease: no waiting for it to lapse
        await b.step()
        assert b.acting() and b.token == 2
    finally:
        await b.close()


async def test_a_leader_whose_lease_another_holds_fails_the_fencing_check_and_stops(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    a, b = electors(redis_server.url, clock)
    async with Redis.from_url(redis_server.url) as r:
        try:
            await a.step()
            assert a.acting()
            await r.delete("t:leader")  # a paused through its lease; b acquired meanwhile
            await b.step()
            assert b.acting() and b.token == 2
            with caplog.at_level(logging.WARNING, logger="aiodji.controller"):
                assert not await a.confirm()  # the check before a write batch
            assert not a.acting() and a.token is None
            assert "stepped down (another replica holds the lease)" in caplog.text
            await a.step()
            assert not a.acting()  # it stays standby while b renews
        finally:
            await a.close()
            await b.close()


async def test_redis_down_the_leader_steps_down_at_the_renew_deadline_logs_once_and_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    (a,) = electors(redis_server.url, clock, 1)
    try:
        await a.step()
        assert a.acting()
        redis_server.stop()
        with caplog.at_level(logging.INFO, logger="aiodji.controller"):
            for _ in range(4):  # renewals fail, within the renew deadline: still acting
                clock.now += 2.0
                await a.step()
                assert a.acting() and a.role == Role.LEADER
            clock.now += 2.0  # 10 s since the last renewal: the renew deadline
            assert not a.acting()  # no I/O needed to stop writing
            await a.step()
            await a.step()
            assert a.role == Role.NO_REDIS and a.token is None
            redis_server.start()
            await a.step()
        assert a.acting() and a.role == Role.LEADER
        messages = [r.getMessage() for r in caplog.records]
        assert sum("cannot reach Redis" in m for m in messages) == 1  # once per outage
        assert sum("stepped down" in m for m in messages) == 1
        assert sum("reachable again" in m for m in messages) == 1
        assert any(f"127.0.0.1:{redis_server.port}/0" in m for m in messages)
    finally:
        await a.close()


async def test_until_not_acting_returns_when_the_renew_deadline_passes(
    redis_server: RedisServer,
) -> None:
    timing = LeaseTiming(lease=0.6, renew_deadline=0.3, retry=0.1)
    a = LeaderElector(redis_server.url, key="t:leader", identity="r0", timing=timing)
    a.connect()
    try:
        await a.step()  # acquired, never renewed
        assert a.acting()
        await asyncio.wait_for(a.until_not_acting(), 5)
        assert not a.acting()
    finally:
        await a.close()


class Gate:
    """A leader gate driven by the test."""

    def __init__(self, acting: bool, confirms: bool) -> None:
        self._acting, self._confirms = acting, confirms
        self.confirmed = 0

    def acting(self) -> bool:
        return self._acting

    async def confirm(self) -> bool:
        self.confirmed += 1
        return self._confirms

    async def until_not_acting(self) -> None:
        await asyncio.Event().wait()


async def test_a_replica_that_fails_the_fencing_check_writes_nothing(
    sim: Simulator, dji: aiodji.Client, tmp_path: Path
) -> None:
    path = tmp_path / "d.toml"
    path.write_text("[[converters]]\nprojects = 'all'\nenabled = false\n")
    before = {cid: c.auto_push_stream for cid, c in sim.state.converters.items()}
    gate = Gate(acting=True, confirms=False)
    rec = Reconciler(dji.fleet, path, leader=gate)
    report = await rec.cycle()
    assert gate.confirmed == 1 and not report.ok and report.applied == 0
    assert report.error == "lead not confirmed: nothing written"
    assert {cid: c.auto_push_stream for cid, c in sim.state.converters.items()} == before


async def test_a_standby_does_not_cycle_and_starts_with_a_full_relist_when_it_leads(
    sim: Simulator, dji: aiodji.Client, tmp_path: Path
) -> None:
    path = tmp_path / "d.toml"
    path.write_text("[[converters]]\nprojects = 'all'\nenabled = false\n")
    gate = Gate(acting=False, confirms=True)
    rec = Reconciler(dji.fleet, path, leader=gate, interval=0.01)
    task = asyncio.create_task(rec.run())
    await asyncio.sleep(0.05)
    assert rec.stats.cycles == 0 and sim.stats.total == 0  # no listing, no writes
    gate._acting = True
    for _ in range(500):
        if rec.stats.cycles:
            break
        await asyncio.sleep(0.01)
    rec.stop.set()
    await asyncio.wait_for(task, 5)
    assert rec.stats.last is not None and rec.stats.last.ok
    assert rec.stats.full_relists == rec.stats.cycles >= 1
