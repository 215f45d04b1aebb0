"""The Limiter's state machine, driven by explicit clock values (no wall-clock assertions)."""

from __future__ import annotations

import asyncio
import math

import pytest

from aiodji.limiter import (
    BACKOFF,
    CEILING_TTL,
    PROBE,
    SLOW_START,
    TARGET_SHARE,
    Limiter,
)

pytestmark = pytest.mark.anyio

MS = 0.001


def admit_and_finish(limiter: Limiter, now: float) -> bool:
    ok = limiter.try_admit(now)
    if ok:
        limiter._finish()
    return ok


def largest_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_gcra_allows_the_burst_then_one_per_interval() -> None:
    limiter = Limiter(100, rate=10, burst=3)
    assert [limiter.try_admit(0.0) for _ in range(4)] == [True, True, True, False]
    assert not limiter.try_admit(0.04)  # the next slot opens at 0.1 (minus the late credit)
    assert limiter.try_admit(0.1)
    assert not limiter.try_admit(0.1)


@pytest.mark.parametrize("rate", [50, 200, 1000])
async def test_configured_rate_is_kept_and_no_window_holds_more_than_allowed(rate: int) -> None:
    limiter = Limiter(10_000, rate=rate)
    times: list[float] = []
    step = 0.25 / rate  # callers knock four times per interval, with jitter from the loop
    now = 0.0
    while now < 5.0:
        if admit_and_finish(limiter, now):
            times.append(now)
        now += step * (1.5 if len(times) % 7 == 0 else 1.0)
    achieved = (len(times) - limiter.burst) / (times[-1] - times[0])
    assert achieved == pytest.approx(rate, rel=0.02)
    assert largest_window(times, 0.1) <= limiter.burst + rate * 0.1


async def test_a_stalled_caller_does_not_release_a_pile_at_once() -> None:
    limiter = Limiter(10_000, rate=100, burst=1)
    assert admit_and_finish(limiter, 0.0)
    # nobody asks for 0.5 s (a stalled loop), then everybody asks at once
    admitted = sum(admit_and_finish(limiter, 0.5) for _ in range(50))
    assert admitted == 1


async def test_pause_holds_every_request_until_it_ends() -> None:
    limiter = Limiter(10)
    limiter.pause(2.0, now=10.0)
    assert not admit_and_finish(limiter, 11.0)
    assert admit_and_finish(limiter, 12.0)
    assert limiter.stats.paused_seconds == 2.0


async def test_adaptive_starts_unthrottled_with_a_slow_start_window() -> None:
    limiter = Limiter(64)
    assert limiter.rate is None
    admitted = [limiter.try_admit(0.0) for _ in range(SLOW_START + 1)]
    assert admitted == [True] * SLOW_START + [False]
    limiter._finish()
    limiter.on_success(now=0.001)  # one success widens the window by one
    assert limiter.try_admit(0.001) and limiter.try_admit(0.001)
    assert not limiter.try_admit(0.001)


async def test_first_429_sets_the_rate_from_what_was_accepted_and_pauses() -> None:
    limiter = Limiter(64)
    for i in range(100):  # 100 accepted over one second
        assert admit_and_finish(limiter, i * 0.01)
        limiter.on_success(now=i * 0.01)
    limiter.on_rate_limited(1.0, now=1.0)
    assert limiter.rate == pytest.approx(100 * BACKOFF, rel=0.02)
    assert limiter.ceiling is None
    assert not limiter.try_admit(1.5)  # paused for Retry-After
    # the other 429s of the same burst change nothing
    rate = limiter.rate
    for _ in range(20):
        limiter.on_rate_limited(1.0, now=1.01)
    assert limiter.rate == rate and limiter.stats.rate_limited == 21


async def test_later_429_sets_a_ceiling_and_holds_under_it_then_probes_after_the_ttl() -> None:
    limiter = Limiter(64)
    limiter.on_rate_limited(1.0, now=0.0)  # nothing accepted yet: nothing learned
    assert limiter.rate is None and limiter.ceiling is None
    limiter.rate = 120.0
    limiter.on_rate_limited(1.0, now=5.0)  # nothing accepted since: the gate's rate is the ceiling
    assert limiter.ceiling == 120.0
    assert limiter.rate == pytest.approx(120.0 * TARGET_SHARE)
    for t in range(6, 60):
        limiter.on_success(now=float(t))
    assert limiter.rate == pytest.approx(120.0 * TARGET_SHARE)  # held, no creeping up
    limiter.on_success(now=5.0 + CEILING_TTL)
    assert limiter.ceiling == pytest.approx(120.0 * (1 + PROBE))


class TokenBucketServer:
    """A server like the simulator's: ``rate`` tokens/s, a bucket of ``rate/10``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = max(1.0, rate / 10)
        self.tokens = self.burst
        self.last = 0.0

    def answer(self, now: float) -> int:
        """0 when accepted, else Retry-After seconds."""
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, math.ceil((1 - self.tokens) / self.rate))


@pytest.mark.parametrize("server_rate", [50.0, 200.0])
async def test_adaptive_rate_finds_a_token_bucket_servers_limit(server_rate: float) -> None:
    """Simulated time, 1 ms steps, unlimited demand: after settling the Client runs at 90 %+
    of the server's limit, and fewer than 5 % of its requests are rate limited."""
    limiter = Limiter(64)
    server = TokenBucketServer(server_rate)
    accepted_late = 0
    attempts = 0
    limited = 0
    for step in range(30_000):
        now = step * MS
        while limiter.try_admit(now):
            limiter._finish()
            attempts += 1
            retry_after = server.answer(now)
            if retry_after:
                limited += 1
                limiter.on_rate_limited(retry_after, now=now)
            else:
                limiter.on_success(now=now)
                accepted_late += now >= 10.0
    assert accepted_late / 20.0 >= 0.9 * server_rate
    assert limited / attempts < 0.05
    assert limiter.ceiling is not None and limiter.rate is not None
    assert limiter.rate <= server_rate


async def test_concurrency_cap_queueing_and_cancellation() -> None:
    limiter = Limiter(3, rate=None, adaptive=False)
    peak = 0
    release = asyncio.Event()

    async def call() -> None:
        nonlocal peak
        async with limiter:
            peak = max(peak, limiter.in_flight)
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(10)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert limiter.in_flight == 3
    tasks[5].cancel()
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert peak == 3 and limiter.in_flight == 0
    assert limiter.stats.admitted == 9


async def test_paused_requests_wait_in_the_queue_and_go_after_the_pause() -> None:
    limiter = Limiter(8, rate=1000, burst=1)
    limiter.pause(0.02)
    order: list[int] = []

    async def call(i: int) -> None:
        async with limiter:
            order.append(i)

    tasks = [asyncio.create_task(call(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert limiter.queued == 5 and not order
    waiter = asyncio.create_task(call(99))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(*tasks)
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert order == [0, 1, 2, 3, 4]  # first come, first served
    assert limiter.in_flight == 0
