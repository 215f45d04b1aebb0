"""One Limiter per Client: concurrency cap + rate gate + a bounded Client-wide pause.

docs/explanation/design.md#limiter: a request is admitted only when a connection slot and a rate
token are free, so
a gather of 100k calls waits here (no timeout runs while queued), never in aiohttp's pool.

Admission. A request first takes one of ``max_concurrency`` slots (a semaphore), then passes
the gate at once when nothing is queued and the gate allows it; otherwise it joins a FIFO queue
released by one timer. The rate gate is :class:`Gcra` (a token bucket as a "theoretical arrival
time"). The queue is judged at the moment of release, against the real clock, so a stalled
event loop never lets a pile of late sleepers out together: in any window of ``w`` seconds at
most ``burst + rate·w`` requests go.

The rate comes from :class:`aiodji.ratecontrol.RateController` (pure; it documents the model):
the configured ``rate_limit`` exactly, or an adaptive CUBIC-like rate fed by reply feedback.

The one interface the Transport uses, :class:`RateGate` (a Redis-shared limiter overrides the
same methods): per attempt ``admit_now()`` (admitted at once: the loop time; else None and
nothing taken) or else ``await admit()`` (waits its turn, then the loop time of admission),
``release()`` when the attempt is over; then ``on_success()`` or
``on_rate_limited(sent_at) -> RateSignal``, and ``pause(seconds)`` when
:func:`aiodji.retry.decide` says so; ``stats`` is a frozen snapshot. No coroutine is made when
``admit_now()`` admits (the usual case). ``async with limiter as sent_at`` is the same pair
for code that wants a block.
"""

from __future__ import annotations

import asyncio
import collections
import time
from types import TracebackType
from typing import Protocol

from attrs import frozen

from aiodji.ratecontrol import RateController, RateSignal

__all__ = ["Gcra", "Limiter", "LimiterStats", "RateGate", "default_burst"]

LATE_CREDIT = 0.25
_EPSILON = 1e-6  # loop timers may fire a hair early


@frozen
class LimiterStats:
    """A read-only snapshot of a Client's limiter (``dji.limiter_stats``).

    ``mode``: fixed / unlimited / discovery / adaptive. ``rate``: the gate's requests/s now
    (None: no rate gate); ``ceiling``: the rate at the last congestion event. ``rate_limited``:
    every 429 / 210429 reply; ``congestion_events`` of them cut the rate (``saturation_events``
    of those paused the Client), ``noise_events`` did not. ``queue_wait_*``: seconds requests
    waited for the gate or a pause (the fast path waits 0 and is counted too).
    """

    mode: str = "unlimited"
    rate: float | None = None
    ceiling: float | None = None
    max_concurrency: int = 0
    window: int = 0
    in_flight: int = 0
    queued: int = 0
    paused: bool = False
    pause_remaining: float = 0.0
    pauses: int = 0
    paused_seconds: float = 0.0
    admitted: int = 0
    rate_limited: int = 0
    congestion_events: int = 0
    saturation_events: int = 0
    noise_events: int = 0
    queue_wait_total: float = 0.0
    queue_wait_max: float = 0.0

    @property
    def queue_wait_mean(self) -> float:
        return self.queue_wait_total / self.admitted if self.admitted else 0.0


class RateGate(Protocol):
    """What the Transport needs from a limiter (``Limiter``, or a shared one)."""

    def admit_now(self) -> float | None: ...

    async def admit(self) -> float: ...

    def release(self) -> None: ...

    def on_success(self) -> None: ...

    def on_rate_limited(self, sent_at: float) -> RateSignal: ...

    def pause(self, seconds: float, now: float | None = None) -> None: ...

    @property
    def stats(self) -> LimiterStats: ...


def default_burst(rate: float | None) -> int:
    """20 ms worth: enough to absorb event-loop jitter, small enough not to trip a server
    whose own bucket is barely larger than its steady rate."""
    return max(1, round((rate or 0) / 50))


class Gcra:
    """GCRA: each admission moves ``tat`` on by ``1/rate``; one may go when
    ``tat - (burst-1)/rate`` is not in the future. Pure: ``now`` is passed in."""

    __slots__ = ("tat",)

    def __init__(self) -> None:
        self.tat = 0.0

    def admit(self, now: float, rate: float, burst: int) -> bool:
        interval = 1.0 / rate
        # a quarter interval of credit for a timer that fired late, so lateness does not
        # pile up into a slower rate; any window still holds at most burst + rate·w
        tat = max(self.tat, now - interval * LATE_CREDIT)
        if tat - (burst - 1) * interval > now + _EPSILON:
            return False
        self.tat = tat + interval
        return True

    def next_at(self, rate: float, burst: int) -> float:
        return self.tat - (burst - 1) / rate


class Limiter:
    """Admit requests: ``admit_now()`` or ``await admit()``, then ``release()``, around each
    HTTP attempt (:class:`RateGate`)."""

    def __init__(
        self,
        max_concurrency: int,
        rate: float | None = None,
        burst: int | None = None,
        *,
        adaptive: bool = True,
    ) -> None:
        self.max_concurrency = max_concurrency
        self._sem = asyncio.Semaphore(max_concurrency)
        self.configured_rate = rate
        self._burst = burst
        self.controller = RateController(max_concurrency, rate, adaptive=adaptive)
        self.adaptive = self.controller.mode.value in ("discovery", "adaptive")
        self._gcra = Gcra()
        self._pause_until = 0.0
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._admitted_now = 0  # admitted and not yet exited
        self._admitted = 0
        self._pauses = 0
        self._paused_seconds = 0.0
        self._wait_total = 0.0
        self._wait_max = 0.0

    # -- read-only state ---------------------------------------------------------------------
    @property
    def rate(self) -> float | None:
        """The gate's rate now (None: no rate gate)."""
        return self.controller.rate(_now())

    @property
    def ceiling(self) -> float | None:
        return self.controller.ceiling

    def burst_at(self, rate: float | None) -> int:
        if self._burst is not None:
            return max(1, self._burst)
        return default_burst(rate)

    @property
    def burst(self) -> int:
        return self.burst_at(self.rate)

    @property
    def in_flight(self) -> int:
        return self.max_concurrency - self._sem._value

    @property
    def queued(self) -> int:
        """Requests holding a slot but waiting for the rate gate or a pause."""
        return sum(not f.done() for f in self._queue)

    @property
    def stats(self) -> LimiterStats:
        now = _now()
        c = self.controller
        remaining = max(0.0, self._pause_until - now)
        return LimiterStats(
            mode=c.mode.value,
            rate=c.rate(now),
            ceiling=c.ceiling,
            max_concurrency=self.max_concurrency,
            window=c.window,
            in_flight=self.in_flight,
            queued=self.queued,
            paused=remaining > 0,
            pause_remaining=remaining,
            pauses=self._pauses,
            paused_seconds=self._paused_seconds,
            admitted=self._admitted,
            rate_limited=c.rate_limited,
            congestion_events=c.congestion_events,
            saturation_events=c.saturation_events,
            noise_events=c.noise_events,
            queue_wait_total=self._wait_total,
            queue_wait_max=self._wait_max,
        )

    # -- admission ---------------------------------------------------------------------------
    def admit_now(self) -> float | None:
        """Admission without a coroutine: when a slot is free, nothing is queued and the gate
        admits now, take the slot and return the loop time; else None (nothing taken:
        ``await admit()`` then waits its turn)."""
        sem = self._sem
        if sem._value <= 0 or self._queue or sem.locked():
            return None
        now = asyncio.get_running_loop().time()
        if not self.try_admit(now):
            return None
        sem._value -= 1  # what Semaphore.acquire() does when it need not wait
        return now

    async def admit(self) -> float:
        """Wait for a slot and the gate; the loop time of admission. Pair with :meth:`release`."""
        await self._sem.acquire()
        loop = asyncio.get_running_loop()
        asked = loop.time()
        if not self._queue and self.try_admit(asked):
            return asked
        waiter: asyncio.Future[None] = loop.create_future()
        self._queue.append(waiter)
        self._arm(loop)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._admitted_now -= 1  # admitted, then cancelled before it could go
            else:
                waiter.cancel()
            self._sem.release()
            self._release_ready()
            raise
        now = loop.time()
        waited = now - asked
        self._wait_total += waited
        if waited > self._wait_max:
            self._wait_max = waited
        return now

    def release(self) -> None:
        """The attempt admitted by :meth:`admit_now` / :meth:`admit` is over."""
        self._admitted_now -= 1
        self._sem.release()
        if self._queue and self._admitted_now < self.controller.window:
            self._release_ready()

    async def __aenter__(self) -> float:
        """``async with limiter as sent_at``: :meth:`admit` … :meth:`release` as a block."""
        return await self.admit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def try_admit(self, now: float) -> bool:
        """Admit one request at ``now`` if the pause, the window and the rate gate allow it."""
        if self._pause_until > now + _EPSILON or self._admitted_now >= self.controller.window:
            return False
        rate = self.controller.rate(now)
        if rate is not None and not self._gcra.admit(now, rate, self.burst_at(rate)):
            return False
        self._admitted_now += 1
        self._admitted += 1
        return True

    def _next_chance(self, now: float) -> float:
        """When the head of the queue may be admitted (a slot freeing up wakes it sooner)."""
        when = max(now, self._pause_until)
        rate = self.controller.rate(when)
        if rate is not None:
            when = max(when, self._gcra.next_at(rate, self.burst_at(rate)))
        return when

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None and self._queue:
            self._timer = loop.call_at(self._next_chance(loop.time()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._release_ready()

    def _release_ready(self) -> None:
        """Admit queued requests in order while the gate allows; re-arm the timer for the rest."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        queue = self._queue
        while queue:
            head = queue[0]
            if head.done():  # cancelled while queued
                queue.popleft()
                continue
            if not self.try_admit(now):
                break
            queue.popleft()
            head.set_result(None)
        if self._admitted_now < self.controller.window:
            self._arm(loop)  # else a request's exit will call again

    # -- feedback from the transport ---------------------------------------------------------
    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold every new request of the Client for ``seconds``."""
        if seconds <= 0:
            return
        now = _now() if now is None else now
        until = now + seconds
        if until > self._pause_until:
            self._pauses += 1
            self._paused_seconds += until - max(now, self._pause_until)
            self._pause_until = until

    def on_rate_limited(self, sent_at: float, now: float | None = None) -> RateSignal:
        """A 429 / code 210429 arrived for a request admitted at ``sent_at``."""
        return self.controller.on_rate_limited(_now() if now is None else now, sent_at)

    def on_success(self, now: float | None = None) -> None:
        """A request was accepted (not rate limited)."""
        if self.adaptive:
            self.controller.on_success(_now() if now is None else now)


def _now() -> float:
    """The loop clock; outside a loop (stats read from sync code) its usual source."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
