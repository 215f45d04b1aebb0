"""Values in and out of the command line: what options accept, what machine formats write,
the helpers other commands share (listening address, optional extras), the journal listing."""

from __future__ import annotations

import io
import logging
import socket
from pathlib import Path

import click
import orjson
import pytest
from _inproc import run, simulator_fixtures

import aiodji
from aiodji.cli.exits import ExitCode, exit_code_for
from aiodji.cli.params import AddressInUse, check_listen_address, require_extra
from aiodji.crash import state_dir
from aiodji.sim import Simulator

served, sim = simulator_fixtures()


def test_csv_booleans_are_true_and_false(sim: Simulator) -> None:
    code, out, _ = run(["-o", "csv", "--columns", "converter_name,enabled,updated_at",
                        "converters", "list", "--all-projects"])  # fmt: skip
    rows = out.splitlines()[1:]
    assert code == 0 and rows
    assert {row.split(",")[1] for row in rows} <= {"true", "false"}
    assert all(row.split(",")[2].isdigit() for row in rows)  # an epoch stays a number


def test_times_are_one_format_in_json_and_csv(sim: Simulator) -> None:
    _, out, _ = run(["--json", "projects", "list"])
    stamps = [orjson.loads(line)["created_at"] for line in out.splitlines()]
    _, csv_out, _ = run(["-o", "csv", "--columns", "created_at", "projects", "list"])
    assert stamps and all(s.endswith("Z") and "T" in s for s in stamps)
    assert csv_out.splitlines()[1:] == stamps


@pytest.mark.parametrize(
    ("option", "value"), [("--camera", ""), ("--name", "x" * 1_000_000), ("--name", "a\x07b")]
)
def test_create_refuses_blank_huge_and_control_values_at_dry_run(
    sim: Simulator, option: str, value: str
) -> None:
    pair = next(iter(sim.state.pairs.values()))[0]
    assert pair.drone is not None
    opts = {"--name": "ok-name", "--camera": "81-0-0", option: value}
    argv = ["-o", "table", "converters", "create", "--project", "Project 01", "--sn",
            pair.drone.sn, "--url", "rtmp://m.test/live/k", "--dry-run"]  # fmt: skip
    for name, given in opts.items():
        argv += [name, given]
    code, out, err = run(argv)
    assert code == 2 and out == "" and option in err


def test_a_busy_port_is_a_connection_error_and_a_bad_host_a_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(AddressInUse) as caught:
            check_listen_address("127.0.0.1", port)
    assert exit_code_for(caught.value) is ExitCode.CONNECTION
    with pytest.raises(click.BadParameter):
        check_listen_address("no-such-host.invalid", 0)
    check_listen_address("127.0.0.1", 0)  # free: no error, nothing left open


def test_require_extra_names_the_extra() -> None:
    assert require_extra("json", "core").dumps({}) == "{}"
    with pytest.raises(click.UsageError, match=r"pip install 'aiodji\[metrics\]'"):
        require_extra("no_such_module_xyz", "metrics")


def test_debug_logging_prints_each_line_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiodji._logging import EnvHandler, log, setup_from_env

    monkeypatch.setenv("AIODJI_LOG", "debug")
    saved, level = list(log.handlers), log.level
    try:
        setup_from_env()
        setup_from_env()
        env_handler = next(h for h in log.handlers if isinstance(h, EnvHandler))
        seen, own = io.StringIO(), io.StringIO()
        env_handler.setStream(seen)
        log.addHandler(logging.StreamHandler(own))  # what `controller run` attaches
        log.debug("one line")
        assert seen.getvalue() == "" and own.getvalue().count("one line") == 1
    finally:
        log.handlers[:] = saved
        log.setLevel(level)


def test_subpackages_are_attributes_of_aiodji() -> None:
    assert aiodji.fleet.Fleet is not None
    assert aiodji.bulk.BulkReport is not None


def test_journal_list_counts_final_states_with_date_and_command(
    sim: Simulator, tmp_path: Path
) -> None:
    for converter in sim.state.converters.values():
        converter.auto_push_stream = True
    first = run(["--json", "converters", "disable", "--all-projects"])
    assert first[0] == 0
    state = state_dir()
    (journal,) = state.glob("journal-*.jsonl")
    lines = journal.read_bytes().splitlines()
    journal.write_bytes(b"\n".join(lines + lines[1:]) + b"\n")  # a resumed run writes again
    code, out, _ = run(["--json", "journal", "list"])
    (row,) = [orjson.loads(line) for line in out.splitlines()]
    assert code == 0 and row["succeeded"] == len(sim.state.converters)  # not twice as many
    assert row["command"] == "disable" and isinstance(row["started_at"], float)
