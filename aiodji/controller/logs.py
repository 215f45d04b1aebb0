"""Controller log lines: plain text by default, or one JSON object per line (``--log-format
json``) with the record's cycle, project, converter, action and result fields."""

from __future__ import annotations

import logging
import sys

import orjson

__all__ = ["JsonFormatter", "setup_logging"]

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
