"""Running a command: its coroutine under one error mapping, Ctrl-C (first: stop taking new
items; second: cancel), the tally of a run, journals and the commands that resume a run."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shlex
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import click

import aiodji
from aiodji.bulk import ItemResult, ItemState
from aiodji.crash import state_dir
from aiodji.fleet import Change

from .exits import EXIT_INTERRUPTED
from .printing import emit_json, report_error, stderr, stdout
from .settings import Settings
from .waiting import PATIENCE

__all__ = [
    "STOP_AFTER_CONNECTION_FAILURES",
    "Interrupts",
    "Tally",
    "default_journal",
    "print_interrupted",
    "resume_command",
    "run_async",
    "writable_journal",
]

# A server that stopped answering fails every item the same way: after this many connection
# failures in a row the run stops taking new items (they stay not_attempted, for --resume).
STOP_AFTER_CONNECTION_FAILURES = 10


class Tally:
    """What the progress callback saw: enough for a summary when the run is cancelled, and
    whether the failures are all connection failures (the server went away: exit 7)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.created: list[tuple[str | None, str]] = []  # (name, id) of new converters
        self.connection_failures = 0
        self.other_failures = 0
        self.in_a_row = 0  # connection failures since the last item that got an answer

    def add(self, result: ItemResult[Change, Any]) -> None:
        state = result.state.value
        self.counts[state] = self.counts.get(state, 0) + 1
        converter_id = getattr(result.value, "converter_id", None)
        if result.ok and converter_id:
            self.created.append((getattr(result.value, "converter_name", None), converter_id))
        if result.state in (ItemState.FAILED, ItemState.UNKNOWN):
            connection = isinstance(result.error, aiodji.APIConnectionError)
            self.connection_failures += connection
            self.other_failures += not connection
            self.in_a_row = self.in_a_row + 1 if connection else 0
        elif result.state is ItemState.SUCCEEDED:
            self.in_a_row = 0

    @property
    def server_gone(self) -> bool:
        """Time to stop: the last items all failed to reach the server."""
        return self.in_a_row >= STOP_AFTER_CONNECTION_FAILURES

    @property
    def only_connection_failures(self) -> bool:
        return self.connection_failures > 0 and self.other_failures == 0


def print_interrupted(tally: Tally, journal: Path, *, as_json: bool) -> None:
    """The second Ctrl-C: the summary so far, the journal and the resume command (defect 2)."""
    if as_json:
        emit_json({"type": "summary", **tally.counts, "stopped": "interrupted"})
    else:
        done = ", ".join(f"{n} {state}" for state, n in tally.counts.items()) or "nothing done"
        stdout.print(f"aborted: {done}; in-flight changes are unknown (the journal says which)")
    command = resume_command(sys.argv[1:], journal)
    stderr.print(f"journal: {journal}\nto resume: {command}", highlight=False, soft_wrap=True)


def default_journal() -> Path:
    """``$XDG_STATE_HOME/aiodji/journal-<UTC time>.jsonl`` (``~/.local/state`` by default)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return state_dir() / f"journal-{stamp}-{os.getpid()}.jsonl"


def writable_journal(path: Path) -> Path:
    """``path`` if a journal can be appended to it, checked before any change: only the state
    directory is created (never a chain of directories elsewhere); else InvalidArgumentError
    (exit 2). A journal that does not exist yet is not created here."""
    try:
        if path.parent == state_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.is_dir():
            raise aiodji.InvalidArgumentError(f"journal {path}: {path.parent} is not a directory")
        if path.exists() or path.is_symlink():
            with path.open("ab"):  # proves it: /proc files and directories say no
                pass
        elif not os.access(path.parent, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, f"{path.parent} is not writable")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise aiodji.InvalidArgumentError(f"cannot write the journal {path}: {reason}") from None
    return path


def resume_command(argv: Sequence[str], journal: Path, flag: str = "--resume") -> str:
    """The command line that goes on with this run: the same arguments, the journal, and
    ``--resume`` (skip what is done) or ``--retry-failed`` (redo only what failed)."""
    kept: list[str] = []
    skip = False
    rails = ("--journal", "--resume", "--retry-failed")
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in rails:
            skip = True
            continue
        if arg.startswith(tuple(f"{r}=" for r in rails)):
            continue
        kept.append(arg)
    return shlex.join(["aiodji", *kept, "--journal", str(journal), flag, str(journal)])


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
                "stopping: no new items; in-flight ones finish. Ctrl-C again to abort.",
                style="yellow",
            )
        elif self._task is not None:
            self._task.cancel()


def run_async(main: Callable[[], Awaitable[int]], *, needs_token: bool = True) -> None:
    """Run a command's coroutine; map errors to a message (or a JSON error) and an exit code.

    The token is read before the event loop starts, so a Ctrl-C at its prompt ends the command
    at once (exit 130) instead of being taken by asyncio's own handler."""
    settings = _current_settings()
    try:
        if needs_token:
            settings.access()  # "no access point" before the hidden prompt asks for a token
            settings.token()
        code = asyncio.run(_guarded(main, settings))
    except (KeyboardInterrupt, click.Abort):
        stderr.print("interrupted", style="red")
        code = EXIT_INTERRUPTED
    except aiodji.DJIError as exc:
        code = report_error(exc, settings)
    raise SystemExit(int(code))


def _current_settings() -> Settings:
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Settings) if ctx is not None else None
    return found if found is not None else Settings()


async def _guarded(main: Callable[[], Awaitable[int]], settings: Settings) -> int:
    watch = asyncio.create_task(PATIENCE.watch())
    try:
        return await main()
    except (aiodji.DJIError, click.UsageError) as exc:
        return report_error(exc, settings)
    except asyncio.CancelledError:
        stderr.print("interrupted", style="red")
        return EXIT_INTERRUPTED
    finally:
        watch.cancel()
