"""Fleet operations against the simulator: discovery, plans, quota, journal, resume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiodji
from aiodji.bulk import ItemResult, ItemState
from aiodji.fleet import ChangeKind, CreateSpec, Desired, QuotaExceeded, Selection, read_journal
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

PUT = ("PUT", "/openapi/v0.1/live-stream/converter/{converter_id}")
POST = ("POST", "/openapi/v0.1/live-stream/converter")


def make_sim(**kw: Any) -> Simulator:
    options: dict[str, Any] = {
        "projects": 5,
        "docks_per_project": 4,
        "converters_per_project": 40,
        "converter_limit": 1000,
    }
    options.update(kw)
    return Simulator(**options)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with make_sim() as sim:
        yield sim


def enabled_map(sim: Simulator) -> dict[str, bool]:
    return {cid: c.auto_push_stream for cid, c in sim.state.converters.items()}


def journal_items(path: Path) -> list[dict[str, Any]]:
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    return [r for r in records if r["type"] == "item"]


async def test_discovery_by_name_glob_device_and_converter_name(
    sim: Simulator, dji: aiodji.Client
) -> None:
    everything = await dji.fleet.converters()
    assert len(everything) == 200 and all(c.project_uuid for c in everything)
    one = await dji.fleet.converters(["Project 02"])
    project2 = next(p for p in sim.state.projects.values() if p.name == "Project 02")
    assert {c.converter_id for c in one} == {
        c.converter_id for c in sim.state.converters_of(project2.uuid)
    }
    by_glob = await dji.fleet.converters("Project 0[12]")
    assert len(by_glob) == 80
    by_uuid = await dji.fleet.converters([project2.uuid])
    assert len(by_uuid) == 40
    drone = sim.state.device_pairs(project2.uuid)[0].drone
    on_device = await dji.fleet.converters("all", devices=drone.sn)
    assert on_device and all(c.sn == drone.sn for c in on_device)
    wide = await dji.fleet.converters("all", names="*-wide*")
    assert wide and all("-wide" in (c.converter_name or "") for c in wide)
    with pytest.raises(aiodji.InvalidArgumentError):
        await dji.fleet.converters(["No Such Project"])


async def test_set_converters_enabled_is_idempotent(sim: Simulator, dji: aiodji.Client) -> None:
    enabled_before = sum(enabled_map(sim).values())
    report = await dji.fleet.set_converters_enabled(projects="all", enabled=False)
    assert report.ok and report.succeeded == enabled_before == 100
    assert not any(enabled_map(sim).values())
    puts = sim.stats.count(*PUT)
    plan = await dji.fleet.plan(Desired.enabled(False))
    assert plan.empty and plan.unchanged == 200
    again = await dji.fleet.set_converters_enabled(projects="all", enabled=False)
    assert again.ok and again.accounted == 0 and sim.stats.count(*PUT) == puts


async def test_plan_lists_only_needed_changes_with_filters(
    sim: Simulator, dji: aiodji.Client
) -> None:
    desired = Desired.from_toml(
        """
[[converters]]
projects = ["Project 01", "Project 02"]
enabled = true

[[converters]]
projects = ["Project 01"]
names = ["*-ir*"]
enabled = false
"""
    )
    plan = await dji.fleet.plan(desired)
    kinds = {c.kind for c in plan}
    assert kinds <= {ChangeKind.ENABLE, ChangeKind.DISABLE}
    report = await dji.fleet.apply(plan)
    assert report.ok and report.succeeded == len(plan)
    for p in sim.state.projects.values():
        for c in sim.state.converters_of(p.uuid):
            if p.name == "Project 01":
                assert c.auto_push_stream is ("-ir" not in c.converter_name)
            elif p.name == "Project 02":
                assert c.auto_push_stream
    assert (await dji.fleet.plan(desired)).empty


async def test_create_and_delete_respect_the_quota_and_never_duplicate(
    sim: Simulator, dji: aiodji.Client
) -> None:
    project = next(iter(sim.state.projects.values()))
    drone = sim.state.device_pairs(project.uuid)[0].drone
    specs = [
        CreateSpec(
            project=project.name,
            name=f"new-{i}",
            sn=drone.sn,
            camera_index="81-0-0",
            url=f"rtmp://media.test/live/new-{i}",
            enabled=True,
        )
        for i in range(4)
    ]
    doomed = Selection.build(projects=[project.name], names=["*-ir*"])
    n_doomed = sum("-ir" in c.converter_name for c in sim.state.converters_of(project.uuid))
    limit = 200 - n_doomed + 2  # room for two creates once the deletes are done
    desired = Desired(create=tuple(specs), delete=(doomed,), converter_limit=limit)
    plan = await dji.fleet.plan(desired)
    assert plan.counts["will delete"] == n_doomed
    assert plan.counts["will create"] == 2 and plan.counts["skipped (quota)"] == 2
    assert [c.description for c in plan.skipped] == ["skipped (quota)"] * 2
    sim.state.converter_limit = limit
    # lost replies after the server created the converter: aiodji must check by name
    sim.faults.reset_after_rate = 0.5
    sim.faults.methods = frozenset({"POST"})
    records: list[ItemResult[Any, Any]] = []
    report = await dji.fleet.apply(plan, progress=records.append)
    sim.faults.reset()
    skipped = [r for r in records if r.state is ItemState.NOT_ATTEMPTED]
    assert len(skipped) == 2 and all(isinstance(r.error, QuotaExceeded) for r in skipped)
    assert report.succeeded == n_doomed + 2
    assert report.not_attempted == 2 and not report.ok
    assert report.failed == 0
    for spec in specs[:2]:
        made = sim.state.converter_by_name(spec.name)
        assert made is not None and made.auto_push_stream
        assert sim.state.create_counts[spec.name] >= 1
    names = [c.converter_name for c in sim.state.converters.values()]
    assert len(names) == len(set(names))  # never a duplicate
    # a converter destroyed server-side is planned again
    gone = sim.state.converter_by_name("new-0")
    assert gone is not None
    sim.state.destroy_converter(gone.converter_id)
    again = await dji.fleet.plan(Desired(create=tuple(specs[:2]), converter_limit=limit))
    assert [(c.kind, c.converter_name) for c in again] == [(ChangeKind.CREATE, "new-0")]


async def test_stop_then_resume_reaches_the_desired_state_without_redoing(
    sim: Simulator, dji: aiodji.Client, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    stop = asyncio.Event()
    seen = 0

    def progress(result: ItemResult[Any, Any]) -> None:
        nonlocal seen
        seen += 1
        if seen == 30:
            stop.set()

    plan = await dji.fleet.plan(Desired.enabled(False))
    first = await dji.fleet.apply(
        plan, journal=journal, concurrency=4, progress=progress, stop=stop
    )
    assert first.stopped == "stopped" and first.not_attempted > 0
    assert first.accounted == len(plan) == 100
    states = read_journal(journal)
    assert len(states) == 100
    for change in plan:
        if states[change.key] is ItemState.SUCCEEDED:
            assert sim.state.converters[change.converter_id].auto_push_stream is False
        if states[change.key] is ItemState.NOT_ATTEMPTED:
            assert sim.state.converters[change.converter_id].auto_push_stream is True
    second = await dji.fleet.apply(
        await dji.fleet.plan(Desired.enabled(False)), journal=journal, resume=journal
    )
    assert second.ok and second.succeeded == first.not_attempted
    assert not any(enabled_map(sim).values())
    assert sim.stats.count(*PUT) == 100  # every converter written exactly once
    # resuming the old plan skips what the journal says is done
    third = await dji.fleet.apply(plan, resume=journal)
    assert third.already_done == 100 and third.accounted == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cancel_after=st.integers(min_value=1, max_value=120), concurrency=st.integers(1, 16))
async def test_cancelled_apply_leaves_a_journal_consistent_with_the_server(
    cancel_after: int, concurrency: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    journal = tmp_path_factory.mktemp("j") / "journal.jsonl"
    async with (
        make_sim(projects=3, converters_per_project=40) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        before = enabled_map(sim)
        plan = await dji.fleet.plan(Desired.enabled(True))
        assert len(plan) == 60
        task = asyncio.create_task(dji.fleet.apply(plan, journal=journal, concurrency=concurrency))
        await asyncio.sleep(cancel_after / 2000)  # 0.5 to 60 ms into the run
        task.cancel()  # it may have finished already: fine, the checks hold all the same
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.02)  # let requests already sent reach the handler
        records = journal_items(journal)
        assert sorted(r["key"] for r in records) == sorted(c.key for c in plan)
        for r in records:
            now = sim.state.converters[r["converter_id"]].auto_push_stream
            if r["state"] == "succeeded":
                assert now is True
            elif r["state"] == "not_attempted":
                assert now is before[r["converter_id"]]
        assert sim.token not in journal.read_text()
        report = await dji.fleet.apply(
            await dji.fleet.plan(Desired.enabled(True)), journal=journal, resume=journal
        )
        assert report.ok
        assert all(enabled_map(sim).values())
        assert sim.stats.count(*PUT) == 60  # no converter written twice
        assert (await dji.fleet.plan(Desired.enabled(True))).empty


async def test_desired_state_files_are_checked(tmp_path: Path) -> None:
    bad = {
        "[[converters]]\nprojects = 'all'\n": "enabled",
        "[[converters]]\nenabled = 'yes'\n": "enabled",
        "[[delete]]\nprojects = ['A']\n": "names",
        "[[create]]\nproject = 'A'\nname = 'x'\nsn = 's'\ncamera_index = 'c'\n": "url",
        "[[converters]]\nenabled = true\ncolour = 1\n": "unknown",
        "converter_limit = -1\n": "converter_limit",
        "not toml [": "TOML",
    }
    for text, word in bad.items():
        path = tmp_path / "d.toml"
        path.write_text(text)
        with pytest.raises(aiodji.InvalidArgumentError, match=word):
            Desired.from_toml(path)
    with pytest.raises(aiodji.InvalidArgumentError):
        Desired.from_toml(tmp_path / "missing.toml")
