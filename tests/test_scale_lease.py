"""One runner per shard: the lease's pure decisions in virtual time, then the Redis side (a
fencing token per lease, a waiting copy that sees the shard done, renewal through a restart)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

import aiodji
from aiodji.bulk import ItemResult, ItemState
from aiodji.fleet import Change, ChangeKind
from aiodji.scale.lease import LeaseState, may_act, next_delay, renewal_failed, renewed
from aiodji.scale.runs import LeaseLost, RunStore
from aiodji.scale.worker import worth_publishing
from tests._redis import RedisServer, redis_server

__all__ = ["redis_server"]

LEASE = 9.0


def test_a_held_lease_may_act_until_its_last_third() -> None:
    state = LeaseState.acquired(1, sent_at=100.0, lease_seconds=LEASE)
    assert may_act(state, 100.0) and may_act(state, 105.9)
    assert not may_act(state, 106.0)  # 3 s (a third) before it could expire on the server
    assert next_delay(state) == 3.0


def test_renewals_that_fail_are_retried_quickly_and_the_runner_stops_in_time() -> None:
    """Virtual time: renewals every 3 s, Redis away from t=10; the holder retries at growing
    intervals and stops acting before the server could have let the key expire."""
    now, state = 0.0, LeaseState.acquired(7, sent_at=0.0, lease_seconds=LEASE)
    last_ok = 0.0
    tries: list[float] = []
    while now < 30:
        now += next_delay(state)
        if now < 10:
            state, last_ok = renewed(state, now, held=True), now
        else:
            state = renewal_failed(state)
            tries.append(now)
        if not may_act(state, now):
            break
    assert not may_act(state, now) and now < last_ok + LEASE  # stopped before expiry
    assert len(tries) >= 3  # no single failure ends it: retried with backoff
    assert all(b - a <= LEASE / 3 for a, b in itertools.pairwise(tries))


def test_a_renewal_after_an_outage_restores_the_lease_unless_it_was_lost() -> None:
    state = renewal_failed(renewal_failed(LeaseState.acquired(3, 0.0, LEASE)))
    assert next_delay(state) < LEASE / 3
    back = renewed(state, 4.0, held=True)
    assert back.failures == 0 and may_act(back, 6.9)
    gone = renewed(state, 4.0, held=False)  # the key expired meanwhile, or is someone else's
    assert gone.lost and not may_act(gone, 4.0)
    assert renewed(gone, 5.0, held=True).lost  # lost stays lost


def test_results_published_once_the_lease_is_in_doubt_are_facts_only() -> None:
    change = Change(ChangeKind.ENABLE, "p", converter_id="c")
    ok = ItemResult(change, ItemState.SUCCEEDED)
    refused = ItemResult(change, ItemState.FAILED, error=LeaseLost("x"))
    skipped = ItemResult(change, ItemState.NOT_ATTEMPTED)
    assert worth_publishing(ok, lease_in_doubt=True)
    assert not worth_publishing(skipped, lease_in_doubt=True)
    assert not worth_publishing(refused, lease_in_doubt=False)
    assert worth_publishing(skipped, lease_in_doubt=False)


@pytest.mark.anyio
async def test_fencing_tokens_grow_and_a_waiting_copy_exits_when_the_shard_is_done(
    redis_server: RedisServer,
) -> None:
    async with Redis.from_url(redis_server.url) as redis:
        store = RunStore(redis, lease_seconds=1.0)
        async with store.lease("r", "s1") as first:
            assert first is not None and first.token == 1

            async def copy() -> bool:
                async with store.lease("r", "s1") as second:
                    return second is not None

            waiting = asyncio.create_task(copy())
            await asyncio.sleep(1.5)  # longer than the lease: renewed, so the copy still waits
            assert not waiting.done()
            assert await store.mark_done("r", "s1", first.value)
        assert await asyncio.wait_for(waiting, 5) is False  # it saw the shard done: no rerun
        async with store.lease("r", "s2") as other:
            assert other is not None and other.token == 1  # one counter per shard
        assert await store.try_acquire("r", "s1", "late") == -1  # done is done


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(persist_dir=str(tmp_path))  # append-only: the keys survive a restart
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.anyio
async def test_lease_renewal_survives_a_redis_restart(persistent_redis: RedisServer) -> None:
    async with Redis.from_url(persistent_redis.url) as redis:
        store = RunStore(redis, lease_seconds=3.0)
        async with store.lease("r", "s") as holder:
            assert holder is not None
            await asyncio.to_thread(persistent_redis.restart)
            await asyncio.sleep(4.5)  # past the lease: only renewals keep it
            assert not holder.lost and not holder.stop.is_set()
            holder.check()
            assert await store.try_acquire("r", "s", "other") == 0  # still held
            assert await store.mark_done("r", "s", holder.value)


@pytest.mark.anyio
async def test_a_runner_that_cannot_renew_stops_before_its_lease_expires(
    redis_server: RedisServer,
) -> None:
    async with Redis.from_url(redis_server.url) as redis:
        store = RunStore(redis, lease_seconds=1.5)
        async with store.lease("r", "s") as holder:
            assert holder is not None
            redis_server.stop()
            await asyncio.wait_for(
                holder.stop.wait(), 1.5
            )  # stop set before the 1.5 s lease ran out
            with pytest.raises(LeaseLost):
                holder.check()


@pytest.mark.anyio
async def test_a_shard_whose_lease_is_lost_mid_run_is_run_again_and_completes(
    redis_server: RedisServer,
) -> None:
    """The lease vanishes mid-shard (it expired while the runner was stalled, say): the runner
    stops starting changes, publishes only what it did, and the shard is run again under a new
    fencing token until every change has a result; nothing is sent twice."""
    from aiodji.scale.broker import _with_patience
    from aiodji.scale.shard import make_shards
    from aiodji.scale.tokens import TokenRefs
    from aiodji.scale.worker import ShardRunner
    from tests.test_scale_fleet import SEALER, creates, make_sim

    async with make_sim() as sim, Redis.from_url(redis_server.url) as redis:
        sim.faults.latency = 0.1
        desired = creates(sim, 12)
        async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
            plan = await dji.fleet.plan(desired)
        shard = make_shards(
            plan, run_id="r", organization="o", token_ref="env:T", base_url=sim.url
        )[0]
        store = RunStore(redis, lease_seconds=1.0)
        tokens = TokenRefs(env={"T": sim.token})
        runner = ShardRunner(store, tokens, redis_server.url, 2, SEALER, None)

        async def steal_the_lease_after_the_first_result() -> None:
            await redis.xread({"aiodji:run:r:results": "0-0"}, block=20_000, count=1)
            await redis.delete(f"aiodji:run:r:lease:{shard.shard_id}")

        thief = asyncio.create_task(steal_the_lease_after_the_first_result())
        await asyncio.wait_for(_with_patience(runner, shard.to_dict(SEALER), None), 30)
        await thief
        entries = await store.entries("r")
        finals = {e["key"]: e["state"] for e in entries}
        assert len(finals) == len(shard.changes) and set(finals.values()) == {"succeeded"}
        assert {e["fence"] for e in entries} == {1, 2}  # the rerun holds a new lease
        assert await store.is_done("r", shard.shard_id)
        project = shard.changes[0].project_uuid
        for spec in desired.create:
            if spec.project == project:
                assert sim.state.create_counts[spec.name] == 1, spec.name
