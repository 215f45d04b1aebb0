"""The apply journal: one JSON line per item outcome, written and flushed as it happens.

Each run starts with a ``{"type": "run"}`` header carrying a fingerprint of what the run was
for (its desired state, the projects it covers, the access point), so a resume with another
plan is refused. Item records are :func:`aiodji.fleet.records.result_record`'s shape. Never
the token, never a push URL (stream keys are secrets).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import IO, Any

import attrs
import orjson

from aiodji.bulk import ItemResult, ItemState
from aiodji.crash import state_dir
from aiodji.errors import InvalidArgumentError

from .plan import Plan
from .records import result_record

__all__ = [
    "JOURNAL_VERSION",
    "Journal",
    "JournalFile",
    "JournalFileError",
    "check_fingerprint",
    "fingerprint",
    "item_entry",
    "read_journal",
    "read_journal_file",
]

JOURNAL_VERSION = 2  # 2: the run header has a fingerprint; items use result_record's shape


class JournalFileError(InvalidArgumentError):
    """A journal that cannot be used: unreadable, not a journal, or written for another plan,
    organization or access point (exit 2)."""


class Journal:
    """Append-only JSON lines file; ``write()`` writes and flushes one line (and
    :meth:`close` fsyncs). Its directory must exist, unless it is the state directory
    (``$XDG_STATE_HOME/aiodji``), which is created."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    def _open(self) -> IO[bytes]:
        if self._file is None:
            try:
                if self.path.parent == state_dir():
                    # the state directory only: a mistyped --journal /nonexistent/dir/j.jsonl
                    # must not create a directory chain
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise JournalFileError(f"cannot write the journal {self.path}: {reason}") from None
        return self._file

    def write(self, record: dict[str, Any]) -> None:
        f = self._open()
        f.write(orjson.dumps({"ts": round(time.time(), 3), **record}) + b"\n")
        f.flush()

    def header(self, **info: Any) -> None:
        self.write({"type": "run", "version": JOURNAL_VERSION, **info})

    def record(self, result: ItemResult[Any, Any]) -> None:
        self.write(item_entry(result))

    def close(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            f.flush()
            os.fsync(f.fileno())
            f.close()


def item_entry(result: ItemResult[Any, Any]) -> dict[str, Any]:
    """One item's journal record (also what a scaled-out run streams per item)."""
    return {"type": "item", **result_record(result)}


# -- what a run was for ------------------------------------------------------------------------
def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def fingerprint(plan: Plan, base_url: str) -> dict[str, str]:
    """What a journal's run was for: its desired state (its repr masks push URLs), the
    projects it covers (another organization has other project uuids) and the access point."""
    what = repr(plan.desired) if plan.desired is not None else repr(sorted(plan_keys(plan)))
    return {
        "plan": _digest(what),
        "projects": _digest(*sorted(p.uuid for p in plan.projects)),
        "base_url": base_url,
    }


def plan_keys(plan: Plan) -> list[str]:
    return [c.key for c in (*plan.changes, *plan.skipped)]


_PART_NAMES = {
    "plan": "another desired state (plan)",
    "projects": "other projects (another organization?)",
    "base_url": "another access point",
}


def check_fingerprint(journal: JournalFile, expected: dict[str, str]) -> None:
    """Refuse a journal whose last run was for something else. A journal without a
    fingerprint (written before version 2) is accepted: every change it records as done is
    checked against the live state anyway."""
    found = journal.fingerprint
    if found is None:
        return
    for part, label in _PART_NAMES.items():
        if found.get(part) != expected.get(part):
            detail = f" ({found.get(part)})" if part == "base_url" else ""
            raise JournalFileError(
                f"the journal {journal.path} was written for {label}{detail}: "
                "resume it with the same command, or start a new journal"
            )


# -- reading -----------------------------------------------------------------------------------
@attrs.frozen
class JournalFile:
    """A journal as read: its run headers, the last state of each change key, and whether its
    last line was cut (a crash mid-write; that line is ignored)."""

    path: Path
    runs: tuple[dict[str, Any], ...]
    items: tuple[dict[str, Any], ...]
    torn: bool = False

    @property
    def states(self) -> dict[str, ItemState]:
        return {str(r["key"]): ItemState(r["state"]) for r in self.items}

    @property
    def fingerprint(self) -> dict[str, str] | None:
        last = self.runs[-1] if self.runs else {}
        found = last.get("fingerprint")
        return found if isinstance(found, dict) else None


def _record(line: bytes) -> dict[str, Any] | None:
    """A journal record, or None when the line is not one."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict) or record.get("type") not in ("run", "item"):
        return None
    if record["type"] == "item":
        try:
            ItemState(str(record.get("state")))
        except ValueError:
            return None
        if not isinstance(record.get("key"), str):
            return None
    return record


def read_journal_file(path: str | os.PathLike[str]) -> JournalFile:
    """Read a journal. A cut last line is ignored (``torn``); a file whose lines are not
    journal records — or any bad line before the last — is a :class:`JournalFileError`."""
    where = Path(path)
    try:
        lines = [line for line in where.read_bytes().splitlines() if line.strip()]
    except OSError as exc:
        reason = "a directory" if isinstance(exc, IsADirectoryError) else exc.strerror
        raise JournalFileError(f"cannot read the journal {where}: {reason}") from None
    records: list[dict[str, Any]] = []
    torn = False
    for number, line in enumerate(lines, 1):
        record = _record(line)
        if record is not None:
            records.append(record)
        elif number == len(lines) and records:
            torn = True  # a crash mid-write cuts the last line; what came before stands
        else:
            raise JournalFileError(f"{where}: line {number} is not a journal record")
    return JournalFile(
        path=where,
        runs=tuple(r for r in records if r["type"] == "run"),
        items=tuple(r for r in records if r["type"] == "item"),
        torn=torn,
    )


def read_journal(path: str | os.PathLike[str]) -> dict[str, ItemState]:
    """The last recorded state of each change key (see :func:`read_journal_file`)."""
    return read_journal_file(path).states
