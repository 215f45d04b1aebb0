"""Fault injection knobs, request statistics and the rate limiter of the simulator."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

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
    # random rate-limit noise (a gateway shedding load), independent of any token bucket:
    # "http" answers HTTP 429 + Retry-After: 0, "business" HTTP 200 with code 210429
    rate_limit_noise: float = 0.0
    rate_limit_noise_style: str = "http"
    paths: tuple[str, ...] | None = attrs.field(default=None, converter=_paths)
    methods: frozenset[str] | None = attrs.field(default=None, converter=_methods)
    seed: int = 0
    rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.rng = random.Random(self.seed)

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
    # which spelling of a disputed request field came, e.g. "command.device_command" or
    # "control.drone_sn": tells a user which name a real client sends
    request_names: Counter[str] = attrs.field(factory=Counter)

    def reset(self) -> None:
        self.request_names.clear()
        self.total = 0
        self.by_route.clear()
        self.by_status.clear()
        self.by_code.clear()
        self.rate_limited = 0
        self.faults.clear()

    def to_wire(self) -> dict[str, Any]:
        """The counters as JSON (``GET /_sim/stats``)."""
        return {
            "total": self.total,
            "by_route": {f"{m} {r}": n for (m, r), n in sorted(self.by_route.items())},
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_code": {str(k): v for k, v in sorted(self.by_code.items())},
            "rate_limited": self.rate_limited,
            "faults": dict(sorted(self.faults.items())),
            "request_names": dict(sorted(self.request_names.items())),
        }

    def count(self, method: str, route: str | None = None) -> int:
        """Requests seen for a method (and route template, if given)."""
        if route is not None:
            return self.by_route[(method, route)]
        return sum(v for (m, _), v in self.by_route.items() if m == method)


class RateLimiter:
    """Token bucket: ``rate`` tokens/s, at most ``burst``. ``rate=None`` disables it.

    ``schedule``: ``[(seconds, rate), ...]`` from the moment it is configured (e.g.
    ``[(0, 40), (6, 200)]``: 40 req/s, then 200 req/s from 6 s on); it replaces ``rate``.
    ``tenant_share``: the part of the refill another tenant of the organization consumes (0.5:
    this client gets half). ``clock``: seconds, monotonic (virtual-time tests pass their own).
    """

    __slots__ = (
        "_burst",
        "_last",
        "_rate",
        "_start",
        "_tokens",
        "clock",
        "schedule",
        "tenant_share",
    )

    def __init__(
        self,
        rate: float | None = None,
        burst: float | None = None,
        *,
        schedule: Sequence[tuple[float, float]] | None = None,
        tenant_share: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self._rate: float | None = None
        self._burst: float | None = None
        self.schedule: tuple[tuple[float, float], ...] = ()
        self.tenant_share = 0.0
        self._tokens = 0.0
        self._last = 0.0
        self._start = 0.0
        self.configure(rate, burst, schedule=schedule, tenant_share=tenant_share)

    def configure(
        self,
        rate: float | None,
        burst: float | None = None,
        *,
        schedule: Sequence[tuple[float, float]] | None = None,
        tenant_share: float | None = None,
    ) -> None:
        """Set the bucket (it restarts full; a schedule restarts at its first entry)."""
        steps = tuple(sorted((float(t), float(r)) for t, r in schedule or ()))
        if any(r <= 0 for _, r in steps) or (rate is not None and rate <= 0):
            raise ValueError("rate must be > 0 or None")
        if burst is not None and burst < 1:
            raise ValueError("burst must be >= 1")
        if tenant_share is not None:
            if not 0.0 <= tenant_share < 1.0:
                raise ValueError("tenant_share must be in [0, 1)")
            self.tenant_share = tenant_share
        self.schedule = steps
        self._rate = steps[0][1] if steps else rate
        self._burst = float(burst) if burst is not None else None
        self.restart()

    def restart(self) -> None:
        """Full again; a schedule starts over."""
        self._start = self._last = self.clock()
        if self.schedule:
            self._rate = self.schedule[0][1]
        self._tokens = self.burst

    @property
    def rate(self) -> float | None:
        """The bucket's rate now (the schedule's current step, if any)."""
        return self.rate_at(self.clock())

    @property
    def burst(self) -> float:
        if self._burst is not None:
            return self._burst
        return max(1.0, (self._rate or 0.0) / 10)

    def rate_at(self, now: float) -> float | None:
        if not self.schedule:
            return self._rate
        elapsed = now - self._start
        current = self.schedule[0][1]
        for at, rate in self.schedule:
            if at <= elapsed:
                current = rate
        return current

    def acquire(self, now: float | None = None) -> float:
        """Take one token. Returns 0 when admitted, else seconds until a token would be free."""
        now = self.clock() if now is None else now
        rate = self.rate_at(now)
        if rate is None:
            return 0.0
        self._rate = rate
        fill = rate * (1.0 - self.tenant_share)
        tokens = self._tokens + max(0.0, now - self._last) * fill
        burst = self.burst
        if tokens > burst:
            tokens = burst
        self._last = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / fill
