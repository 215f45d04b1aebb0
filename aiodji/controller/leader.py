"""Leader election for controller replicas: a Redis lease with a fencing token.

As controller-runtime's leader election (Kubernetes leases; defaults 15 s lease, 10 s renew
deadline, 2 s retry period): one replica holds the lease and acts, the others wait and retry.
The lease is one Redis key, ``<token>:<identity>``, set with ``NX PX`` when free; the token
comes from ``INCR`` on a counter, so each term of leadership has a new, larger one. The leader
renews it with a compare-and-extend script every retry period.

Why a replica stops before another can act: a lease renewed at ``t`` (the time *before* the
request was sent) lives in Redis until at least ``t + lease``; the holder acts only until
``t + renew_deadline`` (shorter), so the writes it still has in flight end before the lease can
lapse. Before each write batch the holder also compares its token with Redis (the fencing
check). The API server cannot check a fencing token, so this margin is the guarantee.

The decisions are pure functions; :class:`LeaderElector` is the thin Redis loop around them
(``acquire / renew / lost`` in the controller's terms). ``redis`` is the ``aiodji[scale]`` extra,
imported when an elector starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import attrs

from aiodji.config import ConfigError
from aiodji.redact import redact_text

__all__ = [
    "LeaderElector",
    "LeaseTiming",
    "Role",
    "acting_left",
    "default_identity",
    "may_act",
    "redis_label",
    "role_after",
]

log = logging.getLogger("aiodji.controller")

DEFAULT_KEY = "aiodji:controller:leader"
MISSING_EXTRA = "leader election needs the redis package: pip install 'aiodji[scale]'"

# KEYS[1] lease, KEYS[2] token counter; ARGV[1] identity, ARGV[2] lease ms → token, or 0 (held)
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held then
  local sep = string.find(held, ':', 1, true)
  if sep and string.sub(held, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(held, 1, sep - 1))
  end
  return 0
end
local token = redis.call('INCR', KEYS[2])
if redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2]) then
  return token
end
return 0
"""
# ARGV[1] "<token>:<identity>", ARGV[2] lease ms → 1 renewed, 0 not ours any more
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_CHECK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end return 0"
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@attrs.frozen
class LeaseTiming:
    """``lease``: how long a lease lives after its last renewal; ``renew_deadline``: how long
    the holder may act after its last successful renewal; ``retry``: how often to renew or
    try to acquire. controller-runtime's defaults."""

    lease: float = 15.0
    renew_deadline: float = 10.0
    retry: float = 2.0

    def __attrs_post_init__(self) -> None:
        if not 0 < self.retry < self.renew_deadline < self.lease:
            raise ValueError(
                "leader election wants 0 < retry period < renew deadline < lease duration"
            )


class Role:
    LEADER = "leader"
    STANDBY = "standby"
    NO_REDIS = "standby (Redis unreachable)"


def acting_left(renewed_at: float | None, now: float, timing: LeaseTiming) -> float:
    """Seconds the holder may still act (0: it must not write)."""
    if renewed_at is None:
        return 0.0
    return max(0.0, renewed_at + timing.renew_deadline - now)


def may_act(renewed_at: float | None, now: float, timing: LeaseTiming) -> bool:
    """The holder acts only within the renew deadline of its last successful renewal."""
    return acting_left(renewed_at, now, timing) > 0


def role_after(*, acting: bool, redis_ok: bool) -> str:
    if acting:
        return Role.LEADER
    return Role.STANDBY if redis_ok else Role.NO_REDIS


def redis_label(url: str) -> str:
    """``host:port/db`` of a Redis URL: never its password."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] + parts.path


def default_identity() -> str:
    """Host, pid and a random part: two replicas never share one, a restart gets a new one."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _redis_module() -> Any:
    try:
        import redis.asyncio as aioredis
    except ImportError:
        raise ConfigError(MISSING_EXTRA) from None
    return aioredis


class LeaderElector:
    """One replica's side of the election. ``async with elector:`` runs the acquire/renew loop
    in the background and releases the lease on exit (the standby takes over at once).

    The reconciler asks :meth:`acting` (may write now), :meth:`confirm` (the fencing check
    before a write batch) and waits on :meth:`until_not_acting` during a batch."""

    def __init__(
        self,
        url: str,
        *,
        key: str = DEFAULT_KEY,
        identity: str | None = None,
        timing: LeaseTiming | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.key = key
        self.identity = identity or default_identity()
        self.timing = timing or LeaseTiming()
        self.clock = clock
        self.token: int | None = None
        self.renewed_at: float | None = None
        self.redis_ok = True
        self.gained = asyncio.Event()  # set while leading: wakes a waiting standby's loop
        self._redis: Any = None
        self._task: asyncio.Task[None] | None = None
        self._was_leader = False
        self._why = ""

    # -- what the reconciler asks ----------------------------------------------------------
    def acting(self) -> bool:
        return self.token is not None and may_act(self.renewed_at, self.clock(), self.timing)

    @property
    def role(self) -> str:
        return role_after(acting=self.acting(), redis_ok=self.redis_ok)

    def describe(self) -> str:
        """For /readyz and logs: the role and, when leading, the fencing token."""
        return f"{self.role} (token {self.token})" if self.acting() else self.role

    async def confirm(self) -> bool:
        """The fencing check before a write batch: still acting, and Redis still holds our
        token (a replica paused past its lease finds another's token there and stops)."""
        if not self.acting():
            return False
        try:
            held = await self._redis.eval(_CHECK, 1, self.key, self._value())
        except Exception as exc:  # any Redis failure: not confirmed, the loop logs the outage
            log.debug("leader fencing check failed: %s", redact_text(str(exc)))
            return False
        if not held:
            self._lost("another replica holds the lease")
            self._note_role()
        return bool(held) and self.acting()

    async def until_not_acting(self) -> None:
        """Returns when this replica must stop writing (its renew deadline passed)."""
        while True:
            left = acting_left(self.renewed_at, self.clock(), self.timing)
            if self.token is None or left <= 0:
                return
            await asyncio.sleep(min(left, self.timing.retry))

    # -- the loop --------------------------------------------------------------------------
    def connect(self) -> None:
        """Make the Redis client (no I/O yet); ``ConfigError`` when the extra is missing."""
        aioredis = _redis_module()
        wait = max(0.05, self.timing.retry / 2)  # a hung Redis must not hold a renewal long
        self._redis = aioredis.Redis.from_url(
            self.url, socket_timeout=wait, socket_connect_timeout=wait
        )

    async def __aenter__(self) -> LeaderElector:
        self.connect()
        self._task = asyncio.create_task(self._loop(), name="aiodji-leader-election")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.close()

    async def close(self) -> None:
        """Release the lease if held (a standby takes over at once), close the client."""
        if self.token is not None:
            with contextlib.suppress(Exception):
                await self._redis.eval(_RELEASE, 1, self.key, self._value())
            log.info("leader lease released", extra={"action": "leader", "result": "released"})
        self.token = None
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def _loop(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.timing.retry)

    async def step(self) -> None:
        """One acquire-or-renew; the outcome decides the role (logged when it changes)."""
        started = self.clock()  # before the request: the lease lives at least lease from here
        try:
            if self.token is None:
                token = int(
                    await self._redis.eval(
                        _ACQUIRE, 2, self.key, f"{self.key}:token", self.identity, self._ms()
                    )
                )
                if token:
                    self.token, self.renewed_at = token, started
            elif await self._redis.eval(_RENEW, 1, self.key, self._value(), self._ms()):
                self.renewed_at = started
            else:
                self._lost("another replica holds the lease")
            self._redis_back()
        except Exception as exc:  # Redis down, a timeout, a refused script: retried
            self._redis_lost(exc)
        self._note_role()

    # -- helpers ---------------------------------------------------------------------------
    def _value(self) -> str:
        return f"{self.token}:{self.identity}"

    def _ms(self) -> int:
        return max(1, int(self.timing.lease * 1000))

    def _lost(self, why: str) -> None:
        self.token, self.renewed_at = None, None
        self._why = why

    def _redis_lost(self, exc: BaseException) -> None:
        if self.redis_ok:
            log.error(
                "cannot reach Redis at %s for leader election: %s: %s (retrying every %gs)",
                redis_label(self.url),
                type(exc).__name__,
                redact_text(str(exc)),
                self.timing.retry,
                extra={"action": "leader", "result": "redis-lost"},
            )
        self.redis_ok = False
        if self.token is not None and not self.acting():
            # past the renew deadline without Redis: stop writing before the lease can lapse
            self._lost("no renewal within the renew deadline")

    def _redis_back(self) -> None:
        if not self.redis_ok:
            log.info(
                "Redis at %s reachable again",
                redis_label(self.url),
                extra={"action": "leader", "result": "redis-back"},
            )
        self.redis_ok = True

    def _note_role(self) -> None:
        leading = self.acting()
        if leading and not self._was_leader:
            log.info(
                "leader: acting (fencing token %d)",
                self.token,
                extra={"action": "leader", "result": "acquired"},
            )
            self.gained.set()
        elif not leading and self._was_leader:
            log.warning(
                "leader: stepped down (%s), not writing; standing by",
                self._why or "the renew deadline passed",
                extra={"action": "leader", "result": "stepped-down"},
            )
            self.gained.clear()
            self._why = ""
        self._was_leader = leading
