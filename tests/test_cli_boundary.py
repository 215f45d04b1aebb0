"""The command line's one error boundary: a known error is one line (one JSON error line in a
machine format) and the code of the table; a bug of ours is one ``internal error`` line, a
crash file and exit 70; Ctrl-C anywhere is 130."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click
import orjson
import pytest
from _inproc import run

from aiodji.cli import cli, wants_machine_output


@pytest.fixture
def boom() -> Iterator[None]:
    """Commands that fail the ways a bug or an operator would."""

    @click.command("boom")
    @click.option("--how", default="bug")
    def command(how: str) -> None:
        if how == "bug":
            raise RuntimeError("unexpected token=abc.def.ghi in state")
        raise KeyboardInterrupt

    cli.add_command(command)
    try:
        yield
    finally:
        cli.commands.pop("boom")


def test_an_unexpected_exception_is_one_line_a_crash_file_and_exit_70(boom: None) -> None:
    code, out, err = run(["-o", "table", "boom"])
    assert code == 70 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error: RuntimeError: "), err
    crash = Path(lines[0].rsplit("(details: ", 1)[1].rstrip(")"))
    assert crash.is_file() and crash.is_relative_to(os.environ["XDG_STATE_HOME"])
    assert "Traceback" in crash.read_text() and "Traceback" not in err


def test_an_unexpected_exception_under_json_is_one_error_line(boom: None) -> None:
    code, out, _ = run(["--json", "boom"])
    (record,) = [orjson.loads(line) for line in out.splitlines()]
    assert code == 70 and record["type"] == "error" and record["exit_code"] == 70


def test_ctrl_c_anywhere_exits_130(boom: None) -> None:
    code, _, err = run(["boom", "--how", "interrupt"])
    assert code == 130 and "interrupted" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "converters", "list", "--bogus"],
        ["-o", "json", "nope"],
        ["converters", "list", "--bogus"],  # -o auto with stdout not a terminal
        ["--output=jsonl", "converters", "get"],
    ],
)
def test_usage_errors_in_a_machine_format_are_one_json_error_line(argv: list[str]) -> None:
    code, out, _ = run(argv)
    (record,) = [orjson.loads(line) for line in out.splitlines()]
    assert code == 2 and record["type"] == "error" and record["exit_code"] == 2


def test_a_profile_error_in_a_machine_format_is_one_json_error_line() -> None:
    code, out, err = run(["--json", "--profile", "nope", "projects", "list"])
    (record,) = [orjson.loads(line) for line in out.splitlines()]
    assert code == 3 and record["exit_code"] == 3 and "no profile" in err


def test_usage_errors_at_a_terminal_stay_click_text() -> None:
    code, out, err = run(["-o", "table", "converters", "list", "--bogus"])
    assert code == 2 and out == "" and "No such option" in err


def test_which_command_lines_want_machine_errors() -> None:
    assert wants_machine_output(["-ojson", "x"]) and wants_machine_output(["x", "--json"])
    assert wants_machine_output(["x"], isatty=False)  # auto in a pipe: JSON lines
    assert not wants_machine_output(["x"], isatty=True)
    assert not wants_machine_output(["-o", "table", "x"], isatty=False)
    assert wants_machine_output(["-o", "csv", "x"], isatty=True)
