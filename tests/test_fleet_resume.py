"""Issue 14 defect 3: a resumed apply re-checks only `unknown` changes, with one converter
listing per project (not one per change)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import aiodji
from aiodji.bulk import ItemState
from aiodji.fleet import Desired
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

LIST = ("GET", "/openapi/v0.1/live-stream/converter")
PUT = ("PUT", "/openapi/v0.1/live-stream/converter/{converter_id}")


def write_journal(path: Path, states: dict[str, ItemState]) -> None:
    path.write_bytes(
        b"".join(
            orjson.dumps({"type": "item", "key": key, "state": state.value}) + b"\n"
            for key, state in states.items()
        )
    )


async def test_resume_rechecks_only_unknown_changes_with_one_listing_per_project(
    tmp_path: Path,
) -> None:
    async with (
        Simulator(projects=3, docks_per_project=2, converters_per_project=6) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        plan = await dji.fleet.plan(Desired.enabled(False))
        changes = list(plan.changes)
        assert len(changes) > 6
        journal = tmp_path / "j.jsonl"
        # the first half not attempted, every other of the rest unknown, in two projects
        unknown = [
            c for c in changes[len(changes) // 2 :] if c.project_uuid != changes[0].project_uuid
        ]
        states = {c.key: ItemState.NOT_ATTEMPTED for c in changes}
        states.update({c.key: ItemState.UNKNOWN for c in unknown})
        write_journal(journal, states)
        lists_before = sim.stats.count(*LIST)
        report = await dji.fleet.apply(plan, resume=journal, concurrency=8)
        assert report.ok and report.succeeded == len(changes)
        projects_rechecked = {c.project_uuid for c in unknown}
        assert sim.stats.count(*LIST) - lists_before == len(projects_rechecked)
        assert not any(c.auto_push_stream for c in sim.state.converters.values())


async def test_resume_with_nothing_unknown_lists_nothing(tmp_path: Path) -> None:
    async with (
        Simulator(projects=2, docks_per_project=2, converters_per_project=6) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        plan = await dji.fleet.plan(Desired.enabled(False))
        journal = tmp_path / "j.jsonl"
        write_journal(journal, {c.key: ItemState.NOT_ATTEMPTED for c in plan.changes})
        lists_before = sim.stats.count(*LIST)
        report = await dji.fleet.apply(plan, resume=journal)
        assert report.ok and sim.stats.count(*LIST) == lists_before
        assert sim.stats.count(*PUT) == len(plan.changes)
