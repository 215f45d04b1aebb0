"""The rate controller and the per-failure decision, pure: explicit clock values, no I/O.

The scenario tests run 60 virtual seconds of Clients against the simulator's token bucket in
:mod:`tests._ratemodel` (a few hundred ms each, deterministic) and assert the targets.
"""

from __future__ import annotations

import random

import pytest
from _ratemodel import ModelClient, ModelServer, rate_between, run, share_between

from aiodji.ratecontrol import (
    BETA,
    MIN_RATE,
    SLOW_START,
    RateController,
    RateMode,
    RateSignal,
)
from aiodji.retry import MAX_CLIENT_PAUSE, MAX_RATE_LIMIT_WAITS, Failure, RetryPolicy, decide
from aiodji.sim.faults import RateLimiter

POLICY = RetryPolicy()


def fed(controller: RateController, start: float, end: float, rate: float) -> float:
    """Accepted replies at ``rate`` per second from ``start`` to ``end``; returns ``end``."""
    n = round((end - start) * rate)
    for i in range(n):
        controller.on_success(start + i / rate)
    return end


# -- the controller ---------------------------------------------------------------------------


def test_discovery_is_unthrottled_with_a_slow_start_window() -> None:
    c = RateController(64)
    assert c.mode is RateMode.DISCOVERY and c.rate(0.0) is None and c.window == SLOW_START
    c.on_success(0.001)
    assert c.window == SLOW_START + 1


def test_an_isolated_429_is_noise_and_changes_nothing() -> None:
    c = RateController(64)
    now = fed(c, 0.0, 1.0, 500)
    assert c.on_rate_limited(now, now - 0.01) is RateSignal.NOISE
    assert c.on_rate_limited(now, now - 0.01) is RateSignal.NOISE
    assert c.mode is RateMode.DISCOVERY and c.congestion_events == 0 and c.noise_events == 2


def test_a_burst_of_429s_is_one_congestion_event_from_the_accepted_rate() -> None:
    c = RateController(64)
    now = fed(c, 0.0, 1.0, 100)
    signals = [c.on_rate_limited(now, now - 0.01) for _ in range(30)]
    assert signals.count(RateSignal.NOISE) == 29  # 2 below the threshold, then the same burst
    assert RateSignal.SATURATION in signals or RateSignal.CONGESTION in signals
    assert c.mode is RateMode.ADAPTIVE and c.congestion_events == 1
    assert c.ceiling == pytest.approx(100, rel=0.05)
    assert c.rate(now) == pytest.approx(BETA * c.ceiling)


def test_the_rate_recovers_past_the_ceiling_in_seconds_without_new_429s() -> None:
    c = RateController(64)
    now = fed(c, 0.0, 1.0, 40)
    for _ in range(10):
        c.on_rate_limited(now, now)
    ceiling = c.ceiling
    assert ceiling is not None
    rate = c.rate
    # keep sending at the gate's rate (the cap follows what is sent)
    t = now
    while t < now + 8.0:
        r = rate(t) or 0.0
        c.on_success(t)
        t += 1.0 / r
    assert rate(now + 1.0) == pytest.approx(ceiling, rel=0.25)  # flat near the ceiling
    assert (rate(t) or 0) >= 4 * ceiling  # then convex growth: 4x within 8 s


def test_an_idle_client_does_not_bank_a_huge_rate() -> None:
    c = RateController(64)
    now = fed(c, 0.0, 1.0, 100)
    for _ in range(10):
        c.on_rate_limited(now, now)
    assert c.ceiling is not None
    assert (c.rate(now + 60.0) or 0) <= c.ceiling  # nothing sent for a minute: capped


def test_the_floor_holds_and_429s_sent_before_the_event_are_ignored() -> None:
    c = RateController(64)
    c.on_success(0.0)
    for i in range(10):
        c.on_rate_limited(0.05 + i * 0.001, 0.05)
    events = c.congestion_events
    for _ in range(50):  # the rest of that burst: sent before the event
        assert c.on_rate_limited(0.1, 0.04) is RateSignal.NOISE
    assert c.congestion_events == events
    assert (c.rate(0.1) or 0) >= MIN_RATE


def test_nothing_accepted_yet_restarts_slow_start_without_a_rate() -> None:
    c = RateController(64)
    for _ in range(5):
        c.on_rate_limited(0.1, 0.1)
    assert c.mode is RateMode.DISCOVERY and c.rate(0.2) is None and c.window == SLOW_START


def test_a_configured_rate_never_moves() -> None:
    c = RateController(64, 50.0)
    for i in range(100):
        c.on_rate_limited(i * 0.01, i * 0.01)
    assert c.mode is RateMode.FIXED and c.rate(5.0) == 50.0 and c.rate_limited == 100


# -- the per-failure decision -----------------------------------------------------------------


def rl(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"retries": 0, "waits": 0, "budget_left": True}
    base.update(kw)
    return base


def test_retry_after_is_honoured_for_that_request_and_only_saturation_pauses() -> None:
    d = decide(
        "POST",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        retry_after=3.0,
        signal=RateSignal.NOISE,
        **rl(),  # type: ignore[arg-type]
    )
    assert d.retry and d.delay == 3.0 and d.pause == 0.0 and not d.spends
    d = decide(
        "POST",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        retry_after=3.0,
        signal=RateSignal.SATURATION,
        **rl(),  # type: ignore[arg-type]
    )
    assert d.retry and d.delay == 3.0 and d.pause == MAX_CLIENT_PAUSE  # bounded
    d = decide(
        "GET",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        retry_after=0.2,
        signal=RateSignal.SATURATION,
        **rl(),  # type: ignore[arg-type]
    )
    assert d.pause == 0.2  # never longer than the server asked


def test_noise_without_retry_after_is_retried_soon() -> None:
    d = decide(
        "PUT",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        signal=RateSignal.NOISE,
        rng=random.Random(1),
        **rl(),  # type: ignore[arg-type]
    )
    assert d.retry and 0 < d.delay <= 0.05
    d = decide(
        "PUT",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        signal=RateSignal.CONGESTION,
        rng=random.Random(1),
        **rl(),  # type: ignore[arg-type]
    )
    assert d.retry and d.delay > 0.3  # congested: the policy's backoff


def test_rate_limit_waits_and_caps_give_up() -> None:
    too_long = decide(
        "GET",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        retry_after=3600.0,
        **rl(),  # type: ignore[arg-type]
    )
    spent = decide(
        "GET",
        Failure.STATUS,
        POLICY,
        rate_limited=True,
        retry_after=0.0,
        **rl(waits=MAX_RATE_LIMIT_WAITS),  # type: ignore[arg-type]
    )
    none = decide(
        "GET",
        Failure.STATUS,
        RetryPolicy(max_retries=0),
        rate_limited=True,
        retry_after=0.0,
        **rl(),  # type: ignore[arg-type]
    )
    assert not too_long.retry and not spent.retry and not none.retry


def test_other_failures_follow_the_rules_and_the_budget() -> None:
    ok = decide("GET", Failure.STATUS, POLICY, status=503, **rl())  # type: ignore[arg-type]
    assert ok.retry and ok.spends and ok.pause == 0.0
    assert not decide("POST", Failure.STATUS, POLICY, status=503, **rl()).retry  # type: ignore[arg-type]
    assert decide("POST", Failure.CONNECT, POLICY, **rl()).retry  # type: ignore[arg-type]
    assert not decide("GET", Failure.IO, POLICY, **rl(budget_left=False)).retry  # type: ignore[arg-type]
    assert not decide("GET", Failure.IO, POLICY, **rl(retries=POLICY.max_retries)).retry  # type: ignore[arg-type]
    assert not decide("GET", Failure.IO, POLICY, retryable=False, **rl()).retry  # type: ignore[arg-type]


# -- the simulator's bucket on a fake clock ---------------------------------------------------


def test_bucket_schedule_and_tenant_share() -> None:
    now = 0.0
    bucket = RateLimiter(schedule=[(0, 10), (5, 100)], burst=1, clock=lambda: now)
    assert bucket.rate_at(4.9) == 10 and bucket.rate_at(5.0) == 100
    accepted = sum(not bucket.acquire(i * 0.001) for i in range(4000))  # 0..4 s at 10 req/s
    assert 38 <= accepted <= 42
    shared = RateLimiter(100, 1, tenant_share=0.5, clock=lambda: now)
    accepted = sum(not shared.acquire(i * 0.001) for i in range(2000))
    assert 95 <= accepted <= 105  # half of 100 req/s for 2 s
    assert shared.acquire(2.0) > 0


# -- virtual-time scenarios ------------------------------------------------


def test_noise_without_a_limit_keeps_most_of_the_throughput() -> None:
    free = ModelClient()
    run([free], ModelServer())
    for retry_after in ("zero", "none"):  # HTTP 429 Retry-After: 0, and 200 + 210429
        noisy = ModelClient()
        run([noisy], ModelServer(noise=0.03, retry_after=retry_after))
        ratio = rate_between(noisy.accepted, 5, 60) / rate_between(free.accepted, 5, 60)
        assert ratio >= 0.7
        assert noisy.controller.noise_events > 20 * noisy.controller.congestion_events


@pytest.mark.parametrize("retry_after", ["seconds", "none"])
def test_a_shared_bucket_is_used_close_to_its_limit_with_few_429s(retry_after: str) -> None:
    client = ModelClient()
    run([client], ModelServer(rate=100, retry_after=retry_after))
    assert rate_between(client.accepted, 5, 60) >= 90
    assert share_between(client.limited, client.admitted, 0, 60) <= 0.03


def test_another_tenant_taking_half_the_bucket() -> None:
    client = ModelClient()
    run([client], ModelServer(rate=200, tenant_share=0.5))
    assert rate_between(client.accepted, 5, 60) >= 90
    assert share_between(client.limited, client.admitted, 0, 60) <= 0.03


def test_a_rising_limit_is_claimed_within_10_seconds() -> None:
    client = ModelClient()
    run([client], ModelServer(schedule=[(0, 40), (30, 200)]))
    assert rate_between(client.accepted, 40, 60) >= 180


def test_a_falling_limit_stops_the_429s_within_3_seconds() -> None:
    client = ModelClient()
    run([client], ModelServer(schedule=[(0, 200), (30, 40)]))
    assert share_between(client.limited, client.admitted, 33, 60) <= 0.05
    assert rate_between(client.accepted, 33, 60) >= 0.8 * 40


def test_two_clients_share_one_bucket_fairly_enough() -> None:
    a, b = ModelClient(), ModelClient(rng=random.Random(3))
    run([a, b], ModelServer(rate=100))
    ra, rb = rate_between(a.accepted, 5, 60), rate_between(b.accepted, 5, 60)
    assert ra + rb >= 85
    assert min(ra, rb) >= 35


def test_progress_is_guaranteed_after_the_budget_was_nearly_gone() -> None:
    client = ModelClient()
    run([client], ModelServer(schedule=[(0, 100), (10, 2), (20, 100)]))
    assert rate_between(client.accepted, 10, 20) >= 1.0  # never starved
    assert rate_between(client.accepted, 25, 60) >= 90  # back within 5 s


def test_a_configured_rate_is_exact_and_ignores_429_noise() -> None:
    for rate in (50.0, 200.0):
        client = ModelClient(workers=64, rate=rate, latency=0.005)
        run([client], ModelServer(noise=0.03), seconds=10)
        admitted = client.admitted
        achieved = (len(admitted) - 1) / (admitted[-1] - admitted[0])
        assert achieved == pytest.approx(rate, rel=0.02)
        assert client.controller.rate(10.0) == rate
