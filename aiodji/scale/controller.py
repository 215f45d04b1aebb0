"""Enqueue a run: plan each organization (the org-wide converter quota is decided here, once),
cut the plan into shards, kick them, and record skipped changes straight away."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from redis.asyncio import Redis
from redis.exceptions import RedisError

from aiodji.bulk import ItemResult, ItemState
from aiodji.client import Client
from aiodji.fleet import Change, QuotaExceeded
from aiodji.fleet.journal import item_entry

from .broker import make_broker
from .organizations import Organization
from .redis_access import check_queue_url, unreachable
from .runs import RunStore, new_run_id
from .sealing import Sealer, require_sealer
from .shard import Shard, make_shards
from .tokens import TokenProvider, TokenRefs

__all__ = ["Enqueued", "enqueue_run"]


@attrs.frozen
class Enqueued:
    run_id: str
    total: int  # changes with a result to come (skipped ones included)
    shards: int
    unchanged: int


async def enqueue_run(
    url: str,
    organizations: Sequence[Organization],
    *,
    tokens: TokenProvider | None = None,
    run_id: str | None = None,
    client_options: dict[str, Any] | None = None,
    sealer: Sealer | None = None,
) -> Enqueued:
    """Plan, record the run, kick its shards. ``sealer`` seals the creates' push URLs (a run
    with creates is refused without one: ConfigError). Redis unreachable: RedisUnavailable,
    naming the run when some of it was enqueued already."""
    check_queue_url(url)
    if any(org.desired.create for org in organizations):
        require_sealer(sealer)
    run_id = run_id or new_run_id()
    broker, task = make_broker(url)
    progress = _Progress(run_id)
    try:
        await broker.startup()
        try:
            return await _enqueue(
                url, organizations, task, progress, tokens, client_options, sealer
            )
        finally:
            await broker.shutdown()
    except RedisError:
        hint = ""
        if progress.kicked:
            hint = (
                f"; run {run_id}: {progress.kicked} of {progress.shards} shards enqueued, "
                f"workers may still be working (see `aiodji runs show {run_id}`)"
            )
        raise unreachable(url, hint) from None


@attrs.define
class _Progress:
    run_id: str
    shards: int = 0
    kicked: int = 0


async def _enqueue(
    url: str,
    organizations: Sequence[Organization],
    task: Any,
    progress: _Progress,
    tokens: TokenProvider | None,
    client_options: dict[str, Any] | None,
    sealer: Sealer | None,
) -> Enqueued:
    provider = tokens or TokenRefs()
    run_id = progress.run_id
    total = unchanged = 0
    kicks: list[Shard] = []
    skipped: list[ItemResult[Change, Any]] = []
    for org in organizations:
        token = provider.token_for(org.token_ref)
        options = {"base_url": org.base_url, "region": org.region, **(client_options or {})}
        async with Client(token=token, **options) as dji:
            plan = await dji.fleet.plan(org.desired)
        unchanged += plan.unchanged
        total += len(plan.changes) + len(plan.skipped)
        for change in plan.skipped:
            error = QuotaExceeded(
                f"skipped (quota): {org.name}'s converter limit is {plan.converter_limit}"
            )
            skipped.append(ItemResult(change, ItemState.NOT_ATTEMPTED, error=error))
        kicks += make_shards(
            plan,
            run_id=run_id,
            organization=org.name,
            token_ref=org.token_ref,
            base_url=org.base_url,
            region=org.region,
        )
    messages = [shard.to_dict(sealer) for shard in kicks]  # sealed before anything is sent
    progress.shards = len(kicks)
    async with Redis.from_url(url) as redis:
        store = RunStore(redis)
        await store.start(run_id, total=total, shards=len(kicks))
        for result in skipped:
            await store.publish(run_id, item_entry(result))
        for message in messages:
            await task.kiq(message)
            progress.kicked += 1
    return Enqueued(run_id, total, len(kicks), unchanged)
