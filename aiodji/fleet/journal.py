"""The apply journal: one JSON line per item outcome, written and flushed as it happens.

A record holds the change's key, kind, project, converter id/name, final state, error text and
attempts. Never the token, never a push URL (stream keys are secrets).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from aiodji.bulk import ItemResult, ItemState
from aiodji.errors import InvalidArgumentError

__all__ = ["JOURNAL_VERSION", "Journal", "item_entry", "read_journal"]

JOURNAL_VERSION = 1


class Journal:
    """Append-only JSON lines file; ``record()`` writes and flushes one line (and fsyncs
    on :meth:`close`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    def open(self) -> Journal:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
        return self

    def write(self, record: dict[str, Any]) -> None:
        f = self.open()._file
        assert f is not None
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

    def __enter__(self) -> Journal:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def item_entry(result: ItemResult[Any, Any]) -> dict[str, Any]:
    """One item's journal record (also what a scaled-out run streams per item)."""
    change = result.item
    entry: dict[str, Any] = {
        "type": "item",
        "key": change.key,
        "kind": str(change.kind),
        "project_uuid": change.project_uuid,
        "converter_id": getattr(result.value, "converter_id", None) or change.converter_id,
        "converter_name": change.converter_name,
        "state": result.state.value,
        "attempts": result.attempts,
    }
    if result.error is not None:
        entry["error"] = f"{type(result.error).__name__}: {result.error}"
    return entry


def read_journal(path: str | os.PathLike[str]) -> dict[str, ItemState]:
    """The last recorded state of each change key. A torn last line (a crash mid-write) is
    ignored; any other bad line is an error."""
    states: dict[str, ItemState] = {}
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read the journal: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            if record.get("type") == "item":
                states[str(record["key"])] = ItemState(record["state"])
        except (orjson.JSONDecodeError, KeyError, ValueError, AttributeError):
            if number == len(lines):
                break
            raise InvalidArgumentError(f"{path}: line {number} is not a journal record") from None
    return states
