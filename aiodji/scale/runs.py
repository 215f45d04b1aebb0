"""A run's bookkeeping in Redis: its meta hash, one results stream, shard leases and done set.

Per-item results are journal records (:func:`aiodji.fleet.journal.item_entry`) appended to
``aiodji:run:{id}:results``; a redelivered shard appends again, the last record of a key wins
(as when a journal is read). Kept a week.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from redis.exceptions import RedisError

from aiodji.fleet.journal import JOURNAL_VERSION

__all__ = ["RunStore", "new_run_id"]

KEEP_SECONDS = 7 * 24 * 3600
LEASE_SECONDS = 10.0  # a shard's lease; renewed every third of it while the shard runs
PUBLISH_TRIES = 240  # half a second apart: two minutes of Redis away
FINAL = frozenset({"succeeded", "failed", "not_attempted"})


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class RunStore:
    """Reads and writes one Redis (``redis.asyncio.Redis``) on behalf of runs."""

    def __init__(self, redis: Any, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.redis = redis
        self.lease_seconds = lease_seconds

    @staticmethod
    def _key(run_id: str, part: str) -> str:
        return f"aiodji:run:{run_id}:{part}"

    async def start(self, run_id: str, *, total: int, shards: int) -> None:
        meta = self._key(run_id, "meta")
        await self.redis.hset(
            meta, mapping={"total": total, "shards": shards, "started": time.time()}
        )
        await self.redis.expire(meta, KEEP_SECONDS)

    async def meta(self, run_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self._key(run_id, "meta"))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def publish(self, run_id: str, entry: dict[str, Any]) -> None:
        stream = self._key(run_id, "results")
        record = {"ts": round(time.time(), 3), **entry}
        for attempt in range(PUBLISH_TRIES):
            try:
                await self.redis.xadd(stream, {b"entry": orjson.dumps(record)})
                await self.redis.expire(stream, KEEP_SECONDS)
                return
            except (RedisError, OSError):
                # Redis restarting: the result must not be lost, wait for it
                if attempt + 1 == PUBLISH_TRIES:
                    raise
                await asyncio.sleep(0.5)

    async def entries(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self.redis.xrange(self._key(run_id, "results"))
        return [orjson.loads(fields[b"entry"]) for _, fields in rows]

    async def follow(self, run_id: str, *, block_ms: int = 500) -> AsyncIterator[dict[str, Any]]:
        """Every result as it arrives, from the first; ends never (the caller stops)."""
        stream, last = self._key(run_id, "results"), "0-0"
        while True:
            got = await self.redis.xread({stream: last}, block=block_ms, count=500)
            for _, rows in got or []:
                for msg_id, fields in rows:
                    last = msg_id
                    yield orjson.loads(fields[b"entry"])

    async def journal_lines(self, run_id: str) -> list[bytes]:
        """The run in the journal format: a run header, then one item record per result."""
        meta = await self.meta(run_id)
        header = {"type": "run", "version": JOURNAL_VERSION, "run_id": run_id, **meta}
        lines = [orjson.dumps(header)]
        lines += [orjson.dumps(e) for e in await self.entries(run_id)]
        return lines

    # -- shards: one runner at a time, even when the broker redelivers a live one ----------
    async def is_done(self, run_id: str, shard_id: str) -> bool:
        return bool(await self.redis.sismember(self._key(run_id, "done"), shard_id))

    async def mark_done(self, run_id: str, shard_id: str) -> None:
        done = self._key(run_id, "done")
        await self.redis.sadd(done, shard_id)
        await self.redis.expire(done, KEEP_SECONDS)
        await self.redis.delete(self._key(run_id, f"lease:{shard_id}"))

    @contextlib.asynccontextmanager
    async def lease(self, run_id: str, shard_id: str) -> AsyncIterator[bool]:
        """Hold the shard's lease while it runs (yields False when it is done meanwhile).
        A copy redelivered while the first runner lives waits; a dead runner's lease lapses."""
        key, me = self._key(run_id, f"lease:{shard_id}"), uuid.uuid4().hex
        ms = int(self.lease_seconds * 1000)
        while not await self.redis.set(key, me, nx=True, px=ms):
            if await self.is_done(run_id, shard_id):
                yield False
                return
            await asyncio.sleep(min(1.0, self.lease_seconds / 3))

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease_seconds / 3)
                await self.redis.set(key, me, xx=True, px=ms)

        renewer = asyncio.create_task(renew())
        try:
            yield True
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewer
