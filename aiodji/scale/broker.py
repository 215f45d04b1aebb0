"""Taskiq on Redis Streams: the broker, the shard task, a worker, and enqueueing a run.

Messages carry a :class:`~.shard.Shard` (names and token references, never a token) and are
acknowledged after the shard's work (``WHEN_EXECUTED``). A worker killed mid-shard leaves its
message pending; after ``idle_timeout`` another worker claims it (XAUTOCLAIM) and re-runs the
shard, which re-plans and does only what is missing. A shard still running past the idle
timeout is claimed too: the shard lease (:class:`~.runs.RunStore`) makes the copy wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AckableMessage, AcknowledgeType
from taskiq.api import run_receiver_task
from taskiq_redis import RedisStreamBroker

from aiodji.bulk import ItemResult, ItemState
from aiodji.client import Client
from aiodji.errors import DJIError
from aiodji.fleet import Change
from aiodji.fleet.journal import item_entry

from .redis_limiter import RedisRateLimit
from .runs import RunStore
from .shard import Shard, run_shard
from .tokens import TokenProvider, TokenRefs

__all__ = ["IDLE_TIMEOUT_MS", "QUEUE", "TASK_NAME", "ShardBroker", "make_broker", "run_worker"]

log = logging.getLogger("aiodji.scale")

QUEUE = "aiodji:shards"
TASK_NAME = "aiodji.apply_shard"
RECONNECT_SECONDS = 0.5
REDIS_PATIENCE = 240  # tries of a shard while Redis is away (2 minutes)
IDLE_TIMEOUT_MS = 120_000  # a shard of 200 changes takes seconds; a dead worker's is retaken


class ShardBroker(RedisStreamBroker):
    """taskiq-redis' stream broker, claiming idle messages on every read, not only after new
    messages arrived (its own ``listen`` would leave a killed worker's shard until then)."""

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        while True:
            try:
                async for message in self._read():
                    yield message
            except (RedisError, OSError) as exc:
                # Redis away (a restart): wait and read again; pending messages survive
                log.warning("shard queue unreachable (%s): retrying", type(exc).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _read(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as conn:
            while True:
                fetched: Any = await conn.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, rows in fetched or []:
                    for msg_id, msg in rows:
                        yield AckableMessage(
                            data=msg[b"data"], ack=self._ack_generator(msg_id, stream)
                        )
                claimed: Any = await conn.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                for msg_id, msg in claimed[1]:
                    if msg:  # a deleted entry comes back empty
                        log.info("retaking shard message %s (its worker went idle)", msg_id)
                        yield AckableMessage(
                            data=msg[b"data"], ack=self._ack_generator(msg_id, self.queue_name)
                        )


def make_broker(
    url: str,
    *,
    tokens: TokenProvider | None = None,
    idle_timeout_ms: int = IDLE_TIMEOUT_MS,
    lease_seconds: float | None = None,
    concurrency: int = 16,
) -> tuple[ShardBroker, Any]:
    """The broker and its shard task (``await task.kiq(shard.to_dict())`` enqueues)."""
    broker = ShardBroker(
        url,
        queue_name=QUEUE,
        consumer_group_name="aiodji",
        idle_timeout=idle_timeout_ms,
        xread_block=min(2000, max(100, idle_timeout_ms // 2)),
    )
    provider = tokens or TokenRefs()

    async def apply_shard(message: dict[str, Any]) -> None:
        shard = Shard.from_dict(message)
        async with Redis.from_url(url) as redis:
            store = (
                RunStore(redis)
                if lease_seconds is None
                else RunStore(redis, lease_seconds=lease_seconds)
            )
            for attempt in range(REDIS_PATIENCE):
                try:
                    return await _apply(shard, store, provider, url, concurrency)
                except (RedisError, OSError) as exc:
                    # Redis went away mid-shard (the message would be acked anyway): wait and
                    # run the shard again; its re-plan skips what is done already
                    if attempt + 1 == REDIS_PATIENCE:
                        raise
                    log.warning(
                        "shard %s: Redis away (%s), retrying", shard.shard_id, type(exc).__name__
                    )
                    await asyncio.sleep(RECONNECT_SECONDS)

    task = broker.register_task(apply_shard, task_name=TASK_NAME)
    return broker, task


async def _apply(
    shard: Shard, store: RunStore, provider: TokenProvider, url: str, concurrency: int
) -> None:
    if await store.is_done(shard.run_id, shard.shard_id):
        return  # a late redelivery of a finished shard
    async with store.lease(shard.run_id, shard.shard_id) as mine:
        if not mine:
            return
        pending: set[asyncio.Task[None]] = set()
        reported: set[str] = set()

        def record(result: ItemResult[Change, Any]) -> None:
            reported.add(result.item.key)
            t = asyncio.get_running_loop().create_task(
                store.publish(shard.run_id, item_entry(result))
            )
            pending.add(t)
            t.add_done_callback(pending.discard)

        try:
            token = provider.token_for(shard.token_ref)
            client = Client(token=token, base_url=shard.base_url, rate_limit=RedisRateLimit(url))
            async with client:
                await run_shard(client, shard, record, concurrency=concurrency)
        except DJIError as exc:
            # the shard cannot run (no token, auth, listing failed): every change says why
            for change in shard.changes:
                if change.key not in reported:
                    record(ItemResult(change, ItemState.FAILED, error=exc))
        finally:
            while pending:  # every result written before the shard counts as done
                errors = await asyncio.gather(*pending, return_exceptions=True)
                failed = [e for e in errors if isinstance(e, BaseException)]
                if failed:
                    raise failed[0]
        await store.mark_done(shard.run_id, shard.shard_id)


async def run_worker(
    url: str,
    *,
    tokens: TokenProvider | None = None,
    max_shards: int = 4,
    concurrency: int = 16,
    idle_timeout_ms: int = IDLE_TIMEOUT_MS,
    lease_seconds: float | None = None,
) -> None:
    """Work shards until cancelled: ``max_shards`` at once, each ``concurrency`` changes."""
    broker, _ = make_broker(
        url,
        tokens=tokens,
        idle_timeout_ms=idle_timeout_ms,
        lease_seconds=lease_seconds,
        concurrency=concurrency,
    )
    await broker.startup()
    try:
        while True:
            try:
                await run_receiver_task(
                    broker, max_async_tasks=max_shards, ack_time=AcknowledgeType.WHEN_EXECUTED
                )
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # our own stop (Ctrl-C)
                # taskiq's receiver gave up (e.g. an ack failed while Redis restarted): the
                # unacked shard is pending and will be claimed again; listen again
                log.warning("the shard receiver stopped: starting it again")
            except (RedisError, OSError) as exc:
                log.warning("shard queue unreachable (%s): retrying", type(exc).__name__)
            await asyncio.sleep(RECONNECT_SECONDS)
    finally:
        await broker.shutdown()
