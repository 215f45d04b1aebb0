"""The last line of every entry point's error boundary: an unexpected exception.

The CLI, the controller, the worker and the MCP server each map every known error to one line
and the documented exit code. Anything else is a bug of ours: the operator gets one line,
``internal error: <type>: <message> (details: <file>)``, the traceback goes to a crash file in
the state directory (``AIODJI_DEBUG=1`` prints it instead) and the process exits 70
(``EX_SOFTWARE``).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from .redact import redact_text

__all__ = ["INTERNAL_ERROR_EXIT", "report_internal_error", "state_dir"]

INTERNAL_ERROR_EXIT = 70  # sysexits.h EX_SOFTWARE


def state_dir() -> Path:
    """``$XDG_STATE_HOME/aiodji`` (``~/.local/state/aiodji`` by default); not created here."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "aiodji"


def _write_crash_file(text: str, entry: str) -> Path | None:
    """Writes the traceback; None when the state directory is unusable (the line says so)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    try:
        directory = state_dir()
        directory.mkdir(parents=True, exist_ok=True)  # the state directory only, never above it
        path = directory / f"crash-{entry}-{stamp}-{os.getpid()}.txt"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path
    except (OSError, ValueError):
        return None


def report_internal_error(exc: BaseException, *, entry: str) -> str:
    """Records an unexpected exception and returns the one line to show the operator.

    ``entry`` names the entry point (``cli``, ``controller``, ``worker``, ``mcp``); the crash
    file is redacted like every log line (no token, no stream key).
    """
    text = redact_text("".join(traceback.format_exception(exc)))
    message = redact_text(str(exc)).replace("\n", " ")[:500]
    head = f"internal error: {type(exc).__name__}: {message}"
    if os.environ.get("AIODJI_DEBUG", "").strip() not in ("", "0"):
        sys.stderr.write(text)
        return f"{head} (AIODJI_DEBUG=1: traceback above)"
    path = _write_crash_file(text, entry)
    where = str(path) if path is not None else "no crash file: the state directory is not writable"
    return f"{head} (details: {where})"
