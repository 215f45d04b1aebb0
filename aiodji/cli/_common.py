"""The names every command module used to import from here, now at home in their modules
by job: :mod:`.settings` (options, access, token), :mod:`.printing` (what the operator sees),
:mod:`.running` (running a command, Ctrl-C, journals). Kept so other command modules go on
importing from one place."""

from __future__ import annotations

from .exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from .printing import (
    emit_json,
    fail,
    item_record,
    make_progress,
    print_report,
    print_table,
    report_error,
    report_internal,
    say,
    stderr,
    stdout,
)
from .running import (
    STOP_AFTER_CONNECTION_FAILURES,
    Interrupts,
    Tally,
    default_journal,
    print_interrupted,
    resume_command,
    run_async,
    writable_journal,
)
from .settings import Settings, one_project, resolve_access, resolve_token, select_projects
from .waiting import PATIENCE

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "PATIENCE",
    "STOP_AFTER_CONNECTION_FAILURES",
    "Interrupts",
    "Settings",
    "Tally",
    "default_journal",
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
    "resolve_access",
    "resolve_token",
    "resume_command",
    "run_async",
    "say",
    "select_projects",
    "stderr",
    "stdout",
    "writable_journal",
]
