"""What every command shares: options → Client, the token, output (tables, JSON lines),
progress, Ctrl-C handling, exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shlex
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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
from aiodji.bulk import BulkReport, ItemResult, ItemState
from aiodji.config import Timeouts
from aiodji.crash import state_dir
from aiodji.fleet import Change, Selection
from aiodji.models import Project

from .exits import ExitCode, NothingMatched, exit_code_for
from .output import JSON_OPTIONS, choose_columns, render_rows, resolve_format
from .params import check_base_url
from .profiles import Profile, profile_token

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "STOP_AFTER_CONNECTION_FAILURES",
    "Interrupts",
    "Settings",
    "Tally",
    "emit_json",
    "fail",
    "item_record",
    "make_progress",
    "one_project",
    "print_interrupted",
    "print_report",
    "print_table",
    "report_error",
    "report_internal",
    "resume_command",
    "run_async",
    "say",
    "select_projects",
    "writable_journal",
]

T = TypeVar("T")

# kept for the modules that import them; the one table is exits.ExitCode
EXIT_FAILED = ExitCode.FAILED
EXIT_USAGE = ExitCode.USAGE
EXIT_INTERRUPTED = ExitCode.INTERRUPTED

# markup off: names and messages come from the server and from operators, and rich would
# eat `cam[wide]` or crash on `x[/]y`; colour is given as Text styles instead
stdout = Console(soft_wrap=True, markup=False, highlight=False)
stderr = Console(stderr=True, markup=False, highlight=False)


def say(label: str, message: str, *, style: str = "red") -> None:
    """One line on stderr, ``label: message``, the message taken literally."""
    stderr.print(Text.assemble((f"{label}:", style), " ", message), soft_wrap=True)


@attrs.frozen
class Settings:
    """The global options (the token is not one: a profile, AIODJI_TOKEN or a hidden prompt)."""

    base_url: str | None = None
    region: str | None = None
    output: str = "auto"
    concurrency: int = 32
    rate: float | None = None
    columns: tuple[str, ...] | None = None
    wide: bool = False
    profile: Profile | None = None

    @property
    def format(self) -> str:
        """The output format, ``auto`` resolved (table at a terminal, JSON lines in a pipe)."""
        return resolve_format(self.output, isatty=sys.stdout.isatty())

    @property
    def json(self) -> bool:
        """Machine output: bulk commands write JSON lines for every format but ``table``."""
        return self.format != "table"

    @property
    def default_projects(self) -> tuple[str, ...]:
        return self.profile.projects if self.profile is not None else ()

    def access(self, env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
        return resolve_access(self.base_url, self.region, self.profile, env)

    def token(self) -> str:
        global _token_cache
        if _token_cache is None:
            _token_cache = resolve_token(self.profile, os.environ, prompt=_prompt_token)
        return _token_cache

    def client(
        self, *, project_uuid: str | None = None, hooks: aiodji.Hooks | None = None
    ) -> aiodji.Client:
        base_url, region = self.access()
        return aiodji.Client(
            hooks=[PATIENCE.hooks, *([hooks] if hooks is not None else [])],
            token=self.token(),
            base_url=base_url,
            region=region,
            rate_limit=self.rate,
            project_uuid=project_uuid,
        )

    def rows(
        self,
        kind: str,
        title: str,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        table_columns: Sequence[str] | None = None,
    ) -> None:
        """A listing in the chosen format (``--columns`` picks and orders); a table shows
        ``table_columns`` by default (80 columns are few), machine formats every column."""
        shown = choose_columns(columns, self.columns)
        if self.format == "table" and table_columns is not None and not self.columns:
            shown = list(table_columns)
        render_rows(
            rows,
            shown,
            fmt=self.format,
            kind=kind,
            title=title,
            wide=self.wide,
            may_drop=not self.columns,  # columns asked for by name are all shown
        )


_token_cache: str | None = None

# A server that accepts and never answers leaves a command silent for attempts × read timeout
# (3 × 30 s): after this long without an answer the operator is told it is still waiting.
STILL_WAITING_AFTER = 5.0


class Patience:
    """Tracks the attempts on the wire (from the Client's hooks) to say "still waiting" once."""

    def __init__(self) -> None:
        self.pending: dict[str, float] = {}  # request id → when its current attempt started
        self.said = False
        self.hooks = aiodji.Hooks(
            on_request=lambda e: self.pending.__setitem__(e.request_id, time.monotonic()),
            on_retry=lambda e: self.pending.pop(e.request_id, None),
            on_response=lambda e: self.pending.pop(e.request_id, None),
        )

    def silent_for(self, now: float) -> float:
        """How long the oldest attempt on the wire has had no answer (0: none waiting)."""
        return max((now - t for t in self.pending.values()), default=0.0)

    async def watch(self, *, every: float = 0.5) -> None:
        while not self.said:
            await asyncio.sleep(every)
            waited = self.silent_for(time.monotonic())
            if waited >= STILL_WAITING_AFTER:
                self.said = True
                attempts = aiodji.RetryPolicy().max_retries + 1
                stderr.print(
                    f"still waiting: the server has not answered for {waited:.0f} s (each "
                    f"attempt waits up to {Timeouts().read:g} s for a reply, {attempts} "
                    "attempts; Ctrl-C stops)",
                    style="yellow",
                )


PATIENCE = Patience()


def resolve_access(
    base_url: str | None,
    region: str | None,
    profile: Profile | None,
    env: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None]:
    """Flags, then an explicit profile, then AIODJI_*, then the default profile; none: error."""
    env = os.environ if env is None else env
    if base_url or region:
        return base_url, region
    from_env = (env.get("AIODJI_BASE_URL") or None, env.get("AIODJI_REGION") or None)
    from_profile = (profile.base_url, profile.region) if profile else (None, None)
    explicit = profile is not None and profile.explicit
    for url, reg in (from_profile, from_env) if explicit else (from_env, from_profile):
        if url:  # the flag is checked by click; a variable or a profile here (exit 3)
            try:
                check_base_url(url)
            except aiodji.InvalidArgumentError as exc:
                raise aiodji.ConfigError(f"base URL of the environment or profile: {exc}") from None
        if url or reg:
            return url, reg
    raise aiodji.ConfigError(
        "no access point: give --base-url URL or --region cn|us|eu, set AIODJI_BASE_URL or "
        "AIODJI_REGION, or use a profile (see `aiodji config show`); aiodji never guesses "
        "where to send the token"
    )


def resolve_token(
    profile: Profile | None, env: Mapping[str, str], *, prompt: Callable[[], str | None]
) -> str:
    """An explicit profile's source, then AIODJI_TOKEN, then the default profile's, then a
    hidden prompt at a terminal."""
    from_env = env.get("AIODJI_TOKEN", "").strip() or None
    if profile is not None and profile.explicit:
        token = profile_token(profile, env) or from_env
    else:
        token = from_env or (profile_token(profile, env) if profile else None)
    token = token or prompt()
    if not token:
        raise aiodji.ConfigError(
            "no token: set AIODJI_TOKEN (the organization key), give a profile a token source "
            "(token_env / token_cmd / token_keyring), or run in a terminal to be asked"
        )
    return token


def _prompt_token() -> str | None:
    if not sys.stdin.isatty():
        return None
    # a Ctrl-C here is click.Abort: run_async turns it into exit 130 (defect 2)
    answer: str = click.prompt("Organization key (hidden)", hide_input=True, err=True)
    return answer.strip() or None


async def select_projects(dji: aiodji.Client, chosen: Selection) -> list[Project]:
    """The projects a selection names; none at all (an unknown exact name, a glob that
    matches nothing) is :class:`NothingMatched` (exit 5)."""
    try:
        found = await dji.fleet.projects(chosen)
    except aiodji.InvalidArgumentError as exc:  # the one refusal here: an unknown exact name
        raise NothingMatched(str(exc)) from None
    if not found:
        raise NothingMatched(f"no project matches {', '.join(chosen.projects)}")
    return found


async def one_project(dji: aiodji.Client, wanted: str) -> Project:
    """The project of a uuid, exact name or glob (the first in organization order)."""
    return (await select_projects(dji, Selection.build([wanted])))[0]


def fail(message: str, code: int = EXIT_FAILED) -> None:
    say("error", message)
    raise SystemExit(code)


def emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(record, default=str, option=JSON_OPTIONS).decode() + "\n")
    sys.stdout.flush()


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A human table on stdout: cells never wrap (ids stay whole or end in …)."""
    render_rows(
        [dict(zip(columns, row, strict=True)) for row in rows],
        columns,
        fmt="table",
        kind="row",
        title=title,
        wide=_current_settings().wide,
    )


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
        # never take over stdout: `--json ... > file` must get every JSON line (defect 1)
        redirect_stdout=False,
        redirect_stderr=False,
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
    table = Table(title=Text(title), title_justify="left")
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


def report_error(exc: BaseException, settings: Settings | None = None) -> int:
    """Say what went wrong (a ``{"type": "error"}`` line under machine output); the code."""
    code = exit_code_for(exc)
    message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    if settings is not None and settings.json:
        _emit_error(type(exc).__name__, message, code, getattr(exc, "code", None))
    say("configuration error" if code is ExitCode.CONFIG else "error", message)
    return int(code)


def report_internal(exc: BaseException, settings: Settings | None = None) -> int:
    """An unexpected exception: the one line of :mod:`aiodji.crash` (a JSON error line too
    under machine output), exit 70."""
    from aiodji.crash import report_internal_error

    line = report_internal_error(exc, entry="cli")
    if settings is not None and settings.json:
        _emit_error("internal", line, ExitCode.INTERNAL, None)
    stderr.print(line, soft_wrap=True)
    return int(ExitCode.INTERNAL)


def _emit_error(error: str, message: str, code: ExitCode, business_code: Any) -> None:
    emit_json(
        {
            "type": "error",
            "error": error,
            "message": message,
            "exit_code": int(code),
            "code": business_code,
        }
    )


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
