"""The one outward shape of a change and of its result: what the journal, the CLI's JSON lines,
the plan print and the MCP tools show (and a scaled-out run streams).

``"action"`` is always the change's kind (``enable``, ``disable``, ``delete``, ``create``);
``"skipped"`` says why a planned change will not be made (``"quota"``), else it is None.
Never a token, never a push URL (stream keys are secrets).
"""

from __future__ import annotations

from typing import Any

from aiodji.bulk import ItemResult

from .plan import Change

__all__ = ["change_record", "error_text", "result_record"]


def change_record(change: Change) -> dict[str, Any]:
    """A planned change as a JSON object."""
    return {
        "action": str(change.kind),
        "key": change.key,
        "project_uuid": change.project_uuid,
        "project": change.project_name,
        "converter_id": change.converter_id,
        "converter_name": change.converter_name,
        "sn": change.sn,
        "camera": change.camera,
        "skipped": change.skipped,
    }


def result_record(result: ItemResult[Change, Any]) -> dict[str, Any]:
    """A change's outcome: :func:`change_record` plus state, ok, attempts and error; a create's
    ``converter_id`` is the new converter's."""
    record = change_record(result.item)
    created = getattr(result.value, "converter_id", None)
    if created:
        record["converter_id"] = created
    record.update(
        state=result.state.value,
        ok=result.ok,
        attempts=result.attempts,
        error=error_text(result.error),
    )
    return record


def error_text(error: BaseException | None) -> str | None:
    """``"Type: message"`` (None when there is no error)."""
    return None if error is None else f"{type(error).__name__}: {error}"
