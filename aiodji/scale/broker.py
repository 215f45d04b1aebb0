"""Taskiq on Redis Streams: the broker, the shard task, a worker, and enqueueing a run.

Messages carry a :class:`~.shard.Shard` (names and token references, never a token; a create's
push URL sealed) and are acknowledged, then deleted from the stream, after the shard's work
(``WHEN_EXECUTED``). A worker killed mid-shard leaves its message pending; after
``idle_timeout`` another worker claims it (XAUTOCLAIM) and re-runs the shard, which re-plans and
does only what is missing. One runner per shard: the shard lease (:class:`~.runs.RunStore`,
with a fencing token) makes a copy wait, and a copy whose shard is recorded done exits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AckableMessage, AcknowledgeType
from taskiq.api import run_receiver_task
from taskiq_redis import RedisStreamBroker

from aiodji.errors import DJIError

from .redis_access import RedisHealth, check_queue_url, unreachable
from .runs import LeaseLost, RunStore
from .sealing import Sealer, load_sealer
from .tokens import TokenProvider, TokenRefs
from .worker import ShardRunner

__all__ = ["IDLE_TIMEOUT_MS", "QUEUE", "TASK_NAME", "ShardBroker", "make_broker", "run_worker"]

log = logging.getLogger("aiodji.scale")

QUEUE = "aiodji:shards"
TASK_NAME = "aiodji.apply_shard"
RECONNECT_SECONDS = 0.5
REDIS_PATIENCE = 240  # tries of a shard while Redis is away (2 minutes)
IDLE_TIMEOUT_MS = 120_000  # a shard of 200 changes takes seconds; a dead worker's is retaken


class ShardBroker(RedisStreamBroker):
    """taskiq-redis' stream broker, claiming idle messages on every read, not only after new
    messages arrived (its own ``listen`` would leave a killed worker's shard until then), and
    deleting a message once acknowledged (the stream keeps no finished shard)."""

    health: RedisHealth | None = None

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        while True:
            try:
                async for message in self._read():
                    yield message
            except (RedisError, OSError) as exc:
                # Redis away (a restart): wait and read again; pending messages survive
                if self.health is not None:
                    self.health.lost(exc)
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
                if self.health is not None:
                    self.health.back()
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

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            try:
                async with (
                    Redis(connection_pool=self.connection_pool) as conn,
                    conn.pipeline(transaction=True) as both,  # both or neither: none is left
                ):
                    both.xack(queue_name, self.consumer_group_name, id)
                    both.xdel(queue_name, id)  # the finished shard leaves the stream
                    await both.execute()
            except (RedisError, OSError) as exc:
                # left pending: claimed again later, and its copy sees the shard done
                if self.health is not None:
                    self.health.lost(exc)

        return ack


def make_broker(
    url: str,
    *,
    tokens: TokenProvider | None = None,
    idle_timeout_ms: int = IDLE_TIMEOUT_MS,
    lease_seconds: float | None = None,
    concurrency: int = 16,
    sealer: Sealer | None = None,
    health: RedisHealth | None = None,
) -> tuple[ShardBroker, Any]:
    """The broker and its shard task (``await task.kiq(shard.to_dict(sealer))`` enqueues)."""
    broker = ShardBroker(
        url,
        queue_name=QUEUE,
        consumer_group_name="aiodji",
        idle_timeout=idle_timeout_ms,
        xread_block=min(2000, max(100, idle_timeout_ms // 2)),
    )
    broker.health = health
    provider = tokens or TokenRefs()

    async def apply_shard(message: dict[str, Any]) -> None:
        # never raises: taskiq would log a traceback. A shard given up while Redis is away
        # cannot be acknowledged either: it stays pending and is retaken
        async with Redis.from_url(url) as redis:
            store = (
                RunStore(redis)
                if lease_seconds is None
                else RunStore(redis, lease_seconds=lease_seconds)
            )
            runner = ShardRunner(store, provider, url, concurrency, sealer, health)
            try:
                await _with_patience(runner, message, health)
            except (RedisError, OSError, DJIError) as exc:
                runner.given_up(message, exc)
            except Exception as exc:  # a bug of ours: one line in the log, the worker lives
                runner.given_up(message, exc, internal=True)

    task = broker.register_task(apply_shard, task_name=TASK_NAME)
    return broker, task


async def _with_patience(
    runner: ShardRunner, message: dict[str, Any], health: RedisHealth | None
) -> None:
    for attempt in range(REDIS_PATIENCE):
        try:
            return await runner.run(message)
        except (RedisError, OSError, LeaseLost) as exc:
            # Redis went away mid-shard, or the lease could not be renewed in time: wait, then
            # run the shard again (after its lease); its re-plan skips what is done already
            if attempt + 1 == REDIS_PATIENCE:
                raise
            if health is not None and not isinstance(exc, LeaseLost):
                health.lost(exc)
            await asyncio.sleep(RECONNECT_SECONDS)


async def run_worker(
    url: str,
    *,
    tokens: TokenProvider | None = None,
    max_shards: int = 4,
    concurrency: int = 16,
    idle_timeout_ms: int = IDLE_TIMEOUT_MS,
    lease_seconds: float | None = None,
    sealer: Sealer | None = None,
) -> None:
    """Work shards until cancelled: ``max_shards`` at once, each ``concurrency`` changes."""
    health = RedisHealth(log, check_queue_url(url))
    broker, _ = make_broker(
        url,
        tokens=tokens,
        idle_timeout_ms=idle_timeout_ms,
        lease_seconds=lease_seconds,
        concurrency=concurrency,
        sealer=sealer if sealer is not None else load_sealer(),
        health=health,
    )
    try:
        await broker.startup()
    except (RedisError, OSError):
        raise unreachable(url) from None
    log.info("worker started: %d shards at a time, %d changes each", max_shards, concurrency)
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
                log.debug("the shard receiver stopped: starting it again")
            except (RedisError, OSError) as exc:
                health.lost(exc)
            await asyncio.sleep(RECONNECT_SECONDS)
    finally:
        await broker.shutdown()
