"""Helpers shared by the load generators and probes: the call under test, timing, statistics."""

from __future__ import annotations

import asyncio
import contextvars
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import orjson

from aiodji.limiter import Limiter

T = TypeVar("T")

CONVERTER_PATH = "/openapi/v0.1/live-stream/converter"
Targets = Sequence[tuple[str, str]]  # (project_uuid, converter_id)


def emit(result: dict[str, Any]) -> None:
    """Print one JSON result line for the orchestrator (the last line of stdout)."""
    print(orjson.dumps(result).decode(), flush=True)


def run_loop(main: Callable[[], Awaitable[T]], use_uvloop: bool) -> T:
    """Run ``main()`` on a fresh asyncio or uvloop event loop."""
    factory = None
    if use_uvloop:
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())  # type: ignore[arg-type]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of already sorted values, nearest-rank."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Median and range of the repeats of one figure."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def largest_window_count(times: Sequence[float], window: float) -> int:
    """The most events inside any window of ``window`` seconds (times sorted)."""
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


# aiodji's admission time per request, read back by the TimedLimiter's own __aexit__: the latency
# figure of aiodji then covers the same span as raw aiohttp's (slot taken → reply read).
_ADMITTED: contextvars.ContextVar[float] = contextvars.ContextVar("bench_admitted")


class TimedLimiter(Limiter):
    """The Client's own Limiter, also recording admission times and in-slot latencies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latencies: list[float] = []
        self.admissions: list[float] = []
        self.record_admissions = False

    def _mark(self) -> None:
        _ADMITTED.set(time.perf_counter())

    def try_admit(self, now: float) -> bool:
        # admissions are recorded at the gate (its loop time), not when the admitted task next
        # runs: scheduling jitter after admission would bunch them and overstate a window
        admitted = super().try_admit(now)
        if admitted and self.record_admissions:
            self.admissions.append(now)
        return admitted

    # the Transport admits through these three (the RateGate protocol)
    def admit_now(self) -> float | None:
        sent_at = super().admit_now()
        if sent_at is not None:
            self._mark()
        return sent_at

    async def admit(self) -> float:
        sent_at = await super().admit()
        self._mark()
        return sent_at

    def release(self) -> None:
        self.latencies.append(time.perf_counter() - _ADMITTED.get())
        super().release()


def install_timed_limiter(dji: Any) -> TimedLimiter:
    """Swap a Client's limiter for a TimedLimiter with the same settings (benchmark-only hook)."""
    config = dji.config
    rl = config.rate_limit
    limiter = TimedLimiter(config.max_connections, rl.rate, rl.burst, adaptive=rl.adaptive)
    dji._transport._limiter = limiter
    return limiter
