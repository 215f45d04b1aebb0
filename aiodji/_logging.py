"""The ``aiodji`` logger: silent by default (NullHandler); ``AIODJI_LOG=debug|info`` turns it on.

No log line ever carries request headers, so the token cannot reach a log.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("aiodji")
log.addHandler(logging.NullHandler())


def setup_from_env() -> None:
    level = os.environ.get("AIODJI_LOG", "").strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
