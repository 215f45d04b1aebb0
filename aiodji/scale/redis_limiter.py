"""A Limiter whose rate gate and pause live in Redis, shared by every process of an organization.

Admission = the per-process concurrency slot (the inherited :class:`~aiodji.limiter.Limiter`,
run ungated) + one reservation in Redis: ``gcra.lua`` moves the shared theoretical arrival time
on and answers how long this caller must wait, so callers are served in the order they
reserved, across processes, without polling. A 429 runs ``pause.lua``: it pauses everybody and,
when adaptive, lowers the shared rate from what the budget admitted since the last pause (the
in-process controller's rules, on shared counters); 429s of requests reserved before the last
pause began are ignored.

Redis unreachable → fail closed: the inherited local gate takes over at a conservative rate
(a quarter of the last shared rate), a warning is logged once, Redis is tried again every
second and the local gate is lifted when it answers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from importlib import resources
from types import TracebackType
from typing import Any

import attrs

from aiodji.limiter import DEFAULT_PAUSE, Limiter

from .budget_key import budget_key

__all__ = ["FALLBACK_SHARE", "RedisLimiter", "RedisRateLimit"]

log = logging.getLogger("aiodji.scale")

FALLBACK_SHARE = 0.25  # of the last known shared rate, per process, while Redis is away
FALLBACK_RATE = 2.0  # req/s per process when no rate was ever known
RETRY_REDIS = 1.0  # seconds between attempts to reach Redis again
REDIS_TIMEOUT = 0.5  # a reservation that takes longer counts as Redis being away

# when this task's last reservation was made (server µs): a 429 reports it to pause.lua
_reserved_at: contextvars.ContextVar[int] = contextvars.ContextVar("aiodji_reserved_at", default=0)


def _script(name: str) -> str:
    return resources.files("aiodji.scale").joinpath(name).read_text(encoding="utf-8")


@attrs.frozen
class RedisRateLimit:
    """``Client(rate_limit=RedisRateLimit("redis://host:6379/0"))``: one budget per organization
    shared by every process. ``key``: the budget's name (default: the token's
    ``organization_uuid``); ``rate``: a fixed req/s (default: adaptive); ``burst``: as
    :class:`~aiodji.config.RateLimit`."""

    url: str = attrs.field(repr=False)  # may carry a Redis password
    key: str | None = None
    rate: float | None = None
    burst: int | None = None

    def build_limiter(self, max_concurrency: int, token: str) -> RedisLimiter:
        return RedisLimiter(
            self.url, budget_key(token, self.key), max_concurrency, self.rate, self.burst
        )


class RedisLimiter(Limiter):
    """Same interface as :class:`Limiter` (``async with``, ``on_rate_limited``, ``on_success``)."""

    def __init__(
        self,
        url: str,
        key: str,
        max_concurrency: int,
        rate: float | None = None,
        burst: int | None = None,
    ) -> None:
        super().__init__(max_concurrency, None, burst, adaptive=False)
        self.key = key
        self.shared_rate = rate  # the budget's rate as last seen in Redis
        self.fixed_rate = rate
        self._url = url
        self._redis: Any = None
        self._reserve: Any = None
        self._pause: Any = None
        self._down_until = 0.0  # while Redis is away: the loop time of the next try
        self._warned = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.redis_calls = 0

    @property
    def redis_available(self) -> bool:
        return self._down_until == 0.0

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(
                self._url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry_on_timeout=False,
            )
            self._reserve = self._redis.register_script(_script("gcra.lua"))
            self._pause = self._redis.register_script(_script("pause.lua"))
        return self._redis

    async def __aenter__(self) -> None:
        await super().__aenter__()  # the per-process slot (and the local gate while failed)
        try:
            wait = await self._shared_wait()
            if wait > 0:
                await asyncio.sleep(wait)
        except BaseException:
            await super().__aexit__(None, None, None)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)

    async def _shared_wait(self) -> float:
        """Reserve on the shared budget; the seconds to wait (0 while failed closed)."""
        from redis.exceptions import RedisError

        loop = asyncio.get_running_loop()
        if self._down_until and loop.time() < self._down_until:
            return 0.0  # the local gate paced this request already
        burst = self._burst or max(1, round((self.shared_rate or 0) / 50))
        try:
            self._client()
            self.redis_calls += 1
            wait_us, now_us, rate_milli = await self._reserve(
                keys=[self.key], args=[self.fixed_rate or 0, burst]
            )
        except (RedisError, OSError, TimeoutError) as exc:
            self._fail_closed(loop, exc)
            return 0.0
        if self._down_until:
            self._recovered()
        _reserved_at.set(int(now_us))
        self.shared_rate = rate_milli / 1000 if rate_milli else None
        return max(0.0, int(wait_us) / 1e6)

    def _fail_closed(self, loop: asyncio.AbstractEventLoop, exc: BaseException) -> None:
        self._down_until = loop.time() + RETRY_REDIS
        if self.rate is None:
            known = self.shared_rate or self.fixed_rate
            self.rate = max(1.0, known * FALLBACK_SHARE) if known else FALLBACK_RATE
        if not self._warned:
            self._warned = True
            log.warning(
                "Redis budget %s unreachable (%s): pacing locally at %.1f req/s until it is back",
                self.key,
                type(exc).__name__,
                self.rate,
            )

    def _recovered(self) -> None:
        self._down_until = 0.0
        self.rate = None  # the shared gate again
        self._warned = False
        log.warning("Redis budget %s reachable again: shared pacing resumed", self.key)

    # -- feedback from the transport ---------------------------------------------------------
    def on_rate_limited(self, retry_after: float | None, now: float | None = None) -> None:
        """Pause this process at once, and every process through Redis."""
        self.stats.rate_limited += 1
        pause = DEFAULT_PAUSE if retry_after is None else retry_after
        self.pause(pause, now)
        if self._down_until:
            self.rate = max(1.0, (self.rate or FALLBACK_RATE) * 0.5)
            return
        task = asyncio.get_running_loop().create_task(self._share_pause(pause, _reserved_at.get()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _share_pause(self, pause: float, reserved_at: int) -> None:
        from redis.exceptions import RedisError

        try:
            self._client()
            self.redis_calls += 1
            adaptive = "0" if self.fixed_rate else "1"
            await self._pause(keys=[self.key], args=[int(pause * 1e6), reserved_at, adaptive])
        except (RedisError, OSError, TimeoutError) as exc:
            self._fail_closed(asyncio.get_running_loop(), exc)

    def on_success(self, now: float | None = None) -> None:
        """Successes are counted in Redis at reservation time: nothing to do per reply."""

    async def aclose(self) -> None:
        """Finish pending pause reports and close the Redis connections (the Client's close)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()
