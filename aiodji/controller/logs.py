"""Controller log lines: plain text by default, or one JSON object per line (``--log-format
json``) with the record's cycle, project, converter, action and result fields."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import TYPE_CHECKING, Any

import orjson

from aiodji.redact import redact_text

if TYPE_CHECKING:
    from aiodji.bulk import ItemResult
    from aiodji.fleet.plan import Change

__all__ = ["JsonFormatter", "log_item", "log_unexpected", "setup_logging"]

log = logging.getLogger("aiodji.controller")

_FIELDS = ("cycle", "project", "converter", "action", "result", "error", "drift", "applied")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in (*_FIELDS, "full_relist"):
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        return orjson.dumps(entry, default=str).decode()


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> logging.Handler:
    """The one stderr handler on the ``aiodji`` logger (the controller's and the calls').

    It replaces the handler ``AIODJI_LOG`` added at import (that variable then only sets the
    level): two handlers on one logger print every line twice."""
    logger = logging.getLogger("aiodji")
    for old in [h for h in logger.handlers if type(h) is logging.StreamHandler]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(min(level, logger.level or level))
    return handler


def log_item(number: int, change: Change, result: ItemResult[Change, Any], outcome: str) -> None:
    where = change.project_name or change.project_uuid
    what = change.converter_name or change.converter_id
    shown = "refused: a converter of that name exists already" if outcome == "refused" else None
    log.info(
        "cycle %d: %s %s/%s: %s",
        number,
        change.kind,
        where,
        what,
        shown or result.state.value,
        extra={
            "cycle": number,
            "project": where,
            "converter": what,
            "action": str(change.kind),
            "result": "refused" if outcome == "refused" else result.state.value,
            **({"error": f"{type(result.error).__name__}"} if result.error else {}),
        },
    )


def log_unexpected(number: int, exc: BaseException) -> None:
    """A bug met in one pass: one redacted line, the redacted traceback at debug level."""
    log.error(
        "cycle %d: unexpected %s: %s (the loop goes on; the next cycle relists everything)",
        number,
        type(exc).__name__,
        redact_text(str(exc)).replace("\n", " ")[:500],
        extra={"cycle": number, "action": "cycle", "result": "failed", "error": type(exc).__name__},
    )
    log.debug("%s", redact_text("".join(traceback.format_exception(exc))))
