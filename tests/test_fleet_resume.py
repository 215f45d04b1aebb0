"""A resumed apply re-checks only `unknown` changes, with one converter
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


async def test_resumed_failed_create_is_rechecked_not_sent_twice(tmp_path: Path) -> None:
    """A create applied by the server whose reply was lost, and whose look-up by name failed
    too, ends ``failed``; the resume finds it by name instead of creating it again."""
    async with Simulator(projects=1, docks_per_project=1, converters_per_project=0) as sim:
        project = next(iter(sim.state.projects))
        pair = sim.state.device_pairs(project)[0]
        desired = Desired.from_dict(
            {
                "create": [
                    {
                        "project": project,
                        "name": "cam-1",
                        "sn": pair.drone.sn,
                        "camera_index": pair.drone.camera_list[0]["camera_index"],
                        "url": "rtmp://media.example/live/cam-1",
                        "enabled": True,
                    }
                ]
            }
        )
        journal = tmp_path / "j.jsonl"
        fast = aiodji.RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.002)
        async with aiodji.Client(token=sim.token, base_url=sim.url, retry=fast) as dji:
            plan = await dji.fleet.plan(desired)
            sim.faults.paths = ("/live-stream/converter",)
            sim.faults.reset_after_rate = 1.0  # applied, then the connection drops; lists too
            first = await dji.fleet.apply(plan, journal=journal)
            assert first.counts.get("failed") == 1
            assert sim.state.create_counts["cam-1"] == 1
            sim.faults.reset()
            second = await dji.fleet.apply(plan, journal=journal, resume=journal)
        assert second.ok, second.summary()
        assert sim.state.create_counts["cam-1"] == 1
        assert [c.converter_name for c in sim.state.converters.values()] == ["cam-1"]
