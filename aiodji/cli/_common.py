"""What every command shares: options → Client, the token, output (tables, JSON lines),
progress, Ctrl-C handling, exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click
import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

import aiodji
from aiodji.bulk import BulkReport, ItemResult
from aiodji.fleet import Change

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "Interrupts",
    "Settings",
    "emit_json",
    "fail",
    "item_record",
    "make_progress",
    "print_report",
    "print_table",
    "resume_command",
    "run_async",
]

T = TypeVar("T")

EXIT_FAILED = 1  # some item did not succeed, or the server/config is wrong
EXIT_USAGE = 2  # click's own code for bad usage
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


@attrs.frozen
class Settings:
    """The global options (the token is not one: AIODJI_TOKEN or a hidden prompt)."""

    base_url: str | None
    region: str | None
    json: bool
    concurrency: int
    rate: float | None

    def client(
        self, *, project_uuid: str | None = None, hooks: aiodji.Hooks | None = None
    ) -> aiodji.Client:
        return aiodji.Client(
            hooks=hooks,
            token=_token(),
            base_url=self.base_url,
            region=self.region,
            rate_limit=self.rate,
            project_uuid=project_uuid,
        )


def _token() -> str:
    token = os.environ.get("AIODJI_TOKEN", "").strip()
    if token:
        return token
    if sys.stdin.isatty():
        token = click.prompt("Organization key (hidden)", hide_input=True, err=True).strip()
        if token:
            return token
    fail(
        "no token: set AIODJI_TOKEN (the organization key) or run in a terminal to be asked",
        EXIT_USAGE,
    )
    raise AssertionError  # fail() does not return


def fail(message: str, code: int = EXIT_FAILED) -> None:
    stderr.print(f"[red]error:[/] {message}", highlight=False)
    raise SystemExit(code)


def emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(record, default=str).decode() + "\n")
    sys.stdout.flush()


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    stdout.print(table)


def item_record(result: ItemResult[Change, Any]) -> dict[str, Any]:
    """One bulk result as a JSON object (no token, no push URL)."""
    change = result.item
    return {
        "type": "result",
        "action": str(change.kind),
        "project_uuid": change.project_uuid,
        "project": change.project_name,
        "converter_id": getattr(result.value, "converter_id", None) or change.converter_id,
        "converter_name": change.converter_name,
        "state": result.state.value,
        "ok": result.ok,
        "attempts": result.attempts,
        "error": None if result.error is None else f"{type(result.error).__name__}: {result.error}",
    }


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s", style="cyan")


def make_progress() -> Progress:
    """Count, rate and ETA, on stderr (stdout stays clean for tables and JSON)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    )


def print_report(title: str, report: BulkReport, *, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "type": "summary",
                **report.counts,
                "seconds": round(report.seconds, 3),
                "rate": round(report.rate, 1),
                "stopped": report.stopped,
            }
        )
        return
    table = Table(title=title, title_justify="left")
    for column in ("succeeded", "failed", "not attempted", "unknown", "seconds", "items/s"):
        table.add_column(column, justify="right")
    table.add_row(
        str(report.succeeded),
        str(report.failed),
        str(report.not_attempted),
        str(report.unknown),
        f"{report.seconds:.2f}",
        f"{report.rate:,.0f}",
    )
    stdout.print(table)
    if report.failures:
        print_table(
            f"failures (first {min(len(report.failures), 20)} of {len(report.failures)})",
            ("action", "project", "converter", "error"),
            (
                (str(r.item.kind), r.item.project_name, r.item.converter_name, str(r.error))
                for r in report.failures[:20]
            ),
        )


def default_journal() -> Path:
    """``$XDG_STATE_HOME/aiodji/journal-<UTC time>.jsonl`` (``~/.local/state`` by default)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Path(base) / "aiodji" / f"journal-{stamp}-{os.getpid()}.jsonl"


def resume_command(argv: Sequence[str], journal: Path) -> str:
    """The command line that resumes this run: the same arguments, journal and resume set."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--journal", "--resume"):
            skip = True
            continue
        if arg.startswith(("--journal=", "--resume=")):
            continue
        kept.append(arg)
    return shlex.join(["aiodji", *kept, "--journal", str(journal), "--resume", str(journal)])


class Interrupts:
    """First Ctrl-C: set ``stop`` (no new items; in-flight ones finish). Second: cancel."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.count = 0
        self._task: asyncio.Task[Any] | None = None

    def install(self) -> None:
        self._task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here
            loop.add_signal_handler(signal.SIGINT, self._on_sigint)

    def uninstall(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)

    def _on_sigint(self) -> None:
        self.count += 1
        if self.count == 1:
            self.stop.set()
            stderr.print(
                "[yellow]stopping: no new items; in-flight ones finish. Ctrl-C again to abort.[/]"
            )
        elif self._task is not None:
            self._task.cancel()


def run_async(main: Callable[[], Awaitable[int]]) -> None:
    """Run a command's coroutine; map aiodji errors to a clear message and an exit code."""
    try:
        code = asyncio.run(_guarded(main))
    except KeyboardInterrupt:
        stderr.print("[red]aborted[/]")
        code = EXIT_INTERRUPTED
    raise SystemExit(code)


async def _guarded(main: Callable[[], Awaitable[int]]) -> int:
    try:
        return await main()
    except aiodji.ConfigError as exc:
        stderr.print(f"[red]configuration error:[/] {exc}", highlight=False)
        return EXIT_USAGE
    except aiodji.DJIError as exc:
        stderr.print(f"[red]error:[/] {exc}", highlight=False)
        return EXIT_FAILED
    except asyncio.CancelledError:
        stderr.print("[red]aborted[/]")
        return EXIT_INTERRUPTED
