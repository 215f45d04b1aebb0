"""Reaching Redis: the queue URL checked before use, named without its password, an outage as
one aiodji error (a connection error: exit 7), and a worker's "lost" / "back" logged once each.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiodji.errors import APIConnectionError, InvalidArgumentError

__all__ = [
    "RedisHealth",
    "RedisUnavailable",
    "check_queue_url",
    "queue_arg",
    "redis_location",
    "run_commands",
    "unreachable",
]

SCHEMES = ("redis", "rediss", "unix")


class RedisUnavailable(APIConnectionError):
    """Redis could not be reached: nothing listening, restarted for too long, or gone."""


def check_queue_url(url: str) -> str:
    """``url`` when it is a Redis URL (redis://, rediss://, unix://); else a usage error."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidArgumentError("--queue: not a valid URL (want redis://host:port/db)") from None
    if parts.scheme not in SCHEMES:
        got = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise InvalidArgumentError(f"--queue: want redis://host:port/db, got {got}")
    if parts.scheme != "unix" and not parts.hostname:
        raise InvalidArgumentError("--queue: the URL names no host (want redis://host:port/db)")
    return url


def redis_location(url: str) -> str:
    """``redis://host:port`` of a queue URL: never its password or user."""
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
    except ValueError:
        return "redis://?"
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}:{port}"


def queue_arg(url: str) -> str:
    """``url`` as a command line may show it: itself, or ``"$AIODJI_QUEUE"`` when it carries
    credentials (the password is never printed)."""
    try:
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
    except ValueError:
        userinfo = "?"
    return '"$AIODJI_QUEUE"' if userinfo else url


def run_commands(run_id: str, url: str) -> str:
    """What an operator can do about a run still going on the workers."""
    queue = queue_arg(url)
    return (
        f"progress: aiodji runs show {run_id} --queue {queue}\n"
        f"to stop it: aiodji runs cancel {run_id} --queue {queue}"
    )


def unreachable(url: str, hint: str = "") -> RedisUnavailable:
    return RedisUnavailable(f"cannot reach Redis at {redis_location(url)}{hint}")


class RedisHealth:
    """Logs the first failure of a streak and the first success after it, nothing between
    (a restart that takes ten seconds is two lines, not hundreds)."""

    def __init__(self, log: logging.Logger, url: str) -> None:
        self.log = log
        self.where = redis_location(url)
        self.down = False

    def lost(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            self.log.warning("Redis lost at %s (%s): retrying", self.where, type(exc).__name__)

    def back(self) -> None:
        if self.down:
            self.down = False
            self.log.info("Redis back at %s", self.where)
