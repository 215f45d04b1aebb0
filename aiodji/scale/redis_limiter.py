"""A Limiter whose rate gate and pause live in Redis, shared by every process of an organization.

Admission = the per-process concurrency slot (the inherited :class:`~aiodji.limiter.Limiter`,
run without a rate of its own) + one reservation in Redis: ``gcra.lua`` moves the shared
theoretical arrival time on and answers how long this caller must wait, so callers go in the
order they reserved, across processes, without polling.

The rate is :mod:`aiodji.ratecontrol`'s model, run once per budget, not once per process:
every process feeds the budget's reply counters (accepted replies ride on its next
reservation, so no extra round trip; each 429 runs ``event.lua``), and ``event.lua`` judges
noise or congestion on those shared counters (same window, thresholds and "replies to requests
reserved before the last event are the same burst" rule as in-process). A congestion event
sets the shared ceiling from what the server accepted over the window and restarts the CUBIC
curve that ``gcra.lua`` follows (constants passed from ``ratecontrol``, one source). Each
process still reads its own 429s with a local :class:`RateController` for the retry of that
request (its delay, and a Client-wide pause, :func:`aiodji.retry.decide`); a pause runs
``pause.lua``: every process holds.

Redis unreachable → fail closed: the inherited gate takes over at a conservative fixed rate
(a quarter of the last shared rate, or ``FALLBACK_RATE``), a warning is logged once, Redis is
tried again every ``RETRY_REDIS`` seconds and the local rate is lifted when it answers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from importlib import resources
from types import TracebackType
from typing import Any

import attrs

from aiodji import ratecontrol
from aiodji.limiter import Limiter, LimiterStats
from aiodji.ratecontrol import RateController, RateSignal

from .budget_key import budget_key

__all__ = ["FALLBACK_SHARE", "RedisLimiter", "RedisRateLimit"]

log = logging.getLogger("aiodji.scale")

FALLBACK_SHARE = 0.25  # of the last known shared rate, per process, while Redis is away
FALLBACK_RATE = 2.0  # req/s per process when no rate was ever known
RETRY_REDIS = 1.0  # seconds between attempts to reach Redis again
REDIS_TIMEOUT = 0.5  # a reservation that takes longer counts as Redis being away
_CURVE = (ratecontrol.CUBIC_C, ratecontrol.MIN_RATE, ratecontrol.HEADROOM)
_RING = (round(ratecontrol.SLOT * 1e6), ratecontrol.SLOTS)
_JUDGE = (ratecontrol.MIN_LIMITED, ratecontrol.CONGESTION_SHARE, ratecontrol.SATURATION_SHARE)
# event.lua's verdicts: the reply was of an earlier burst (0), noise (1), an event (2, 3)
_VERDICTS = {0: "ignored", 1: "noise", 2: "congestion", 3: "saturation"}

# the server time (µs) of this task's last reservation: a congestion event reports it
_reserved_at: contextvars.ContextVar[int] = contextvars.ContextVar("aiodji_reserved_at", default=0)


def _script(name: str) -> str:
    files = resources.files("aiodji.scale")
    common = files.joinpath("rate.lua").read_text(encoding="utf-8")
    return common + "\n" + files.joinpath(name).read_text(encoding="utf-8")


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
    """Same interface as :class:`Limiter` (:class:`~aiodji.limiter.RateGate`)."""

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
        self.fixed_rate = rate
        self.shared_rate = rate  # the budget's rate as last seen in Redis
        self.judge = RateController(max_concurrency, rate)  # this process's 429s: noise?
        self._url = url
        self._redis: Any = None
        self._scripts: dict[str, Any] = {}
        self._down_until = 0.0  # while Redis is away: the loop time of the next try
        self._warned = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.redis_calls = 0
        self._unreported = 0  # accepted replies not yet added to the shared counters
        self.verdicts = dict.fromkeys(_VERDICTS.values(), 0)  # event.lua's, for this process

    @property
    def redis_available(self) -> bool:
        return self._down_until == 0.0

    @property
    def stats(self) -> LimiterStats:
        j = self.judge
        return attrs.evolve(
            super().stats,
            mode="shared" if self.redis_available else "fallback",
            rate=self.shared_rate if self.redis_available else self.rate,
            rate_limited=j.rate_limited,
            congestion_events=self.verdicts["congestion"] + self.verdicts["saturation"],
            saturation_events=self.verdicts["saturation"],
            noise_events=self.verdicts["noise"] + self.verdicts["ignored"],
        )

    def _script(self, name: str) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(
                self._url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry_on_timeout=False,
            )
            for script in ("gcra", "event", "pause"):
                # register_script: EVALSHA, and EVAL again when Redis lost its script cache
                self._scripts[script] = self._redis.register_script(_script(f"{script}.lua"))
        self.redis_calls += 1
        return self._scripts[name]

    async def __aenter__(self) -> float:
        await super().__aenter__()  # the per-process slot (and the local gate while failed)
        try:
            wait = await self._shared_wait()
            if wait > 0:
                await asyncio.sleep(wait)
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        return asyncio.get_running_loop().time()

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
        accepted = self._take_unreported()
        try:
            wait_us, now_us, rate_milli = await self._script("gcra")(
                keys=[self.key], args=[self.fixed_rate or 0, burst, *_CURVE, *_RING, accepted]
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
        if self.controller.fixed_rate is None:
            known = self.shared_rate or self.fixed_rate
            rate = max(1.0, known * FALLBACK_SHARE) if known else FALLBACK_RATE
            self.controller = RateController(self.max_concurrency, rate)
        if not self._warned:
            self._warned = True
            log.warning(
                "Redis budget %s unreachable (%s): pacing locally at %.1f req/s until it is back",
                self.key,
                type(exc).__name__,
                self.controller.fixed_rate,
            )

    def _recovered(self) -> None:
        self._down_until = 0.0
        self.controller = RateController(self.max_concurrency, None, adaptive=False)
        self._warned = False
        log.warning("Redis budget %s reachable again: shared pacing resumed", self.key)

    # -- feedback from the transport ---------------------------------------------------------
    def on_success(self, now: float | None = None) -> None:
        self.judge.on_success(asyncio.get_running_loop().time() if now is None else now)
        if not self.fixed_rate:
            self._unreported += 1  # added to the shared counters by the next script call

    def _take_unreported(self) -> int:
        n, self._unreported = self._unreported, 0
        return n

    def on_rate_limited(self, sent_at: float, now: float | None = None) -> RateSignal:
        """Report the 429 to the shared judgement (the budget's rate); the local reading only
        shapes this request's retry."""
        now = asyncio.get_running_loop().time() if now is None else now
        signal = self.judge.on_rate_limited(now, sent_at)
        if not self.fixed_rate and self.redis_available:
            args = [_reserved_at.get(), self._take_unreported(), ratecontrol.BETA, *_CURVE]
            call = self._script("event")(keys=[self.key], args=[*args, *_RING, *_JUDGE])
            self._background(call, self._verdict)
        return signal

    def _verdict(self, code: Any) -> None:
        self.verdicts[_VERDICTS[int(code)]] += 1

    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold this process at once, and every process through Redis."""
        super().pause(seconds, now)
        if seconds > 0 and self.redis_available:
            self._background(self._script("pause")(keys=[self.key], args=[int(seconds * 1e6)]))

    def _background(self, call: Any, then: Callable[[Any], None] | None = None) -> None:
        async def run() -> None:
            from redis.exceptions import RedisError

            try:
                result = await call
            except (RedisError, OSError, TimeoutError) as exc:
                self._fail_closed(asyncio.get_running_loop(), exc)
            else:
                if then is not None:
                    then(result)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Finish pending reports and close the Redis connections (the Client's close)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()
