"""A shard: a slice of a plan (one project's changes, at most ``SHARD_SIZE``) and the plain
coroutine that carries it out over a Client, engine-agnostic.

:func:`run_shard` re-plans against live state before acting: it lists the shard's projects'
converters and keeps only the changes still missing, so a redelivered or resumed shard
(at-least-once delivery) never creates a converter twice. Every change gets one result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from aiodji.bulk import ItemResult, ItemState
from aiodji.fleet import Change, ChangeKind, CreateSpec, Plan
from aiodji.models import Converter

from .sealing import Sealer, require_sealer

if TYPE_CHECKING:
    from aiodji.client import Client

__all__ = ["SHARD_SIZE", "Shard", "make_shards", "run_shard", "still_needed"]

SHARD_SIZE = 200  # changes per shard: minutes of work at worst, well inside the idle timeout
SECRET_FIELDS = ("url", "schema_option")  # a push URL's last segment is a stream key

Record = Callable[[ItemResult[Change, Any]], object]


@attrs.frozen
class Shard:
    """What a message carries: names and references, never a token; a create's push URL
    only sealed (:mod:`.sealing`)."""

    run_id: str
    shard_id: str
    organization: str  # the token provider's name for the organization
    token_ref: str  # e.g. "env:ACME_TOKEN" or "file:acme": where a worker finds the token
    base_url: str | None
    changes: tuple[Change, ...]
    region: str | None = None

    def to_dict(self, sealer: Sealer | None = None) -> dict[str, Any]:
        """The message; a shard with creates needs ``sealer`` (ConfigError without one)."""
        return {
            "run_id": self.run_id,
            "shard_id": self.shard_id,
            "organization": self.organization,
            "token_ref": self.token_ref,
            "base_url": self.base_url,
            "region": self.region,
            "changes": [_change_to_dict(c, sealer) for c in self.changes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], sealer: Sealer | None = None) -> Shard:
        return cls(
            run_id=str(data["run_id"]),
            shard_id=str(data["shard_id"]),
            organization=str(data["organization"]),
            token_ref=str(data["token_ref"]),
            base_url=data.get("base_url"),
            region=data.get("region"),
            changes=tuple(_change_from_dict(c, sealer) for c in data["changes"]),
        )


def _change_to_dict(change: Change, sealer: Sealer | None) -> dict[str, Any]:
    out = attrs.asdict(change, recurse=False)
    out["kind"] = str(change.kind)
    out["spec"] = None
    if change.spec is not None:
        spec = attrs.asdict(change.spec)
        secret = {field: spec.pop(field) for field in SECRET_FIELDS}
        if any(v is not None for v in secret.values()):
            spec["sealed"] = require_sealer(sealer).seal(secret)
        out["spec"] = spec
    return out


def _change_from_dict(data: Mapping[str, Any], sealer: Sealer | None) -> Change:
    values = dict(data)
    spec = values.pop("spec", None)
    values["kind"] = ChangeKind(values["kind"])
    if spec and "sealed" in spec:
        spec = dict(spec)
        spec.update(require_sealer(sealer).open(spec.pop("sealed")))
    return Change(**values, spec=CreateSpec(**spec) if spec else None)


def make_shards(
    plan: Plan,
    *,
    run_id: str,
    organization: str,
    token_ref: str,
    base_url: str | None,
    region: str | None = None,
) -> list[Shard]:
    """One shard per project (deletes, then enable/disable, then creates, as in the plan),
    split into chunks of ``SHARD_SIZE``."""
    by_project: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_project.setdefault(change.project_uuid, []).append(change)
    shards: list[Shard] = []
    for project, changes in by_project.items():
        for start in range(0, len(changes), SHARD_SIZE):
            shards.append(
                Shard(
                    run_id=run_id,
                    shard_id=f"{organization}:{project}:{start // SHARD_SIZE}",
                    organization=organization,
                    token_ref=token_ref,
                    base_url=base_url,
                    region=region,
                    changes=tuple(changes[start : start + SHARD_SIZE]),
                )
            )
    return shards


def still_needed(change: Change, live: Sequence[Converter]) -> bool:
    """Whether ``change`` is still missing from the project's live converters."""
    if change.kind is ChangeKind.CREATE:
        return all(c.converter_name != change.converter_name for c in live)
    current = next((c for c in live if c.converter_id == change.converter_id), None)
    if current is None:
        return False  # gone: deleted already, or nothing left to enable or disable
    if change.kind is ChangeKind.DELETE:
        return True
    return bool(current.auto_push_stream) is not (change.kind is ChangeKind.ENABLE)


async def run_shard(
    client: Client,
    shard: Shard,
    record: Record,
    *,
    concurrency: int = 16,
    stop: asyncio.Event | None = None,
) -> None:
    """Re-plan ``shard`` against live state, make what is still missing, ``record`` each
    change's result (a change already in place is a success with 0 attempts). ``stop``: no
    change starts once it is set (the rest end ``not_attempted``)."""
    live: dict[str, list[Converter]] = {}
    for project in _projects(shard.changes):
        live[project] = list(await client.project(project).converters.list())
    todo: list[Change] = []
    for change in shard.changes:
        if still_needed(change, live[change.project_uuid]):
            todo.append(change)
        else:
            record(ItemResult(change, ItemState.SUCCEEDED))
    if todo:
        await client.fleet.apply(
            Plan(changes=tuple(todo)), concurrency=concurrency, progress=record, stop=stop
        )


def _projects(changes: Iterable[Change]) -> list[str]:
    return list(dict.fromkeys(c.project_uuid for c in changes))
