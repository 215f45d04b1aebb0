"""One Limiter per Client: concurrency cap + rate gate + a Client-wide pause on 429.

DESIGN rule 2: a request is admitted only when a connection slot and a rate token are free, so
a gather of 100k calls waits here (no timeout runs while queued), never in aiohttp's pool.

The rate gate is GCRA (a token bucket expressed as a "theoretical arrival time"): each admitted
request reserves the next slot ``1/rate`` after the previous one, ``burst`` of them may go at
once. FlightHub 2 publishes no rate limit (API.md decision 3), so when no rate is configured the
gate is adaptive: unthrottled until the first 429, then just under the rate the server accepted
in the last second, probing upwards slowly while no 429 arrives.
"""

from __future__ import annotations

import asyncio
import collections
from types import TracebackType

from attrs import define

__all__ = ["Limiter", "LimiterStats"]

# Adaptive tuning: after a 429, settle at BACKOFF_SHARE of the rate the server accepted since
# the last pause (at most WINDOW back); then grow by GROWTH per WINDOW while saturated. When that
# measurement was shorter than RELIABLE_SPAN (the very first burst), grow by PROBE_GROWTH every
# PROBE_INTERVAL until the next 429 gives a reliable one.
BACKOFF_SHARE = 0.95
GROWTH = 0.01
WINDOW = 1.0
RELIABLE_SPAN = 0.5
MIN_SPAN = 0.1
PROBE_GROWTH = 0.15
PROBE_INTERVAL = 0.25
MIN_RATE = 1.0
DEFAULT_PAUSE = 1.0


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
        self._tat = 0.0  # GCRA theoretical arrival time (loop clock)
        self._pause_until = 0.0
        self._successes: collections.deque[float] = collections.deque()
        self._last_change = 0.0
        self._measure_from = 0.0
        self._ignore_until = 0.0
        self._probing = False
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

    async def __aenter__(self) -> None:
        await self._sem.acquire()
        try:
            await self._wait_turn()
        except BaseException:
            self._sem.release()
            raise
        self.stats.admitted += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._sem.release()

    async def _wait_turn(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self._pause_until > now:
                await asyncio.sleep(self._pause_until - now)
                continue
            rate = self.rate
            if rate is None:
                if not self._measure_from:
                    self._measure_from = now  # adaptive measurements start at the first request
                return
            interval = 1.0 / rate
            tat = max(self._tat, now)
            allowed_at = tat - (self.burst - 1) * interval
            self._tat = tat + interval
            if allowed_at <= now:
                return
            self._saturated = True
            await asyncio.sleep(allowed_at - now)
            if self._pause_until <= loop.time():
                return
            # a 429 paused the Client while we waited for our slot: wait again

    def pause(self, seconds: float) -> None:
        """Hold every new request of the Client for ``seconds``."""
        now = asyncio.get_running_loop().time()
        until = now + max(0.0, seconds)
        if until > self._pause_until:
            self.stats.paused_seconds += until - max(now, self._pause_until)
            self._pause_until = until

    def on_rate_limited(self, retry_after: float | None) -> None:
        """A 429 / code 210429 arrived: pause the whole Client and, if adaptive, slow down."""
        self.stats.rate_limited += 1
        pause = DEFAULT_PAUSE if retry_after is None else retry_after
        now = asyncio.get_running_loop().time()
        if self.adaptive and now >= self._ignore_until:
            self._decrease(now)
            # the other 429s of this burst were sent before the decrease: they say nothing new
            self._ignore_until = now + pause + 0.05
        self.pause(pause)
        self._measure_from = max(self._measure_from, now + pause)

    def on_success(self) -> None:
        """A request was accepted (not rate limited)."""
        if not self.adaptive:
            return
        now = asyncio.get_running_loop().time()
        self._successes.append(now)
        self._prune(now)  # the deque holds one window at most
        if self.rate is None:
            return
        step = PROBE_INTERVAL if self._probing else WINDOW
        if now - self._last_change >= step:
            if self._saturated:  # only grow while demand pushes against the gate
                self.rate *= 1.0 + (PROBE_GROWTH if self._probing else GROWTH)
                self._saturated = False
            self._last_change = now

    def _decrease(self, now: float) -> None:
        start = max(now - WINDOW, self._measure_from)
        span = now - start
        self._prune(now)
        estimate = self._accepted_since(start) / max(span, MIN_SPAN)
        self.rate = max(MIN_RATE, estimate * BACKOFF_SHARE)
        # a short measurement (the first burst) is a floor, not the answer: probe upwards fast
        self._probing = span < RELIABLE_SPAN
        self._last_change = now

    def _prune(self, now: float) -> None:
        successes = self._successes
        while successes and successes[0] < now - WINDOW:
            successes.popleft()

    def _accepted_since(self, start: float) -> int:
        count = 0
        for t in reversed(self._successes):
            if t < start:
                break
            count += 1
        return count
