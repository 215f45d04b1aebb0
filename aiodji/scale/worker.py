"""One shard, run by one worker: take its lease, re-plan, act while the lease is surely held,
record every result, mark it done. The thin I/O around :mod:`.lease` and :mod:`.shard`.

A runner that cannot renew its lease in time stops starting requests (the shared limiter
checks the lease before admitting each one), publishes only what it really did (successes),
and leaves the shard to whoever holds the lease next; the shard is run again after the lease,
by this worker or another, and its re-plan skips what is done.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aiodji.bulk import ItemResult, ItemState
from aiodji.client import Client
from aiodji.config import ConfigError
from aiodji.errors import DJIError
from aiodji.fleet import Change
from aiodji.fleet.journal import item_entry

from .redis_access import RedisHealth
from .redis_limiter import RedisLimiter, RedisRateLimit
from .runs import LeaseHolder, LeaseLost, RunStore
from .sealing import Sealer
from .shard import Shard, run_shard
from .tokens import TokenProvider

__all__ = ["FencedRateLimit", "ShardRunner", "worth_publishing"]

log = logging.getLogger("aiodji.scale")


class FencedLimiter(RedisLimiter):
    """The shared budget's limiter that admits a request only while the lease is held."""

    check: Callable[[], None]

    def admit_now(self) -> float | None:
        return None  # every admission goes through admit(), where the lease is checked

    async def admit(self) -> float:
        self.check()
        sent_at = await super().admit()
        try:
            self.check()  # the wait for the budget may have outlasted the lease
        except BaseException:
            self.release()
            raise
        return sent_at


@attrs.frozen
class FencedRateLimit:
    """``Client(rate_limit=...)``: the shared budget, with ``check`` before every request."""

    inner: RedisRateLimit
    check: Callable[[], None]

    @property
    def rate(self) -> float | None:
        return self.inner.rate

    def build_limiter(self, max_concurrency: int, token: str) -> RedisLimiter:
        limiter = self.inner.build_limiter(max_concurrency, token)
        limiter.__class__ = FencedLimiter  # same object, one more check on admission
        assert isinstance(limiter, FencedLimiter)
        limiter.check = self.check
        return limiter


def worth_publishing(result: ItemResult[Change, Any], *, lease_in_doubt: bool) -> bool:
    """A result to record: never a change this runner refused for its lease; once the lease
    is in doubt only successes (facts), since the next runner does the rest."""
    if isinstance(result.error, LeaseLost):
        return False
    return result.state is ItemState.SUCCEEDED or not lease_in_doubt


def without_specs(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message whose sealed fields cannot be opened, readable enough to report each change."""
    return {**message, "changes": [{**c, "spec": None} for c in message["changes"]]}


class ShardRunner:
    def __init__(
        self,
        store: RunStore,
        provider: TokenProvider,
        url: str,
        concurrency: int,
        sealer: Sealer | None,
        health: RedisHealth | None,
    ) -> None:
        self.store, self.provider, self.url = store, provider, url
        self.concurrency, self.sealer, self.health = concurrency, sealer, health
        self.owner = uuid.uuid4().hex  # one per message: a retry after a Redis error is "me"
        self.taken = False

    async def run(self, message: Mapping[str, Any]) -> None:
        """Run the shard once; raises LeaseLost (run it again later) or a Redis error."""
        unreadable: DJIError | None = None
        try:
            shard = Shard.from_dict(message, self.sealer)
        except ConfigError as exc:  # no key or another key: each change says so
            shard, unreadable = Shard.from_dict(without_specs(message)), exc
        if await self.store.is_done(shard.run_id, shard.shard_id):
            return  # a late redelivery of a finished shard
        async with self.store.lease(shard.run_id, shard.shard_id, self.owner) as holder:
            if holder is None:
                _log_shard(shard, "skipped: done by another runner", "done already")
                return
            holder.health = self.health
            again, self.taken = self.taken, True
            what = f"taken{' again' if again else ''} (fencing token {holder.token})"
            _log_shard(shard, what, "taken again" if again else "taken")
            if unreadable is None and await self.store.is_cancelled(shard.run_id):
                unreadable = DJIError("the run was cancelled (aiodji runs cancel)")
            results = _Results(self.store, shard, holder)
            if unreadable is not None:
                for change in shard.changes:
                    results.record(ItemResult(change, ItemState.NOT_ATTEMPTED, error=unreadable))
            else:
                await self._changes(shard, holder, results)
            await results.flush()
            if results.in_doubt:
                _log_shard(shard, "stopped: lease not renewed in time", "lease lost")
                raise LeaseLost(f"shard {shard.shard_id}: lease lost")
            await self.store.mark_done(shard.run_id, shard.shard_id, holder.value)
            _log_shard(shard, f"done: {results.summary()}", "done")

    async def _changes(self, shard: Shard, holder: LeaseHolder, results: _Results) -> None:
        try:
            token = self.provider.token_for(shard.token_ref)
            budget = FencedRateLimit(RedisRateLimit(self.url), holder.check)
            client = Client(
                token=token, base_url=shard.base_url, region=shard.region, rate_limit=budget
            )
            async with client:
                await run_shard(
                    client, shard, results.record, concurrency=self.concurrency, stop=holder.stop
                )
        except LeaseLost:
            results.in_doubt = True
        except DJIError as exc:
            # the shard cannot run (no token, auth, listing failed): every change says why
            for change in shard.changes:
                if change.key not in results.reported:
                    results.record(ItemResult(change, ItemState.FAILED, error=exc))

    def given_up(
        self, message: Mapping[str, Any], exc: BaseException, *, internal: bool = False
    ) -> None:
        what = "internal error" if internal else "Redis away too long"
        log.error(
            "shard %s given up (%s: %s): it stays pending and is retaken",
            message.get("shard_id"),
            what,
            type(exc).__name__,
            extra={"action": "shard", "result": "given up"},
        )


class _Results:
    """Publishes a shard's results as they come; all written before the shard counts done."""

    def __init__(self, store: RunStore, shard: Shard, holder: LeaseHolder) -> None:
        self.store, self.shard, self.holder = store, shard, holder
        self.pending: set[asyncio.Task[None]] = set()
        self.reported: set[str] = set()
        self.counts: dict[str, int] = {}
        self.in_doubt = False

    def record(self, result: ItemResult[Change, Any]) -> None:
        self.in_doubt = self.in_doubt or self.holder.lost or isinstance(result.error, LeaseLost)
        if not worth_publishing(result, lease_in_doubt=self.in_doubt):
            return
        self.reported.add(result.item.key)
        self.counts[result.state.value] = self.counts.get(result.state.value, 0) + 1
        entry = {**item_entry(result), "fence": self.holder.token}
        task = asyncio.get_running_loop().create_task(self.store.publish(self.shard.run_id, entry))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def flush(self) -> None:
        while self.pending:
            errors = await asyncio.gather(*self.pending, return_exceptions=True)
            failed = [e for e in errors if isinstance(e, BaseException)]
            if failed:
                raise failed[0]

    def summary(self) -> str:
        return ", ".join(f"{n} {state}" for state, n in sorted(self.counts.items())) or "nothing"


def _log_shard(shard: Shard, what: str, result: str) -> None:
    project = shard.changes[0].project_uuid if shard.changes else None
    log.info(
        "shard %s of run %s %s",
        shard.shard_id,
        shard.run_id,
        what,
        extra={"action": "shard", "result": result, "project": project},
    )
