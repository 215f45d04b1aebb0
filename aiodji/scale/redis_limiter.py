"""A Limiter whose rate gate and pause live in Redis, shared by every process of an organization.

Admission = the per-process concurrency slot (the inherited :class:`~aiodji.limiter.Limiter`,
run without a rate of its own) + one slot of the shared budget: ``gcra.lua`` moves the shared
theoretical arrival time on and answers when each reserved slot may go.

**Batches (a lease of the budget).** A busy process reserves one slot per request already
waiting, up to :data:`~aiodji.scale.budget.MAX_BATCH`, in ONE round trip (one reservation in
flight per Limiter; requests arriving meanwhile wait for it); the slots are spaced by the
shared rate as single reservations would be, so the organization's total is unchanged. Slots
are never reserved more than ``HORIZON`` ahead (a cut of the rate reaches every process within
it), and slots left unused when the process goes idle are given back.

**The rate** is :mod:`aiodji.ratecontrol`'s model, run once per budget, not once per process.
The budget counts what the server saw without reports: every reserved slot is a request sent,
every 429 runs ``event.lua`` (so accepted = reserved - limited, exact and on time), and
``event.lua`` judges noise or congestion on those counters (same window, thresholds and "replies
to requests reserved before the last event are the same burst" rule as in-process). Before the
first event the budget runs a shared slow start (twice what was sent over the window, plus
``HEADROOM``). A congestion event sets the shared ceiling from what the server accepted and
restarts the CUBIC curve (constants passed from ``ratecontrol``, one source), and keeps the
ceiling as the organization's **learned rate** (``LEARNED_TTL``): a new run or worker starts
from it. Each process still reads its own 429s with a local :class:`RateController` for the
retry of that request (its delay, and a Client-wide pause, :func:`aiodji.retry.decide`); a
pause runs ``pause.lua``: every process holds.

**Redis unreachable → fail closed**: every Limiter of this budget in the process paces on ONE
local gate at the process's share of the last shared rate, never above the last ceiling
(:func:`~aiodji.scale.budget.fallback_rate`: that rate over the live processes, counted from
their heartbeats, a sorted set each process refreshes on its reservations at most every
``HEARTBEAT_EVERY`` seconds), so N processes together stay within the budget; a warning is
logged once, Redis is tried again every ``RETRY_REDIS`` seconds and the local rate is lifted
when it answers.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import os
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any

import attrs

from aiodji import ratecontrol
from aiodji.limiter import Gcra, Limiter, LimiterStats, default_burst
from aiodji.ratecontrol import RateController, RateSignal

from .budget import LEASE_SECONDS, Lease, batch_size, fallback_rate
from .budget_key import budget_key

__all__ = ["RedisLimiter", "RedisRateLimit"]

log = logging.getLogger("aiodji.scale")

RETRY_REDIS = 1.0  # seconds between attempts to reach Redis again
REDIS_TIMEOUT = 0.5  # a reservation that takes longer counts as Redis being away
HORIZON = LEASE_SECONDS  # slots are never reserved further ahead than this
HEARTBEAT_EVERY = 1.0  # seconds between a process's heartbeats (on its reservations)
HEARTBEAT_TTL = 10.0  # a process not seen for this long is no longer counted
LEARNED_TTL = 7 * 24 * 3600.0  # seconds the learned rate outlives the budget's last use
_CURVE = (ratecontrol.CUBIC_C, ratecontrol.MIN_RATE, ratecontrol.HEADROOM)
_RING = (round(ratecontrol.SLOT * 1e6), ratecontrol.SLOTS)
_JUDGE = (ratecontrol.MIN_LIMITED, ratecontrol.CONGESTION_SHARE, ratecontrol.SATURATION_SHARE)
# event.lua's verdicts: the reply was of an earlier burst (0), noise (1), an event (2, 3)
_VERDICTS = {0: "ignored", 1: "noise", 2: "congestion", 3: "saturation"}

# the server time (µs) of this task's last reservation: a 429 reports it (the same-burst rule)
_reserved_at: contextvars.ContextVar[int] = contextvars.ContextVar("aiodji_reserved_at", default=0)


@attrs.define
class _ProcessShare:
    """What every Limiter of one budget in this process shares: the last shared rate (at most
    the budget's ceiling) and process count seen, the heartbeat's clock, and the one local
    gate used while Redis is away (so a worker running several shards, each with its own
    Client, still takes one share)."""

    member: str
    rate: float | None = None
    processes: int = 1
    beat_at: float = -1e18  # loop time of the last heartbeat
    gate: Gcra = attrs.Factory(Gcra)


_SHARES: dict[str, _ProcessShare] = {}


def _share(key: str) -> _ProcessShare:
    # the pid in the member: a forked child is its own process with its own heartbeat
    member = f"{os.getpid()}-{_NONCE}"
    share = _SHARES.get(key)
    if share is None or share.member != member:
        share = _SHARES[key] = _ProcessShare(member)
    return share


_NONCE = uuid.uuid4().hex[:12]


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
        self._keys = [key, f"{key}:learned", f"{key}:processes"]
        self.fixed_rate = rate
        self.shared_rate = rate  # the budget's rate as last seen in Redis
        self.judge = RateController(max_concurrency, rate)  # this process's 429s: noise?
        self._url = url
        self._redis: Any = None
        self._scripts: dict[str, Any] = {}
        self._down_until = 0.0  # while Redis is away: the loop time of the next try
        self._warned = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lease = Lease()
        # requests waiting for a slot of the shared budget, in order: each is woken once, with
        # its slot (loop time, reservation's server µs), by the one reservation in flight
        self._waiters: collections.deque[asyncio.Future[tuple[float, int]]] = collections.deque()
        self._refill: asyncio.Task[None] | None = None
        self.redis_calls = 0
        self.verdicts = dict.fromkeys(_VERDICTS.values(), 0)  # event.lua's, for this process

    @property
    def redis_available(self) -> bool:
        return self._down_until == 0.0

    @property
    def processes(self) -> int:
        """Live processes on this budget, from the heartbeats (the last count seen)."""
        return _share(self.key).processes

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

    # -- admission (RateGate) ----------------------------------------------------------------
    def admit_now(self) -> float | None:
        """A slot of the last reservation that is due now, without a coroutine; while Redis is
        away, the local gate's fast path. None: ``await admit()``."""
        if self._down_until:
            return super().admit_now() if self._in_fallback() else None
        slots = self._lease.slots
        if not slots:
            return None
        now = asyncio.get_running_loop().time()
        if slots[0] > now + 1e-4 or self._waiters:
            return None  # not due yet, or requests are already waiting for these slots
        at = self._lease.take(now)
        if at is None or super().admit_now() is None:
            if at is not None:
                slots.appendleft(at)
            return None
        _reserved_at.set(self._lease.reserved_us)
        return now

    async def admit(self) -> float:
        """The per-process slot, then a slot of the shared budget; the loop time of admission."""
        await super().admit()  # the per-process slot (and the local gate while failed)
        loop = asyncio.get_running_loop()
        try:
            at = await self._shared_slot(loop)
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        except BaseException:
            super().release()
            raise
        return loop.time()

    def release(self) -> None:
        super().release()
        if not self._waiters and self._refill is None and self.redis_available:
            unused = self._lease.unused(asyncio.get_running_loop().time())
            if unused:
                self._give_back(unused)

    def _in_fallback(self) -> bool:
        return bool(self._down_until) and asyncio.get_running_loop().time() < self._down_until

    async def _shared_slot(self, loop: asyncio.AbstractEventLoop) -> float:
        """The loop time this request may go at: a slot left from the last reservation, else
        the next slot of a batch reserved for every request waiting."""
        if self._in_fallback():
            return loop.time()  # the local gate paced this request already
        if not self._waiters:
            at = self._lease.take(loop.time())
            if at is not None:
                _reserved_at.set(self._lease.reserved_us)
                return at
        waiter: asyncio.Future[tuple[float, int]] = loop.create_future()
        self._waiters.append(waiter)
        if self._refill is None:
            self._refill = loop.create_task(self._reserve(loop))
        try:
            at, reserved_us = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._lease.slots.appendleft(waiter.result()[0])  # not used: the next one's
            waiter.cancel()
            raise
        _reserved_at.set(reserved_us)
        return at

    async def _reserve(self, loop: asyncio.AbstractEventLoop) -> None:
        """Round trips while requests wait: reserve a batch for them (or learn when one will
        fit, and wait for it), then wake each with its slot."""
        waiters = self._waiters
        try:
            while True:
                while waiters and waiters[0].done():
                    waiters.popleft()  # cancelled while waiting
                if not waiters:
                    return
                wanted = sum(not w.done() for w in waiters)
                reply = await self._call_gcra(loop, batch_size(wanted, self.shared_rate or 0))
                if reply is None:  # Redis is away: these go now, the local gate paces the next
                    self._hand_out(loop.time(), len(waiters))
                    return
                n, first_us, floor_us, interval_us, now_us = (int(v) for v in reply[:5])
                if not n:
                    await asyncio.sleep(max(first_us, 1) / 1e6)  # queued a horizon ahead
                    continue
                lease = self._lease
                lease.fill(
                    loop.time(), first_us / 1e6, floor_us / 1e6, interval_us / 1e6, n, now_us
                )
                while waiters and lease.slots:
                    waiter = waiters.popleft()
                    if not waiter.done():
                        waiter.set_result((lease.slots.popleft(), now_us))
        finally:
            self._refill = None

    def _hand_out(self, at: float, n: int) -> None:
        for _ in range(n):
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result((at, 0))

    async def _call_gcra(
        self, loop: asyncio.AbstractEventLoop, wanted: int, give: tuple[int, int, int] = (0, 0, 0)
    ) -> list[Any] | None:
        """Run gcra.lua (with a heartbeat when one is due); None when Redis is away."""
        from redis.exceptions import RedisError

        share = _share(self.key)
        now = loop.time()
        beat = now - share.beat_at >= HEARTBEAT_EVERY
        burst = self._burst or default_burst(self.shared_rate)
        args: list[float | str] = [self.fixed_rate or 0, burst, *_CURVE, *_RING, ratecontrol.BETA]
        args.append(wanted)
        args += [round(HORIZON * 1e6), *give, share.member if beat else ""]
        args += [round(HEARTBEAT_TTL * 1e6), round(LEARNED_TTL * 1000)]
        try:
            reply: list[Any] = await self._script("gcra")(keys=self._keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            self._fail_closed(loop, exc)
            return None
        if self._down_until:
            self._recovered()
        self.shared_rate = int(reply[5]) / 1000
        # the fallback's base: the rate, but never a probe above the last cut's ceiling
        ceiling = int(reply[8]) / 1000
        share.rate = min(self.shared_rate, ceiling) if ceiling else self.shared_rate
        if beat:
            share.beat_at = now
            share.processes = max(1, int(reply[6]))
        self._lease.end_us = int(reply[7])
        return reply

    def _give_back(self, unused: int) -> None:
        """Hand the budget the slots this Limiter reserved and will not use (idle now)."""
        loop = asyncio.get_running_loop()
        lease = self._lease
        give = (unused, lease.end_us, round(lease.interval * 1e6))
        lease.slots.clear()

        async def run() -> None:
            await self._call_gcra(loop, 0, give)

        self._background(run())

    def _fail_closed(self, loop: asyncio.AbstractEventLoop, exc: BaseException) -> None:
        self._down_until = loop.time() + RETRY_REDIS
        self._lease.slots.clear()
        if self.controller.fixed_rate is None:
            share = _share(self.key)
            rate = fallback_rate(share.rate or self.fixed_rate, share.processes)
            self.controller = RateController(self.max_concurrency, rate)
            self._gcra = share.gate  # one local gate for every Limiter of the budget here
        if not self._warned:
            self._warned = True
            log.warning(
                "Redis budget %s unreachable (%s): pacing locally at %.1f req/s (a share of"
                " the last shared rate over %d processes) until it is back",
                self.key,
                type(exc).__name__,
                self.controller.fixed_rate,
                _share(self.key).processes,
            )

    def _recovered(self) -> None:
        self._down_until = 0.0
        self.controller = RateController(self.max_concurrency, None, adaptive=False)
        self._gcra = Gcra()
        self._warned = False
        log.warning("Redis budget %s reachable again: shared pacing resumed", self.key)

    # -- feedback from the transport ---------------------------------------------------------
    def on_success(self, now: float | None = None) -> None:
        self.judge.on_success(asyncio.get_running_loop().time() if now is None else now)

    def on_rate_limited(self, sent_at: float, now: float | None = None) -> RateSignal:
        """Report the 429 to the shared judgement (the budget's rate); the local reading only
        shapes this request's retry."""
        now = asyncio.get_running_loop().time() if now is None else now
        signal = self.judge.on_rate_limited(now, sent_at)
        if not self.fixed_rate and self.redis_available:
            args = [_reserved_at.get(), ratecontrol.BETA, *_CURVE, *_RING, *_JUDGE]
            args.append(round(LEARNED_TTL * 1000))
            call = self._script("event")(keys=self._keys[:2], args=args)
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
        """Give back unused slots, finish pending reports and close the Redis connections."""
        if self.redis_available and self._redis is not None:
            unused = self._lease.unused(asyncio.get_running_loop().time())
            if unused:
                self._give_back(unused)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()
