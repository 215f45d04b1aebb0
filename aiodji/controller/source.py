"""The desired file as a long-running controller reads it: re-read when it changes, and never
a reason to exit. A file that cannot be read or parsed (not UTF-8, a directory, unreadable,
deleted, invalid TOML, a rule error) is rejected: the last good state is kept — or, before
there is one, the controller stays up, not ready, and tries again every cycle."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from aiodji.fleet.desired import Desired
from aiodji.redact import redact_text

__all__ = ["DesiredSource", "Stamp", "file_stamp", "read_desired", "should_read"]

log = logging.getLogger("aiodji.controller")

# (mtime ns, size, inode): an editor that writes a new file and renames it changes the inode
Stamp = tuple[int, int, int] | None


class DesiredRejected(Exception):
    """The desired file could not be used; ``reason`` is one redacted line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def file_stamp(path: Path) -> Stamp:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def should_read(*, forced: bool, stamp: Stamp, last_stamp: Stamp, have_good: bool) -> bool:
    """Read again after SIGHUP, when the file changed, or while there is nothing good yet
    (a file fixed in place with the same stamp must still be picked up)."""
    return forced or not have_good or stamp != last_stamp


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeError):
        text = f"not UTF-8 text ({exc})"
    else:
        text = str(exc) or type(exc).__name__
    return redact_text(text.splitlines()[0] if text else type(exc).__name__)[:500]


def read_desired(path: Path) -> Desired:
    """``Desired.from_toml`` with every failure of reading or parsing turned into
    :class:`DesiredRejected` (whatever class the reader raises: it is input, not a bug)."""
    try:
        return Desired.from_toml(path)
    except Exception as exc:  # any failure of the input rejects the file
        raise DesiredRejected(_reason(exc)) from exc


class DesiredSource:
    """The last good :class:`Desired` of ``path``; :meth:`poll` before each cycle."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.desired: Desired | None = None
        self.rejection: str | None = None  # why the file on disk is not in use (None: it is)
        self._stamp: Stamp = None
        self._force = True

    def request_reload(self) -> None:
        self._force = True

    def poll(self) -> bool:
        """Re-read if needed; True when a new desired state replaced a good one."""
        stamp = file_stamp(self.path)
        have_good = self.desired is not None
        if not should_read(
            forced=self._force, stamp=stamp, last_stamp=self._stamp, have_good=have_good
        ):
            return False
        self._force = False
        changed_on_disk = stamp != self._stamp
        self._stamp = stamp
        try:
            new = read_desired(self.path)
        except DesiredRejected as exc:
            self._rejected(exc.reason, repeat=not changed_on_disk)
            return False
        if self.rejection is not None:  # it was rejected before: say that it is fine now
            log.info(
                "desired file %s accepted",
                self.path,
                extra={"action": "reload", "result": "ok"},
            )
        self.rejection = None
        if new == self.desired:
            return False
        old, self.desired = self.desired, new
        if old is not None:
            log.info(
                "desired file %s reloaded", self.path, extra={"action": "reload", "result": "ok"}
            )
        return old is not None

    def _rejected(self, reason: str, *, repeat: bool) -> None:
        """Log a rejection once: the same file failing the same way every cycle is not news."""
        if repeat and reason == self.rejection:
            return
        self.rejection = reason
        if self.desired is not None:
            what = "keeping the last good one"
        else:
            what = "no good one yet: not ready, trying again every cycle"
        log.error(
            "desired file %s rejected, %s: %s",
            self.path,
            what,
            reason,
            extra={"action": "reload", "result": "rejected", "error": reason},
        )
