"""The ``aiodji`` logger: silent by default (NullHandler); ``AIODJI_LOG=debug|info`` turns it on.

No log line ever carries request headers, so the token cannot reach a log.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("aiodji")
log.addHandler(logging.NullHandler())


class EnvHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The handler of ``AIODJI_LOG``. It steps aside once the program attaches a handler of
    its own to the ``aiodji`` logger (``controller run`` does): each line is printed once."""

    def handle(self, record: logging.LogRecord) -> bool:
        if any(h is not self and not isinstance(h, logging.NullHandler) for h in log.handlers):
            return False
        return bool(super().handle(record))


def setup_from_env() -> None:
    level = os.environ.get("AIODJI_LOG", "").strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        return
    if any(isinstance(h, EnvHandler) for h in log.handlers):
        return  # once per process
    handler = EnvHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
