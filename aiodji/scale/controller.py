"""Enqueue a run: plan each organization (the org-wide converter quota is decided here, once),
cut the plan into shards, kick them, and record skipped changes straight away."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from redis.asyncio import Redis

from aiodji.bulk import ItemResult, ItemState
from aiodji.client import Client
from aiodji.fleet import Change, QuotaExceeded
from aiodji.fleet.journal import item_entry

from .broker import make_broker
from .organizations import Organization
from .runs import RunStore, new_run_id
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
) -> Enqueued:
    provider = tokens or TokenRefs()
    run_id = run_id or new_run_id()
    broker, task = make_broker(url)
    total = shards = unchanged = 0
    await broker.startup()
    try:
        async with Redis.from_url(url) as redis:
            store = RunStore(redis)
            kicks: list[Shard] = []
            skipped: list[ItemResult[Change, Any]] = []
            for org in organizations:
                token = provider.token_for(org.token_ref)
                async with Client(
                    token=token, base_url=org.base_url, **(client_options or {})
                ) as dji:
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
                )
            shards = len(kicks)
            await store.start(run_id, total=total, shards=shards)
            for result in skipped:
                await store.publish(run_id, item_entry(result))
            for shard in kicks:
                await task.kiq(shard.to_dict())
    finally:
        await broker.shutdown()
    return Enqueued(run_id, total, shards, unchanged)
