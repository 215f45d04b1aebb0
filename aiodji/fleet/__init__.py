"""Fleet operations: converter state across projects — discover, plan, apply, resume.

``dji.fleet`` reads the current state (project pages and converter lists fetched concurrently),
plans only the changes a desired state needs (idempotent: a second run plans nothing), and
applies them through the bulk engine with a JSON-lines journal, so an interrupted run resumes
without redoing work.
"""

from __future__ import annotations

from .desired import CreateSpec, Desired, DesiredFileError, StateRule
from .journal import JournalFileError, read_journal, read_journal_file
from .ops import DEFAULT_CONVERTER_LIMIT, Fleet, FleetReport, QuotaExceeded
from .plan import Change, ChangeKind, Plan, find_converter, make_plan, projects_to_list
from .records import change_record, result_record
from .selection import ALL, Selection

__all__ = [
    "ALL",
    "DEFAULT_CONVERTER_LIMIT",
    "Change",
    "ChangeKind",
    "CreateSpec",
    "Desired",
    "DesiredFileError",
    "Fleet",
    "FleetReport",
    "JournalFileError",
    "Plan",
    "QuotaExceeded",
    "Selection",
    "StateRule",
    "change_record",
    "find_converter",
    "make_plan",
    "projects_to_list",
    "read_journal",
    "read_journal_file",
    "result_record",
]
