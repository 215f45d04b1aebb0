"""The Limiter's state machine, driven by explicit clock values (no wall-clock assertions)."""

from __future__ import annotations

import asyncio

import pytest

from aiodji.limiter import Limiter

pytestmark = pytest.mark.anyio

MS = 0.001


def admit_and_finish(limiter: Limiter, now: float) -> bool:
    """Admit at ``now``; the request's exit is immediate (only the gate is under test)."""
    ok = limiter.try_admit(now)
    if ok:
        limiter._admitted_now -= 1
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
    assert limiter.stats.paused_seconds == 2.0 and limiter.stats.pauses == 1


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
