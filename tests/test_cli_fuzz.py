"""Fuzzing the command tree: every command, called with the values operators really type.

The click tree is walked; each command gets generated option values (empty, huge, NaN/inf,
negative, unicode, rich markup, control characters, /proc paths, directories, UTF-16 and binary
files) and runs in-process against a simulator served from a thread. Whatever the input, the
command ends with one exit code of the table (docs/reference/exit-codes.md) and never with an
internal error or a traceback.

Commands that serve forever (``sim``, ``controller run``, ``worker``, ``mcp serve``) or need
Redis (``runs``, ``apply --queue``) are left to their own tests, as is ``converters diff``;
``--region`` is never given (it would leave the machine).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from _inproc import run, simulator_fixtures
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aiodji.cli import cli
from aiodji.cli.exits import ExitCode
from aiodji.operation_calls import argument_schema
from aiodji.operations import OPERATIONS
from aiodji.sim import Simulator

SKIPPED = {
    ("sim",),
    ("controller", "run"),
    ("worker",),
    ("mcp", "serve"),
    ("runs", "show"),
    ("converters", "diff"),  # the controller's reader of desired files: its own tests
}
SKIPPED_OPTIONS = {"--queue", "--no-wait", "--region", "--help"}
CODES = {int(c) for c in ExitCode} - {int(ExitCode.INTERNAL)}
EXAMPLES = int(os.environ.get("AIODJI_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Odd files: UTF-16 TOML, binary, a BOM, a directory, a cut journal, a real one."""
    base = tmp_path_factory.mktemp("fuzzfiles")
    text = '[[converters]]\nproject = "*"\nenabled = false\n'
    (base / "utf16.toml").write_bytes(text.encode("utf-16"))
    (base / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (base / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (base / "good.toml").write_text(text)
    (base / "cut.jsonl").write_text('{"type":"item","key":"k","state":"succ')
    (base / "other.jsonl").write_text('{"type":"item"}\n[1,2]\n"x"\n{"type":"item","state":1}\n')
    (base / "dir").mkdir()
    found = {p.name: str(p) for p in base.iterdir()}
    found["missing"] = str(base / "missing" / "dir" / "j.jsonl")  # never created
    return found


served, sim_env = simulator_fixtures()


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        elif (*path, name) not in SKIPPED:
            yield (*path, name), command


COMMANDS = list(leaves(cli))
NASTY = [
    "",
    " ",
    "-1",
    "0",
    "-3",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "99999999999999999999999",
    "x" * 100_000,
    "cam[wide]",
    "[bold]boss[/bold]",
    "x[/]y",
    "[/]",
    "[scale]",
    "\x1b[31mred",
    "a\nb",
    "\t\r",
    "ünïcødé ✈ 飞行",
    "*",
    "Project 01",
    "81-0-0",
    "1700000000",
    "2026-01-01T00:00:00Z",
    "rtmp://media.test/live/key",
    "rtmp://media.test/live/***",
    "http://[::1",
    "http://127.0.0.1:70000",
    "/proc/version",
    "/proc/self",
    "/etc/passwd/j.jsonl",
    "{}",
    '{"sn": [1, 2]}',
    "[1,2]",
    "null",
]
FILE_KEYS = [
    "utf16.toml",
    "bom.toml",
    "binary.bin",
    "good.toml",
    "cut.jsonl",
    "other.jsonl",
    "dir",
    "missing",
]


# values a command accepts, so that half the calls get past parsing into the command's body
SANE = ["Project 01", "Project 02", "*", "dock-*", "81-0-0", "1581F001D0010001", "1", "5",
        "rtmp://media.test/live/fuzz", "2026-01-01T00:00:00Z", "1700000000"]  # fmt: skip


def values(files: dict[str, str]) -> st.SearchStrategy[str]:
    alphabet = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
    nasty = st.one_of(
        st.sampled_from(NASTY),
        st.sampled_from([files[k] for k in FILE_KEYS]),
        st.text(alphabet, max_size=12),
    )
    return st.one_of(st.sampled_from([*SANE, files["good.toml"]]), nasty)


def arg_names(path: tuple[str, ...]) -> list[str]:
    """The argument names an operation command takes (for ``--arg k=v``)."""
    name = ".".join(p.replace("-", "_") for p in path)
    for op in OPERATIONS:
        if op.name == name:
            return sorted(argument_schema(op)["properties"]) or ["nope"]
    return ["sn", "converter_id", "begin_at", "task_uuid", "nope"]


@st.composite
def command_lines(draw: st.DrawFn, files: dict[str, str]) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    value = values(files)
    argv: list[str] = []
    if draw(st.booleans()):
        argv += draw(st.sampled_from([["--json"], ["-o", "table"], ["-o", "csv"], ["-o", "json"]]))
    if draw(st.integers(0, 4)) == 0:
        argv += [draw(st.sampled_from(["--rate", "--concurrency", "--columns"])), draw(value)]
    if draw(st.integers(0, 6)) == 0:
        argv += ["--base-url", draw(st.sampled_from(["", "http://[::1", "ftp://x", "x y"]))]
    argv += list(path)
    if path == ("call",) or path == ("schema",):
        ops = [op.name for op in OPERATIONS]
        argv.append(draw(st.one_of(st.sampled_from(ops), value)))
        path = tuple(argv[-1].split("."))
    for param in command.params:
        if not param.required and draw(st.integers(0, 2)) == 0:
            continue
        if isinstance(param, click.Argument):
            argv.append(draw(value))
            continue
        name = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
        if name in SKIPPED_OPTIONS:
            continue
        if param.is_flag:
            argv.append(name)
        elif name == "--arg":
            key = draw(st.sampled_from(arg_names(path)))
            argv += [name, f"{key}={draw(value)}"]
        elif name == "--project" and draw(st.booleans()):
            argv += [name, "Project 01"]
        elif name == "--json-args":
            argv += [name, draw(st.one_of(st.sampled_from(["{}", '{"sn": "x"}']), value))]
        else:
            argv += [name, draw(value)]
    return argv


def check(argv: list[str]) -> int:
    code, out, err = run(argv)
    shown = f"aiodji {argv!r}\n--- exit {code}\n{out[-2000:]}\n--- stderr\n{err[-2000:]}"
    assert code in CODES, shown
    assert "internal error" not in out + err, shown
    assert "Traceback" not in out + err, shown
    return code


@settings(
    max_examples=EXAMPLES * len(COMMANDS),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_no_command_line_ends_in_an_internal_error(
    sim_env: Simulator, files: dict[str, str], data: st.DataObject
) -> None:
    event(f"exit {check(data.draw(command_lines(files)))}")


KNOWN = [
    (2, ["--rate", "nan", "projects", "list"]),
    (2, ["--rate", "inf", "projects", "list"]),
    (2, ["--rate", "-1", "projects", "list"]),
    (2, ["--base-url", "http://[::1", "projects", "list"]),
    (2, ["--base-url", "http://127.0.0.1:70000", "projects", "list"]),
    (2, ["--base-url", "http://127.0.0.1:1", "--region", "us", "projects", "list"]),
    (5, ["converters", "list", "--project", "x[/]y"]),
    (5, ["converters", "get", "nope[x]"]),
    (2, ["converters", "apply", "-f", "{utf16.toml}"]),
    (2, ["converters", "apply", "-f", "{binary.bin}", "--dry-run"]),
    (2, ["converters", "enable", "--all-projects", "--journal", "/proc/version"]),
    (2, ["converters", "enable", "--all-projects", "--journal", "/etc/passwd/j.jsonl"]),
    (2, ["converters", "enable", "--all-projects", "--journal", "{missing}"]),
    (2, ["converters", "enable", "--all-projects", "--journal", "{dir}"]),
    (2, ["converters", "enable", "--all-projects", "--resume", "{binary.bin}"]),
    (2, ["journal", "show", "{binary.bin}"]),
    (2, ["journal", "show", "{other.jsonl}"]),
    (2, ["journal", "show", "{cut.jsonl}"]),
    (2, ["journal", "show", "{utf16.toml}"]),
    (3, ["--json", "--profile", "nope", "projects", "list"]),
    (2, ["-o", "json", "converters", "nope"]),
]


@pytest.mark.parametrize(("code", "argv"), KNOWN)
def test_known_bad_inputs_end_in_one_line_and_their_code(
    sim_env: Simulator, files: dict[str, str], code: int, argv: list[str]
) -> None:
    """The inputs of the operator report: each one line on stderr, the code of the table."""
    argv = [files[a[1:-1]] if a.startswith("{") else a for a in argv]
    got, out, err = run(argv)
    assert got == code, (argv, out, err)
    assert "internal error" not in out + err and "Traceback" not in out + err
    assert len(err.strip().splitlines()) <= 3, err  # click's usage errors: usage, hint, error
    assert not Path(files["missing"]).parent.exists()


def test_a_state_directory_that_cannot_exist_is_one_line(
    sim_env: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "/proc/self")
    code, _, err = run(["-o", "table", "converters", "enable", "--all-projects"])
    assert code == 2 and "cannot write the journal /proc/self/aiodji" in err, err
