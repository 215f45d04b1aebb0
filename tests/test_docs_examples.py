"""Every example of the README and the docs runs: each ```python block is executed against a
simulator on 127.0.0.1, and each ```console transcript is compared with what the command prints.

Conventions (docs/development.md "Examples that run"): ``<!-- setup: CODE -->`` right before a
block is hidden context run first; ``<!-- no-run: REASON -->`` skips a block;
``<!-- requires: MODULE -->`` skips it when MODULE is not installed. ``AIODJI_BASE_URL`` and
``AIODJI_TOKEN`` point at the simulator, so ``aiodji.Client()`` reaches it.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import inspect
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from _servers import ThreadedSimulator

import aiodji
from aiodji.sim import Simulator

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DIRECTIVE = re.compile(r"<!--\s*([\w-]+):\s*(.*?)\s*-->", re.DOTALL)


@attrs.frozen
class Block:
    page: Path
    line: int
    lang: str
    code: str
    directives: dict[str, str]

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"


def parse_blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` with the HTML-comment directives right before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending: dict[str, str] = {}
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("<!--"):
            end = i
            while "-->" not in lines[end]:
                end += 1
            for name, value in DIRECTIVE.findall("\n".join(lines[i : end + 1])):
                pending[name] = value
            i = end + 1
            continue
        if stripped.startswith("```"):
            lang, start = stripped[3:].strip().split(" ")[0], i
            i += 1
            body = []
            while not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(Block(page, start + 1, lang, "\n".join(body) + "\n", pending))
            pending = {}
        elif stripped:
            pending = {}
        i += 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in parse_blocks(page)]
PYTHON = [b for b in ALL_BLOCKS if b.lang == "python"]
CONSOLE_PAGES = sorted({b.page for b in ALL_BLOCKS if b.lang == "console"})


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Simulator]:
    with ThreadedSimulator() as sim:
        monkeypatch.setenv("AIODJI_BASE_URL", sim.url)
        monkeypatch.setenv("AIODJI_TOKEN", sim.token)
        monkeypatch.chdir(tmp_path)
        yield sim


async def _close_clients(namespace: dict[str, Any]) -> None:
    for value in list(namespace.values()):
        if isinstance(value, aiodji.Client):
            await value.close()


def run_python(block: Block) -> None:
    """Execute the block (after its setup) in a fresh namespace; top-level ``await``,
    ``async with`` and ``async for`` run in an event loop."""
    source = block.directives.get("setup", "") + "\n" + block.code
    code = compile(source, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__docs_example__"}
    if not code.co_flags & inspect.CO_COROUTINE:
        exec(code, namespace)
        return

    async def main() -> None:
        try:
            await eval(code, namespace)
        finally:
            await _close_clients(namespace)

    asyncio.run(main())


@pytest.mark.parametrize("block", PYTHON, ids=[b.where for b in PYTHON])
def test_python_example_runs(block: Block, sim_env: Simulator) -> None:
    if "no-run" in block.directives:
        pytest.skip(f"not run: {block.directives['no-run']}")
    required = block.directives.get("requires")
    if required and importlib.util.find_spec(required.split(".")[0]) is None:
        pytest.skip(f"needs {required}")
    run_python(block)


# -- CLI transcripts -----------------------------------------------------------------------------

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_MEASURED = re.compile(r'"(seconds|rate|updated_at|elapsed|version)":\s*"?[\w.]+"?')
_VERSION = re.compile(r"version \d+\.\d+\.\d+\S*")


def normalize(text: str) -> list[str]:
    """Ids, times, durations, rates and versions replaced by placeholders, per line."""
    out = []
    for line in text.strip("\n").splitlines():
        line = _UUID.sub("<id>", line)
        line = _TIME.sub("<time>", line)
        line = _MEASURED.sub(lambda m: f'"{m.group(1)}":<n>', line)
        out.append(_VERSION.sub("version <v>", line).rstrip())
    return out


def transcript_steps(block: Block) -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ aiodji ...`` line of a console block."""
    steps: list[tuple[str, str]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        elif steps:
            steps[-1] = (steps[-1][0], steps[-1][1] + line + "\n")
    return steps


def run_command(command: str) -> str:
    argv = shlex.split(command)
    assert argv[0] == "aiodji", f"a transcript runs aiodji commands only: {command}"
    done = subprocess.run(
        [sys.executable, "-m", "aiodji.cli", *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100"},
        check=False,
    )
    return done.stdout


@pytest.mark.parametrize(
    "page", CONSOLE_PAGES, ids=[str(p.relative_to(ROOT)) for p in CONSOLE_PAGES]
)
def test_cli_transcripts_match_what_the_commands_print(page: Path, sim_env: Simulator) -> None:
    """The console blocks of a page run in order against one simulator (a later block may
    show the state an earlier one left)."""
    for block in (b for b in ALL_BLOCKS if b.page == page and b.lang == "console"):
        if "no-run" in block.directives:
            continue
        for command, expected in transcript_steps(block):
            got = run_command(command)
            assert normalize(got) == normalize(expected), f"{block.where}: $ {command}\n{got}"


def test_the_parser_sees_setup_and_no_run_directives(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- setup: x = 1\ny = 2 -->\n```python\nassert x + y == 3\n```\n\n"
        "text\n<!-- no-run: needs a real organization -->\n```python\nraise SystemExit\n```\n"
        "```console\n$ aiodji --version\naiodji, version 0.2.0\n```\n",
        encoding="utf-8",
    )
    first, second, third = parse_blocks(page)
    assert first.directives == {"setup": "x = 1\ny = 2"} and first.lang == "python"
    assert second.directives == {"no-run": "needs a real organization"}
    assert third.directives == {} and transcript_steps(third) == [
        ("aiodji --version", "aiodji, version 0.2.0\n")
    ]
    run_python(first)
