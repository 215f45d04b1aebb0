"""The GCRA rate gate in virtual time: late timers do not slow the rate, and no window of w
seconds ever holds more than burst + rate·w admissions (rate_limit= within ±2 %)."""

from __future__ import annotations

import bisect

import pytest

from aiodji.limiter import Gcra, default_burst


def run(rate: float, late: float, seconds: float = 10.0) -> list[float]:
    """Admission times with a backlog that never empties and a timer ``late`` seconds late."""
    gate, burst, now, times = Gcra(), default_burst(rate), 0.0, []
    while now < seconds:
        while gate.admit(now, rate, burst):
            times.append(now)
        now = max(now, gate.next_at(rate, burst)) + late
    return times


def most_in_window(times: list[float], w: float) -> int:
    return max(bisect.bisect_left(times, t + w - 1e-9) - i for i, t in enumerate(times))


@pytest.mark.parametrize("rate", [50.0, 200.0, 1000.0, 5000.0])
@pytest.mark.parametrize("late", [0.0, 0.0005, 0.001, 0.0015])
def test_late_timers_keep_the_rate_and_the_window_bound(rate: float, late: float) -> None:
    times = run(rate, late)
    steady = times[default_burst(rate) :]
    achieved = (len(steady) - 1) / (steady[-1] - steady[0])
    assert abs(achieved / rate - 1) <= 0.02, achieved
    assert most_in_window(times, 0.1) <= default_burst(rate) + rate * 0.1


def test_idle_time_is_not_banked() -> None:
    gate, rate, burst = Gcra(), 1000.0, default_burst(1000.0)
    assert gate.admit(0.0, rate, burst)
    sent = sum(gate.admit(60.0, rate, burst) for _ in range(1000))  # a minute idle, then a rush
    assert sent <= burst
