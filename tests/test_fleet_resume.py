"""A resumed apply re-checks only `unknown` changes, with one converter
listing per project (not one per change)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import aiodji
from aiodji.bulk import ItemState
from aiodji.fleet import Desired, JournalFileError, Selection, read_journal_file
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


# -- the server, not an old journal, has the last word -------------------------------------------
def project_named(sim: Simulator, name: str) -> str:
    return next(uuid for uuid, p in sim.state.projects.items() if p.name == name)


async def test_resume_redoes_journaled_changes_the_server_no_longer_agrees_with(
    tmp_path: Path,
) -> None:
    """Disable with a journal, someone re-enables them, resume: they are disabled again, not
    "already done (journal)"."""
    async with (
        Simulator(projects=2, docks_per_project=2, converters_per_project=4) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        uuid = project_named(sim, "Project 01")
        for c in sim.state.converters_of(uuid):
            sim.state.set_converter_enabled(c.converter_id, True)
        desired = Desired.enabled(False, Selection.build([uuid]))
        journal = tmp_path / "jA.jsonl"
        plan = await dji.fleet.plan(desired)
        first = await dji.fleet.apply(plan, journal=journal)
        assert first.ok and first.succeeded == len(plan) > 0
        for c in sim.state.converters_of(uuid):
            sim.state.set_converter_enabled(c.converter_id, True)  # re-enabled elsewhere
        lists = sim.stats.count(*LIST)
        again = await dji.fleet.apply(plan, resume=journal)  # even the old plan
        assert again.already_done == 0 and again.succeeded == len(plan)
        assert sim.stats.count(*LIST) - lists == 1  # one listing for the one project
        assert not any(c.auto_push_stream for c in sim.state.converters_of(uuid))
        # and when the server does agree, the journal's word is taken: nothing is written
        puts = sim.stats.count(*PUT)
        third = await dji.fleet.apply(plan, resume=journal)
        assert third.already_done == len(plan) and sim.stats.count(*PUT) == puts


async def test_a_journal_of_another_plan_or_access_point_is_refused(tmp_path: Path) -> None:
    async with (
        Simulator(projects=2, docks_per_project=2, converters_per_project=4) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        journal = tmp_path / "j.jsonl"
        await dji.fleet.apply(await dji.fleet.plan(Desired.enabled(False)), journal=journal)
        other = await dji.fleet.plan(Desired.enabled(True, Selection.build(["Project 01"])))
        with pytest.raises(JournalFileError, match="another desired state"):
            await dji.fleet.apply(other, resume=journal)
        same = await dji.fleet.plan(Desired.enabled(False))
        moved = tmp_path / "moved.jsonl"
        moved.write_bytes(journal.read_bytes().replace(sim.url.encode(), b"https://elsewhere"))
        with pytest.raises(JournalFileError, match="another access point"):
            await dji.fleet.apply(same, resume=moved)
        puts = sim.stats.count(*PUT)
        assert (await dji.fleet.apply(same, resume=journal)).ok  # the same command resumes
        assert sim.stats.count(*PUT) == puts


async def test_a_journal_from_another_organization_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    for seed in (1, 2):  # two organizations: other project uuids, the same address
        async with (
            Simulator(projects=2, converters_per_project=2, seed=seed) as sim,
            aiodji.Client(token=sim.token, base_url=sim.url) as dji,
        ):
            plan = await dji.fleet.plan(Desired.enabled(True))
            if seed == 1:
                await dji.fleet.apply(plan, journal=journal)
            else:
                with pytest.raises(JournalFileError, match="other projects"):
                    await dji.fleet.apply(plan, resume=journal)


async def test_a_cut_last_line_warns_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        Simulator(projects=1, docks_per_project=2, converters_per_project=4) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        plan = await dji.fleet.plan(Desired.enabled(False))
        journal = tmp_path / "j.jsonl"
        write_journal(journal, {c.key: ItemState.NOT_ATTEMPTED for c in plan.changes})
        with journal.open("ab") as f:
            f.write(b'{"type": "item", "key": "disable:x')  # the crash mid-write
        assert read_journal_file(journal).torn
        with caplog.at_level("WARNING", logger="aiodji.fleet"):
            report = await dji.fleet.apply(plan, resume=journal)
        assert report.ok and "last line is cut" in caplog.text


@pytest.mark.parametrize(
    "content",
    [b"root:x:0:0:root:/root:/bin/bash\n", b"\x00\xff\xfe binary", b'{"a": 1}\n{"b": 2}\n',
     b'[1, 2]\n', b'{"type": "item", "key": "k", "state": "done?"}\n{"type": "run"}\n'],
    ids=["passwd", "binary", "other-json", "json-list", "bad-state"],
)  # fmt: skip
def test_a_file_that_is_not_a_journal_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not-a-journal"
    path.write_bytes(content)
    with pytest.raises(JournalFileError, match="not a journal record"):
        read_journal_file(path)


def test_unreadable_journal_paths_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalFileError, match="a directory"):
        read_journal_file(tmp_path)
    with pytest.raises(JournalFileError, match="No such file"):
        read_journal_file(tmp_path / "gone.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert read_journal_file(empty).items == ()  # a run that wrote nothing yet


async def test_a_journal_creates_only_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    async with (
        Simulator(projects=1, docks_per_project=1, converters_per_project=2) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        plan = await dji.fleet.plan(Desired.enabled(False))
        missing = tmp_path / "nonexistent" / "dir" / "j.jsonl"
        with pytest.raises(JournalFileError, match="cannot write the journal"):
            await dji.fleet.apply(plan, journal=missing)
        assert not (tmp_path / "nonexistent").exists()
        with pytest.raises(JournalFileError, match="cannot write the journal"):
            await dji.fleet.apply(plan, journal=Path("/proc/version"))
        assert sim.stats.count(*PUT) == 0  # refused before any write
        default = tmp_path / "state" / "aiodji" / "journal-x.jsonl"
        assert (await dji.fleet.apply(plan, journal=default)).ok
        assert read_journal_file(default).items
