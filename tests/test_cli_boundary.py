"""The command line's one error boundary: a known error is one line (one JSON error line in a
machine format) and the code of the table; a bug of ours is one ``internal error`` line, a
crash file and exit 70; Ctrl-C anywhere is 130."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import orjson
import pytest
from _inproc import run
from _servers import LocalServers
from aiohttp import web

from aiodji.cli import cli, wants_machine_output

pytestmark = pytest.mark.anyio


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


async def test_a_silent_server_gets_a_still_waiting_note_and_ctrl_c_ends_it() -> None:
    """A server that accepts and never answers: the operator hears something after a few
    seconds (not after 3 × 30 s), and Ctrl-C mid-request is exit 130."""
    never = asyncio.Event()

    async def silent(request: web.Request) -> web.StreamResponse:
        await never.wait()
        raise AssertionError("unreachable")

    async with LocalServers() as servers:
        url = await servers.add(silent)
        env = {**os.environ, "AIODJI_TOKEN": "t0ken-never-shown", "AIODJI_BASE_URL": url}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aiodji.cli",
            "-o",
            "table",
            "projects",
            "list",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stderr is not None
        seen = b""
        try:
            while b"still waiting" not in seen:
                seen += await asyncio.wait_for(proc.stderr.read(200), 60)
            proc.send_signal(signal.SIGINT)
            rest = await asyncio.wait_for(proc.stderr.read(), 30)
            assert await asyncio.wait_for(proc.wait(), 30) == 130, seen + rest
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            never.set()
    assert b"Traceback" not in seen + rest and b"t0ken" not in seen + rest
