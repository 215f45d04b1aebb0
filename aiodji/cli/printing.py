"""What the operator sees: the two consoles (messages literally, never rich markup), one-line
errors (a JSON error line under machine output), JSON lines, tables of a run, progress."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

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

from aiodji.bulk import BulkReport

from .exits import EXIT_FAILED, ExitCode, exit_code_for
from .output import JSON_OPTIONS, render_rows

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "emit_json",
    "fail",
    "make_progress",
    "print_report",
    "print_table",
    "report_error",
    "report_internal",
    "say",
    "stderr",
    "stdout",
]

# markup off: names and messages come from the server and from operators, and rich would
# eat `cam[wide]` or crash on `x[/]y`; colour is given as Text styles instead
stdout = Console(soft_wrap=True, markup=False, highlight=False)
stderr = Console(stderr=True, markup=False, highlight=False)


def say(label: str, message: str, *, style: str = "red") -> None:
    """One line on stderr, ``label: message``, the message taken literally."""
    stderr.print(Text.assemble((f"{label}:", style), " ", message), soft_wrap=True)


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
        wide=_wide_tables(),
    )


def _wide_tables() -> bool:
    """``--wide`` of the command running (the root context holds the global options)."""
    ctx = click.get_current_context(silent=True)
    return bool(getattr(ctx.find_root().obj, "wide", False)) if ctx is not None else False


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
