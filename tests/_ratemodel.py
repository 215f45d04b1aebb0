"""A virtual-time model of Clients against a rate-limited server (no I/O, no event loop).

The Client side is the real pure parts the Limiter and the Transport compose: ``RateController``
(the rate), ``Gcra`` with ``default_burst`` (the gate), ``retry.decide`` (per failure). The
server side is the simulator's own token bucket (``aiodji.sim.faults.RateLimiter``) on the
model's clock, plus seeded random noise. Time moves in ``STEP`` increments; each of a Client's
``workers`` sends one call after another (a bulk job): unlimited demand.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Sequence

from attrs import define, field

from aiodji.limiter import Gcra, default_burst
from aiodji.ratecontrol import RateController, RateSignal
from aiodji.retry import Failure, RetryPolicy, decide
from aiodji.sim.faults import RateLimiter

STEP = 0.001
POLICY = RetryPolicy()


@define
class ModelServer:
    """A bucket (``rate``/``burst``/``schedule``/``tenant_share``), noise, Retry-After style."""

    rate: float | None = None
    burst: float | None = None
    schedule: Sequence[tuple[float, float]] | None = None
    tenant_share: float = 0.0
    noise: float = 0.0  # probability of a 429 that is not the bucket's
    retry_after: str = "seconds"  # seconds (>= 1) / none / zero
    seed: int = 1
    now: float = 0.0
    bucket: RateLimiter = field(init=False)
    rng: random.Random = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.bucket = RateLimiter(
            self.rate,
            self.burst,
            schedule=self.schedule,
            tenant_share=self.tenant_share,
            clock=lambda: self.now,
        )
        self.rng = random.Random(self.seed)

    def answer(self) -> float | None:
        """None when accepted, else the Retry-After hint (None in the hint means absent)."""
        if self.noise and self.rng.random() < self.noise:
            return 0.0
        wait = self.bucket.acquire(self.now)
        if not wait:
            return None
        if self.retry_after == "none":
            return math.nan
        return float(max(1, math.ceil(wait)))


@define
class ModelClient:
    """One Client (one controller, one gate) with ``workers`` calling in a loop."""

    workers: int = 16
    rate: float | None = None  # rate_limit= configured
    latency: float = 0.02
    controller: RateController = field(init=False)
    gcra: Gcra = field(factory=Gcra)
    pause_until: float = 0.0
    in_flight: int = 0
    ready: deque[tuple[int, int]] = field(factory=deque)  # (retries, waits) of the call
    accepted: list[float] = field(factory=list)
    admitted: list[float] = field(factory=list)
    limited: list[float] = field(factory=list)
    rates: list[tuple[float, float | None]] = field(factory=list)
    rng: random.Random = field(factory=lambda: random.Random(7))

    def __attrs_post_init__(self) -> None:
        self.controller = RateController(self.workers, self.rate)
        self.ready.extend((0, 0) for _ in range(self.workers))

    def try_admit(self, now: float) -> bool:
        if self.pause_until > now or self.in_flight >= self.controller.window:
            return False
        rate = self.controller.rate(now)
        if rate is not None and not self.gcra.admit(now, rate, default_burst(rate)):
            return False
        self.in_flight += 1
        self.admitted.append(now)
        return True


def run(
    clients: Sequence[ModelClient],
    server: ModelServer,
    seconds: float = 60.0,
    on_step: Callable[[float], None] | None = None,
) -> None:
    """Drive every client against ``server`` for ``seconds`` of virtual time."""
    events: list[tuple[float, int, int, float, float | None, tuple[int, int]]] = []
    delayed: list[tuple[float, int, int, tuple[int, int]]] = []
    seq = itertools.count()
    for step in range(round(seconds / STEP)):
        now = step * STEP
        server.now = now
        if on_step is not None:
            on_step(now)
        while delayed and delayed[0][0] <= now:
            _, _, ci, call = heapq.heappop(delayed)
            clients[ci].ready.append(call)
        while events and events[0][0] <= now:
            _, _, ci, sent_at, hint, call = heapq.heappop(events)
            _reply(clients[ci], ci, now, sent_at, hint, call, delayed, seq)
        for ci, client in enumerate(clients):
            while client.ready and client.try_admit(now):
                call = client.ready.popleft()
                # the server judges the request on arrival, half a round trip later; the
                # model judges it at admission (same order, the clock is the same for all)
                answer = server.answer()
                done = now + client.latency
                heapq.heappush(events, (done, next(seq), ci, now, answer, call))
            if step % 100 == 0:
                client.rates.append((now, client.controller.rate(now)))


def _reply(
    client: ModelClient,
    ci: int,
    now: float,
    sent_at: float,
    hint: float | None,
    call: tuple[int, int],
    delayed: list[tuple[float, int, int, tuple[int, int]]],
    seq: itertools.count[int],
) -> None:
    client.in_flight -= 1
    if hint is None:
        client.controller.on_success(now)
        client.accepted.append(now)
        client.ready.append((0, 0))  # the worker's next call
        return
    client.limited.append(now)
    signal: RateSignal = client.controller.on_rate_limited(now, sent_at)
    retries, waits = call
    decision = decide(
        "PUT",
        Failure.STATUS,
        POLICY,
        retries=retries,
        waits=waits,
        budget_left=True,
        rate_limited=True,
        retry_after=None if math.isnan(hint) else hint,
        signal=signal,
        rng=client.rng,
    )
    if decision.pause:
        client.pause_until = max(client.pause_until, now + decision.pause)
    nxt = (retries, waits + 1) if decision.retry else (0, 0)  # given up: next call
    heapq.heappush(delayed, (now + decision.delay, next(seq), ci, nxt))


def rate_between(times: Sequence[float], start: float, end: float) -> float:
    return sum(1 for t in times if start <= t < end) / (end - start)


def share_between(
    limited: Sequence[float], admitted: Sequence[float], start: float, end: float
) -> float:
    n = sum(1 for t in admitted if start <= t < end)
    return sum(1 for t in limited if start <= t < end) / max(1, n)
