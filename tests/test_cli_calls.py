"""``aiodji call`` and the generated operation commands: arguments as ``schema`` advertises
them, results as JSON (never a Python repr), something said when nothing came back."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from _inproc import run, simulator_fixtures

from aiodji.sim import Simulator

TASKS = ["tasks", "list", "--project", "Project 01", "--arg", "sn=1581F001D0010001"]


served, sim = simulator_fixtures()


@pytest.mark.parametrize(
    ("begin", "end"),
    [("1700000000", "1800000000"), ("2023-11-14T22:13:20Z", "2027-01-15T08:00:00+00:00")],
)
def test_tasks_list_takes_epochs_and_iso_times(sim: Simulator, begin: str, end: str) -> None:
    code, _, err = run(
        ["-o", "table", *TASKS, "--arg", f"begin_at={begin}", "--arg", f"end_at={end}"]
    )
    assert code == 0, err
    assert "no tasks" in err  # an empty result says so


def test_device_pairs_come_out_as_json_objects(sim: Simulator) -> None:
    code, out, _ = run(["--json", "projects", "devices", "--project", "Project 01"])
    records = [orjson.loads(line) for line in out.splitlines()]
    assert code == 0 and records and "DevicePair(" not in out
    assert all(isinstance(r.get("gateway"), dict) for r in records)


def test_a_write_that_answers_nothing_says_what_was_done(sim: Simulator) -> None:
    converter = next(iter(sim.state.converters.values()))
    args = ["--arg", f"converter_id={converter.converter_id}", "--arg", "enabled=false"]
    code, out, _ = run(
        ["-o", "table", "call", "converters.set_enabled", "--project", "Project 01", *args]
    )
    assert code == 0 and out.startswith("done: converters.set_enabled converter_id=")
    code, out, _ = run(["--json", "converters", "set-enabled", "--project", "Project 01", *args])
    (record,) = [orjson.loads(line) for line in out.splitlines()]
    assert record["type"] == "done" and record["arguments"]["enabled"] is False


def test_an_unknown_operation_is_answered_with_the_closest_names(sim: Simulator) -> None:
    code, _, err = run(["-o", "table", "call", "converters.lst"])
    assert code == 2 and "did you mean converters.list" in err


def test_operation_names_complete_at_the_shell() -> None:
    env = {**os.environ, "_AIODJI_COMPLETE": "bash_complete", "COMP_CWORD": "2"}
    env["COMP_WORDS"] = "aiodji call converters.s"
    done = subprocess.run(
        [sys.executable, "-m", "aiodji.cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0 and "converters.set_enabled" in done.stdout
    assert "tasks.list" not in done.stdout
