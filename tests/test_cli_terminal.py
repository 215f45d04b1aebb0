"""What only shows in a terminal, under a pseudo-terminal.

stdin and stderr are a pty (so rich draws a live progress bar and the token prompt is asked);
stdout is a file or the pty, as the case needs. Signals go to the process only.
"""

from __future__ import annotations

import asyncio
import os
import pty
import re
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

CLI = [sys.executable, "-m", "aiodji.cli"]
ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\r")


class Terminal:
    """A pty whose output is collected by a thread (the test's loop runs the simulator)."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    @property
    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.output)).decode(errors="replace")

    def close(self) -> None:
        os.close(self.slave)
        self._reader.join(timeout=5)
        os.close(self.master)


def env_for(sim: Simulator, tmp_path: Path, *, token: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        COLUMNS="120",
        LINES="40",
        TERM="xterm",
        NO_COLOR="1",
        AIODJI_BASE_URL=sim.url,
    )
    if token:
        env["AIODJI_TOKEN"] = sim.token
    return env


@pytest.fixture
async def slow_sim() -> AsyncIterator[Simulator]:
    """24 enabled converters whose PUTs take 0.4 s: a run lasts long enough to interrupt."""
    async with Simulator(projects=3, docks_per_project=2, converters_per_project=8) as sim:
        for c in sim.state.converters.values():
            c.auto_push_stream = True
        sim.faults.latency = 0.4
        sim.faults.methods = frozenset({"PUT"})
        yield sim


async def until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


def lines_of(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()]


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def start(
    args: list[str], env: dict[str, str], term: Terminal, stdout: Path | None
) -> asyncio.subprocess.Process:
    out = stdout.open("wb") if stdout is not None else term.slave
    try:
        # started with SIGINT ignored, as a runner started in the background by a
        # non-interactive shell (CI, `make test &`) passes it on: the CLI must not depend
        # on the disposition it inherits
        return await asyncio.create_subprocess_exec(
            *CLI,
            *args,
            stdin=term.slave,
            stdout=out,
            stderr=term.slave,
            env=env,
            preexec_fn=ignore_sigint,
        )
    finally:
        if stdout is not None:
            out.close()  # type: ignore[union-attr]


async def test_json_redirected_to_a_file_gets_every_line_while_the_bar_draws(
    slow_sim: Simulator, tmp_path: Path
) -> None:
    slow_sim.faults.latency = 0.02
    term, out = Terminal(), tmp_path / "r.json"
    try:
        args = ["--json", "--concurrency", "8", "converters", "disable", "--all-projects"]
        proc = await start(args, env_for(slow_sim, tmp_path), term, out)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, term.text
    finally:
        term.close()
    records = lines_of(out)
    assert [r["type"] for r in records].count("result") == 24
    assert records[-1]["type"] == "summary" and records[-1]["succeeded"] == 24
    assert '"type":"result"' not in term.text  # the terminal shows the bar, not the data
    assert "24/24" in term.text


async def test_second_ctrl_c_prints_summary_journal_and_resume_then_exits_130(
    slow_sim: Simulator, tmp_path: Path
) -> None:
    term, out = Terminal(), tmp_path / "r.json"
    try:
        args = ["--json", "--concurrency", "4", "converters", "disable", "--all-projects"]
        proc = await start(args, env_for(slow_sim, tmp_path), term, out)
        await until(lambda: any(r["type"] == "result" for r in lines_of(out)))
        proc.send_signal(signal.SIGINT)
        await until(lambda: "Ctrl-C again" in term.text)
        proc.send_signal(signal.SIGINT)  # in-flight PUTs still sleep in the simulator
        assert await asyncio.wait_for(proc.wait(), 30) == 130, term.text
        await asyncio.sleep(0.1)
    finally:
        term.close()
    summary = lines_of(out)[-1]
    assert summary["type"] == "summary" and summary["stopped"] == "interrupted"
    text = term.text
    journal = re.search(r"journal: (\S+)", text)
    assert journal is not None and os.path.exists(journal.group(1))  # noqa: ASYNC240
    assert "to resume: aiodji" in text and "--resume" in text
    assert Path(journal.group(1)).is_relative_to(tmp_path)


async def test_progress_bar_does_not_count_what_was_skipped(
    slow_sim: Simulator, tmp_path: Path
) -> None:
    term, out = Terminal(), tmp_path / "r.json"
    try:
        args = ["--json", "--concurrency", "2", "converters", "disable", "--all-projects"]
        proc = await start(args, env_for(slow_sim, tmp_path), term, out)
        await until(lambda: any(r["type"] == "result" for r in lines_of(out)))
        proc.send_signal(signal.SIGINT)  # one Ctrl-C: in-flight changes finish, no new ones
        assert await asyncio.wait_for(proc.wait(), 30) == 130, term.text
    finally:
        term.close()
    summary = lines_of(out)[-1]
    done = summary["succeeded"]
    assert summary["not_attempted"] > 0 and done < 24
    counts = re.findall(r"(\d+)/(\d+)", term.text)
    assert counts, term.text
    assert counts[-1] == (str(done), str(done))  # the bar ends at what was done, not 24/24


async def test_first_ctrl_c_at_the_token_prompt_exits_130(
    slow_sim: Simulator, tmp_path: Path
) -> None:
    term = Terminal()
    try:
        proc = await start(
            ["projects", "list"], env_for(slow_sim, tmp_path, token=False), term, None
        )
        await until(lambda: "Organization key" in term.text)
        await asyncio.sleep(0.2)  # the prompt is waiting for input
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 130, term.text
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        term.close()


async def test_no_access_point_is_said_before_the_token_prompt(
    slow_sim: Simulator, tmp_path: Path
) -> None:
    env = env_for(slow_sim, tmp_path, token=False)
    del env["AIODJI_BASE_URL"]
    term = Terminal()
    try:
        proc = await start(["projects", "list"], env, term, None)
        assert await asyncio.wait_for(proc.wait(), 30) == 3, term.text
        await asyncio.sleep(0.1)
    finally:
        term.close()
    assert "no access point" in term.text and "Organization key" not in term.text
