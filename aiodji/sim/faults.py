"""Fault injection knobs, request statistics and the rate limiter of the simulator."""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterable

import attrs

__all__ = [
    "APPLIED_FAULTS",
    "FAULT_KINDS",
    "NOT_APPLIED_FAULTS",
    "Faults",
    "RateLimiter",
    "SimStats",
]

# Faults answered without running the request ("not applied"), then those that run it first.
NOT_APPLIED_FAULTS = ("error", "reset_before", "html", "business_error")
APPLIED_FAULTS = ("reset_after", "reset_mid_body", "malformed", "slow")
FAULT_KINDS = (*NOT_APPLIED_FAULTS, *APPLIED_FAULTS)


def _methods(value: Iterable[str] | None) -> frozenset[str] | None:
    return frozenset(m.upper() for m in value) if value is not None else None


def _paths(value: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.define(slots=True, eq=False)
class Faults:
    """Mutable fault knobs; all off by default. Change them at any time (``sim.faults.x = ...``).

    Rates are probabilities per request in [0, 1]; at most one fault kind hits a request, drawn
    in the order of ``FAULT_KINDS``. ``paths`` (substrings of the request path) and ``methods``
    restrict which requests are affected; ``None`` means all.
    """

    latency: float = 0.0
    latency_jitter: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    reset_before_rate: float = 0.0
    reset_after_rate: float = 0.0
    reset_mid_body_rate: float = 0.0
    malformed_rate: float = 0.0
    html_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 1.0
    business_error_rate: float = 0.0
    business_codes: tuple[int, ...] = (210318, 210500, 210504)
    paths: tuple[str, ...] | None = attrs.field(default=None, converter=_paths)
    methods: frozenset[str] | None = attrs.field(default=None, converter=_methods)
    seed: int = 0
    rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def reset(self) -> None:
        """Turn every fault off (keeps the random generator)."""
        rng = self.rng
        for a in attrs.fields(Faults):
            if a.init and a.name != "seed":
                setattr(self, a.name, a.default)
        self.rng = rng

    @property
    def active(self) -> bool:
        return bool(
            self.latency
            or self.latency_jitter
            or self.error_rate
            or self.reset_before_rate
            or self.reset_after_rate
            or self.reset_mid_body_rate
            or self.malformed_rate
            or self.html_rate
            or self.slow_rate
            or self.business_error_rate
        )

    def applies_to(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.paths is None or any(p in path for p in self.paths)

    def delay(self) -> float:
        d = self.latency
        if self.latency_jitter:
            d += self.latency_jitter * self.rng.random()
        return d

    def draw(self) -> str | None:
        """Pick the fault kind for one request, or None."""
        rnd = self.rng.random
        for kind, rate in (
            ("error", self.error_rate),
            ("reset_before", self.reset_before_rate),
            ("html", self.html_rate),
            ("business_error", self.business_error_rate),
            ("reset_after", self.reset_after_rate),
            ("reset_mid_body", self.reset_mid_body_rate),
            ("malformed", self.malformed_rate),
            ("slow", self.slow_rate),
        ):
            if rate > 0 and (rate >= 1 or rnd() < rate):
                return kind
        return None


@attrs.define(slots=True, eq=False)
class SimStats:
    """Request counters. ``by_route`` keys are ``(method, route)`` with the route's template
    (e.g. ``("PUT", "/openapi/v0.1/live-stream/converter/{converter_id}")``; unmatched paths
    count as ``"<unmatched>"``). ``by_code`` counts envelope codes of the replies sent."""

    total: int = 0
    by_route: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    by_status: Counter[int] = attrs.field(factory=Counter)
    by_code: Counter[int] = attrs.field(factory=Counter)
    rate_limited: int = 0
    faults: Counter[str] = attrs.field(factory=Counter)

    def reset(self) -> None:
        self.total = 0
        self.by_route.clear()
        self.by_status.clear()
        self.by_code.clear()
        self.rate_limited = 0
        self.faults.clear()

    def count(self, method: str, route: str | None = None) -> int:
        """Requests seen for a method (and route template, if given)."""
        if route is not None:
            return self.by_route[(method, route)]
        return sum(v for (m, _), v in self.by_route.items() if m == method)


class RateLimiter:
    """Token bucket: ``rate`` tokens/s, at most ``burst``. ``rate=None`` disables it."""

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float | None = None, burst: float | None = None) -> None:
        self.rate: float | None = None
        self.burst: float = 1.0
        self._tokens = 0.0
        self._last = 0.0
        self.configure(rate, burst)

    def configure(self, rate: float | None, burst: float | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be > 0 or None")
        self.rate = rate
        if rate is None:
            return
        self.burst = float(burst) if burst is not None else max(1.0, rate / 10)
        if self.burst < 1:
            raise ValueError("burst must be >= 1")
        self._tokens = self.burst
        self._last = time.monotonic()

    def acquire(self) -> int:
        """Take one token. Returns 0 when admitted, else the Retry-After seconds (>= 1)."""
        rate = self.rate
        if rate is None:
            return 0
        now = time.monotonic()
        tokens = self._tokens + (now - self._last) * rate
        if tokens > self.burst:
            tokens = self.burst
        self._last = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0
        self._tokens = tokens
        return max(1, math.ceil((1.0 - tokens) / rate))
