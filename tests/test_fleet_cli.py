"""The fleet's journals and plans as the CLI shows them (a subprocess against the simulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_cli import aiodji, json_lines

from aiodji.fleet import Change, ChangeKind, change_record
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=2, docks_per_project=2, converters_per_project=4) as sim:
        yield sim


async def test_resume_does_not_trust_an_old_journal(sim: Simulator, tmp_path: Path) -> None:
    journal = tmp_path / "jA.jsonl"
    args = ("converters", "disable", "--project", "Project 01")
    code, _, _ = await aiodji(sim, tmp_path, *args, "--journal", str(journal))
    assert code == 0
    uuid = next(u for u, p in sim.state.projects.items() if p.name == "Project 01")
    for c in sim.state.converters_of(uuid):
        sim.state.set_converter_enabled(c.converter_id, True)  # re-enabled in the web app
    code, _, err = await aiodji(sim, tmp_path, *args, "--resume", str(journal))
    assert code == 0, err
    assert "already done" not in err
    assert " 4/4 " in err  # the progress bar counts the redone changes
    assert not any(c.auto_push_stream for c in sim.state.converters_of(uuid))


async def test_resume_refuses_another_commands_journal_and_warns_on_a_cut_line(
    sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    code, _, _ = await aiodji(
        sim, tmp_path, "converters", "disable", "--project", "Project 01", "--journal", str(journal)
    )
    assert code == 0
    code, _, err = await aiodji(
        sim, tmp_path, "converters", "enable", "--all-projects", "--resume", str(journal)
    )
    assert code == 2 and "another desired state" in err and "Traceback" not in err
    with journal.open("ab") as f:
        f.write(b'{"type": "item", "ke')
    uuid = next(u for u, p in sim.state.projects.items() if p.name == "Project 01")
    sim.state.set_converter_enabled(sim.state.converters_of(uuid)[0].converter_id, True)
    code, _, err = await aiodji(
        sim, tmp_path, "converters", "disable", "--project", "Project 01", "--resume", str(journal)
    )
    assert code == 0 and "last line of the journal" in err


async def test_a_non_journal_resume_is_exit_2(sim: Simulator, tmp_path: Path) -> None:
    bogus = tmp_path / "passwd"
    bogus.write_text("root:x:0:0:root:/root:/bin/bash\n")
    code, _, err = await aiodji(
        sim, tmp_path, "converters", "disable", "--all-projects", "--resume", str(bogus)
    )
    assert code == 2 and "not a journal record" in err and "Traceback" not in err


async def test_plan_and_results_share_one_record_shape(sim: Simulator, tmp_path: Path) -> None:
    """ "action" is the change's kind in the plan print, the result lines and the journal."""
    journal = tmp_path / "j.jsonl"
    code, out, _ = await aiodji(
        sim, tmp_path, "--json", "converters", "disable", "--all-projects", "--dry-run"
    )
    assert code == 0
    planned = [r for r in json_lines(out) if r["type"] == "change"]
    assert planned and {r["action"] for r in planned} == {"disable"}
    code, out, _ = await aiodji(
        sim,
        tmp_path,
        "--json",
        "converters",
        "disable",
        "--all-projects",
        "--journal",
        str(journal),
    )
    results = [r for r in json_lines(out) if r["type"] == "result"]
    items = [r for r in json_lines(journal.read_text()) if r["type"] == "item"]
    assert {r["action"] for r in results} == {r["action"] for r in items} == {"disable"}
    shape = set(change_record(_a_change()))
    assert shape <= set(planned[0]) and shape <= set(items[0]) and shape <= set(results[0])
    assert {r["key"] for r in planned} == {r["key"] for r in items}


def _a_change() -> Change:
    return Change(ChangeKind.DISABLE, "p", converter_id="c")
