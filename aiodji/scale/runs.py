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
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import orjson
from redis.exceptions import RedisError

from aiodji.errors import DJIError
from aiodji.fleet.journal import JOURNAL_VERSION

from .lease import LeaseState, may_act, next_delay, renewal_failed, renewed

__all__ = ["LeaseHolder", "LeaseLost", "RunStore", "new_run_id"]

KEEP_SECONDS = 7 * 24 * 3600
LEASE_SECONDS = 10.0  # a shard's lease; renewed every third of it while the shard runs
PUBLISH_TRIES = 240  # half a second apart: two minutes of Redis away
FOLLOW_PATIENCE = 120.0  # seconds the enqueuer waits for Redis before it gives up
FINAL = frozenset({"succeeded", "failed", "not_attempted"})


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class RunStore:
    """Reads and writes one Redis (``redis.asyncio.Redis``) on behalf of runs."""

    def __init__(self, redis: Any, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.redis = redis
        self.lease_seconds = lease_seconds
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._done = redis.register_script(_DONE)

    @staticmethod
    def _key(run_id: str, part: str) -> str:
        return f"aiodji:run:{run_id}:{part}"

    async def start(self, run_id: str, *, total: int, shards: int) -> None:
        meta = self._key(run_id, "meta")
        await self.redis.hset(
            meta, mapping={"total": total, "shards": shards, "started": time.time()}
        )
        await self.redis.expire(meta, KEEP_SECONDS)

    async def meta(self, run_id: str) -> dict[str, Any]:
        """The run's meta hash, numbers as numbers ({} for no such run)."""
        raw = await self.redis.hgetall(self._key(run_id, "meta"))
        return {k.decode(): _number(v.decode()) for k, v in raw.items()}

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

    async def follow(
        self,
        run_id: str,
        *,
        block_ms: int = 500,
        patience: float = FOLLOW_PATIENCE,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every result as it arrives, from the first; ends never (the caller stops). Redis
        away (a restart) is waited out, reading on from the last result seen; after
        ``patience`` seconds without Redis the last error is raised."""
        stream, last = self._key(run_id, "results"), "0-0"
        failing_since: float | None = None
        while True:
            try:
                got = await self.redis.xread({stream: last}, block=block_ms, count=500)
            except (RedisError, OSError) as exc:
                now = time.monotonic()
                failing_since = now if failing_since is None else failing_since
                if now - failing_since >= patience:
                    raise
                if on_error is not None:
                    on_error(exc)
                await asyncio.sleep(min(2.0, 0.1 * 2 ** min(5, int(now - failing_since))))
                continue
            failing_since = None
            for _, rows in got or []:
                for msg_id, fields in rows:
                    last = msg_id
                    yield orjson.loads(fields[b"entry"])

    async def journal_lines(self, run_id: str) -> list[bytes] | None:
        """The run in the journal format: a run header (with its ``status``), then one item
        record per result; None when there is no such run."""
        meta = await self.meta(run_id)
        if "total" not in meta:
            return None
        entries = await self.entries(run_id)
        header = {"type": "run", "version": JOURNAL_VERSION, "run_id": run_id, **meta}
        header["status"] = run_status(meta, entries)
        return [orjson.dumps(header), *(orjson.dumps(e) for e in entries)]

    # -- cancel -----------------------------------------------------------------------------
    async def cancel(self, run_id: str) -> bool:
        """Mark the run cancelled (workers take none of its shards any more); False: no run."""
        meta = self._key(run_id, "meta")
        if not await self.redis.exists(meta):
            return False
        await self.redis.hsetnx(meta, "cancelled", round(time.time(), 3))
        return True

    async def is_cancelled(self, run_id: str) -> bool:
        return bool(await self.redis.hexists(self._key(run_id, "meta"), "cancelled"))

    # -- shards: one runner at a time, even when the broker redelivers a live one ----------
    async def is_done(self, run_id: str, shard_id: str) -> bool:
        return bool(await self.redis.sismember(self._key(run_id, "done"), shard_id))

    def _keys(self, run_id: str, shard_id: str) -> list[str]:
        return [
            self._key(run_id, f"lease:{shard_id}"),
            self._key(run_id, f"fence:{shard_id}"),
            self._key(run_id, "done"),
        ]

    async def try_acquire(self, run_id: str, shard_id: str, owner: str) -> int:
        """The fencing token (> 0) of the lease, new or ``owner``'s own still; 0: another
        runner holds it; -1: the shard is done."""
        ms = int(self.lease_seconds * 1000)
        args = [owner, ms, shard_id, KEEP_SECONDS]
        return int(await self._acquire(keys=self._keys(run_id, shard_id), args=args))

    async def renew(self, run_id: str, shard_id: str, value: str) -> bool:
        ms = int(self.lease_seconds * 1000)
        return bool(await self._renew(keys=self._keys(run_id, shard_id)[:1], args=[value, ms]))

    async def mark_done(self, run_id: str, shard_id: str, value: str | None = None) -> bool:
        """Record the shard as complete and free its lease; False (nothing written) when another
        runner holds the lease now: that runner finishes and records it."""
        args = [value or "", shard_id, KEEP_SECONDS]
        return bool(await self._done(keys=self._keys(run_id, shard_id), args=args))

    @contextlib.asynccontextmanager
    async def lease(
        self, run_id: str, shard_id: str, owner: str | None = None
    ) -> AsyncIterator[LeaseHolder | None]:
        """Hold the shard's lease while it runs (yields None when the shard is done meanwhile).
        A copy redelivered while the first runner lives waits; a dead runner's lease lapses.
        ``owner``: the same runner taking its shard again (after a Redis error) gets its
        lease back at once."""
        owner = owner or uuid.uuid4().hex
        while True:
            sent_at = time.monotonic()
            token = await self.try_acquire(run_id, shard_id, owner)
            if token < 0:  # done, possibly by the runner this copy waited for
                yield None
                return
            if token > 0:
                break
            await asyncio.sleep(min(1.0, self.lease_seconds / 3))
        state = LeaseState.acquired(token, sent_at, self.lease_seconds)
        holder = LeaseHolder(self, run_id, shard_id, f"{token}:{owner}", state)
        renewer = asyncio.create_task(holder.keep())
        try:
            yield holder
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer


def run_status(meta: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]) -> str:
    """``cancelled`` (by ``aiodji runs cancel``), ``finished`` (every change has a final
    result) or ``running``."""
    if "cancelled" in meta:
        return "cancelled"
    final = {e["key"] for e in entries if e.get("state") in FINAL and "key" in e}
    return "finished" if len(final) >= int(meta.get("total", 0)) else "running"


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class LeaseLost(DJIError):
    """This runner can no longer be sure it holds the shard's lease: it stops acting."""


class LeaseHolder:
    """A held lease: renewed in the background (retrying through Redis errors), checked before
    every write (:meth:`check`). ``stop`` is set when the runner must stop starting changes:
    the lease is (or may soon be) lost, or the run was cancelled."""

    def __init__(
        self, store: RunStore, run_id: str, shard_id: str, value: str, state: LeaseState
    ) -> None:
        self.store, self.run_id, self.shard_id = store, run_id, shard_id
        self.value = value
        self.state = state
        self.stop = asyncio.Event()
        self.cancelled = False
        self.health: Any = None  # a RedisHealth, when the worker logs outages

    @property
    def token(self) -> int:
        return self.state.token

    @property
    def lost(self) -> bool:
        return not may_act(self.state, time.monotonic())

    def check(self) -> None:
        """Raise :class:`LeaseLost` unless a write may start now (see :mod:`.lease`)."""
        if self.lost:
            self.stop.set()
            raise LeaseLost(f"shard {self.shard_id}: lease not renewed in time; stopping")

    async def keep(self) -> None:
        """Renew until cancelled; never dies of a Redis error, only ends when the lease is
        known to be gone (then ``stop`` is set)."""
        while not self.state.lost:
            await asyncio.sleep(next_delay(self.state))
            sent_at = time.monotonic()
            try:
                held = await self.store.renew(self.run_id, self.shard_id, self.value)
                self.cancelled = await self.store.is_cancelled(self.run_id)
            except (RedisError, OSError) as exc:
                self.state = renewal_failed(self.state)
                if self.health is not None:
                    self.health.lost(exc)
            else:
                self.state = renewed(self.state, sent_at, held=held)
                if self.health is not None:
                    self.health.back()
            if self.lost or self.cancelled:
                self.stop.set()


# KEYS: lease, fence, done. ARGV: owner, lease ms, shard id, keep seconds.
_ACQUIRE = """
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 1 then return -1 end
local current = redis.call('GET', KEYS[1])
if current then
  local token, owner = string.match(current, '^(%d+):(.*)$')
  if owner ~= ARGV[1] then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])  -- the same runner again, after a Redis error
  return tonumber(token)
end
local token = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token
"""
# KEYS: lease. ARGV: value, lease ms.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# KEYS: lease, fence, done. ARGV: value (or ''), shard id, keep seconds.
_DONE = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('DEL', KEYS[1])
return 1
"""
