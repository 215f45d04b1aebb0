"""One Limiter per Client: concurrency cap + rate gate + a Client-wide pause on 429.

DESIGN rule 2: a request is admitted only when a connection slot and a rate token are free, so
a gather of 100k calls waits here (no timeout runs while queued), never in aiohttp's pool.

Admission. A request first takes one of ``max_concurrency`` slots (a semaphore), then passes
the gate at once when nothing is queued and the gate allows it; otherwise it joins a FIFO queue
released by one timer. The rate gate is GCRA (a token bucket as a "theoretical arrival time"):
each admission moves ``tat`` on by ``1/rate``; a request may go when ``tat - (burst-1)/rate`` is
not in the future. The queue is judged at the moment of release, against the real clock, so a
stalled event loop never lets a pile of late sleepers out together: in any window of ``w``
seconds at most ``burst + rate·w`` requests go.

Adaptive rate (no rate configured: FlightHub 2 publishes none, API.md decision 3). A token-
bucket server accepts everything until its bucket is empty, then answers 429 with Retry-After;
over a span of a few seconds it accepts its rate plus at most one bucket. Each 429 pauses the
whole Client for Retry-After (at least a second on FlightHub 2), which costs far more than
running a few percent under the limit, so the model aims at few 429s, not at the last percent:

1. Discovery: no rate. In-flight requests start at ``SLOW_START`` and grow by one per success
   (TCP slow start: doubling per round trip up to ``max_concurrency``), so the requests already
   in flight when the first 429 arrives (all doomed) are few.
2. First 429: rate = ``BACKOFF`` × what the server accepted since the start (over at least
   ``MIN_SPAN``: a first burst says little; with nothing accepted, only Retry-After paces and
   slow start begins again), then grow by ``GROWTH`` per ``STEP`` while demand
   saturates the gate, until the next 429.
3. Every later 429: ``ceiling`` = the lower of the gate's rate (known too fast) and the rate the
   server accepted since the last pause (at most ``ESTIMATE_SPAN`` back: its bucket inflates
   a short measurement); rate = ``TARGET_SHARE`` × ceiling, held there. Each 429 measures over
   a longer span than the last, so the ceiling tightens onto the server's limit.
4. Other 429s of the same burst (sent before the pause) are ignored. A ceiling older than
   ``CEILING_TTL`` without a 429 is raised by ``PROBE`` (the server's limit may have grown):
   one probe per TTL at most.

The decisions take ``now`` (the loop clock) as an argument so the state machine can be driven
by a fake clock in tests.
"""

from __future__ import annotations

import asyncio
import collections
from types import TracebackType

from attrs import define

__all__ = ["Limiter", "LimiterStats"]

SLOW_START = 4
BACKOFF = 0.9
MIN_SPAN = 0.1
GROWTH = 0.1
STEP = 1.0
ESTIMATE_SPAN = 5.0
TARGET_SHARE = 0.95
CEILING_TTL = 60.0
PROBE = 0.05
MIN_RATE = 1.0
DEFAULT_PAUSE = 1.0
LATE_CREDIT = 0.25
_EPSILON = 1e-6  # loop timers may fire a hair early


@define
class LimiterStats:
    admitted: int = 0
    rate_limited: int = 0
    paused_seconds: float = 0.0


class Limiter:
    """Admit requests: ``async with limiter: ...`` around each HTTP attempt."""

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
        self.rate = rate
        self._burst = burst
        self.adaptive = adaptive and rate is None
        self.ceiling: float | None = None
        self._tat = 0.0  # GCRA theoretical arrival time (loop clock)
        self._pause_until = 0.0
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._admitted_now = 0  # admitted and not yet exited
        self._window = SLOW_START if self.adaptive else max_concurrency
        self._successes: collections.deque[float] = collections.deque()
        self._measure_from = 0.0
        self._ignore_until = 0.0
        self._last_step = 0.0
        self._ceiling_at = 0.0
        self._saturated = False
        self.stats = LimiterStats()

    @property
    def burst(self) -> int:
        if self._burst is not None:
            return max(1, self._burst)
        # 20 ms worth: enough to absorb event-loop jitter, small enough not to trip a server
        # whose own bucket is barely larger than its steady rate
        return max(1, round((self.rate or 0) / 50))

    @property
    def in_flight(self) -> int:
        return self.max_concurrency - self._sem._value

    @property
    def queued(self) -> int:
        """Requests holding a slot but waiting for the rate gate or a pause."""
        return sum(not f.done() for f in self._queue)

    async def __aenter__(self) -> None:
        await self._sem.acquire()
        loop = asyncio.get_running_loop()
        if not self._queue and self.try_admit(loop.time()):
            return
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

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._admitted_now -= 1
        self._sem.release()
        if self._queue and self._admitted_now < self._window:
            self._release_ready()

    def _finish(self) -> None:
        """The gate's side of a request's exit, without the slot (for clock-driven tests)."""
        self._admitted_now -= 1

    # -- the gate ----------------------------------------------------------------------------
    def try_admit(self, now: float) -> bool:
        """Admit one request at ``now`` if the pause, the window and the rate gate allow it."""
        if self._pause_until > now + _EPSILON or self._admitted_now >= self._window:
            return False
        rate = self.rate
        if rate is None:
            if not self._measure_from:
                self._measure_from = now  # adaptive measurements start at the first request
        else:
            interval = 1.0 / rate
            # half an interval of credit for a timer that fired late, so lateness does not
            # pile up into a slower rate; any window still holds at most burst + rate·w
            tat = max(self._tat, now - interval * LATE_CREDIT)
            if tat - (self.burst - 1) * interval > now + _EPSILON:
                self._saturated = True  # demand pushes against the gate
                return False
            self._tat = tat + interval
        self._admitted_now += 1
        self.stats.admitted += 1
        return True

    def _next_chance(self, now: float) -> float:
        """When the head of the queue may be admitted (a slot freeing up wakes it sooner)."""
        when = max(now, self._pause_until)
        if self.rate is not None:
            when = max(when, self._tat - (self.burst - 1) / self.rate)
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
        if self._admitted_now < self._window:
            self._arm(loop)  # else a request's exit will call again

    # -- feedback from the transport ---------------------------------------------------------
    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold every new request of the Client for ``seconds``."""
        now = _now() if now is None else now
        until = now + max(0.0, seconds)
        if until > self._pause_until:
            self.stats.paused_seconds += until - max(now, self._pause_until)
            self._pause_until = until

    def on_rate_limited(self, retry_after: float | None, now: float | None = None) -> None:
        """A 429 / code 210429 arrived: pause the whole Client and, if adaptive, slow down."""
        now = _now() if now is None else now
        self.stats.rate_limited += 1
        pause = DEFAULT_PAUSE if retry_after is None else retry_after
        if self.adaptive and now >= self._ignore_until:
            self._decrease(now)
            # the other 429s of this burst were sent before the decrease: they say nothing new
            self._ignore_until = now + pause + 0.05
        self.pause(pause, now)
        self._measure_from = max(self._measure_from, now + pause)

    def on_success(self, now: float | None = None) -> None:
        """A request was accepted (not rate limited)."""
        if not self.adaptive:
            return
        if self._window < self.max_concurrency:
            self._window += 1  # slow start
        now = _now() if now is None else now
        successes = self._successes
        successes.append(now)
        while successes[0] < now - ESTIMATE_SPAN:
            successes.popleft()
        if self.rate is None or now - self._last_step < STEP:
            return
        self._last_step = now
        if self.ceiling is not None:
            if now - self._ceiling_at >= CEILING_TTL:
                self.ceiling *= 1.0 + PROBE  # no 429 for long: the limit may have grown
                self._ceiling_at = now
                self.rate = self.ceiling * TARGET_SHARE
        elif self._saturated:  # only grow while demand pushes against the gate
            self.rate *= 1.0 + GROWTH
        self._saturated = False

    def _decrease(self, now: float) -> None:
        start = max(now - ESTIMATE_SPAN, self._measure_from)
        accepted = sum(1 for t in self._successes if t >= start)
        estimate = accepted / max(now - start, MIN_SPAN)
        if self.rate is None:
            if not accepted:
                # nothing accepted yet (quota spent elsewhere?): no rate to learn from; the
                # server's Retry-After paces us, slow start begins again
                self._window = SLOW_START
                return
            self.rate = max(MIN_RATE, estimate * BACKOFF)
            self._window = self.max_concurrency  # the rate gate takes over
        else:
            self.ceiling = min(self.rate, estimate) if accepted else self.rate
            self._ceiling_at = now
            self.rate = max(MIN_RATE, self.ceiling * TARGET_SHARE)
        self._last_step = now
        self._saturated = False


def _now() -> float:
    return asyncio.get_running_loop().time()
