"""Prometheus metrics (``aiodji[controller]``), built on :mod:`aiodji.hooks` and the loop's
:class:`~aiodji.controller.loop.CycleObserver`: one way to observe a call.

``metrics = Metrics(registry)``; ``Client(hooks=metrics.hooks)``; ``metrics.watch_limiter(
dji.limiter)``; ``dji.fleet.reconcile(..., observer=metrics)``. Labels are method, route
template, status, business code, error class and item state: never a token, id or stream key.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from aiodji.bulk import ItemResult
from aiodji.fleet.plan import Change
from aiodji.hooks import Hooks, RateLimitedEvent, RequestEvent, ResponseEvent, RetryEvent
from aiodji.limiter import Limiter

from .loop import CycleReport

__all__ = ["Metrics"]

_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


class Metrics:
    """The aiodji_* series, registered in ``registry`` (a new one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "aiodji_requests",
            "API calls finished, by method, route template, HTTP status and business code",
            ["method", "route", "status", "code"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "aiodji_request_duration_seconds",
            "Whole-call time including retries",
            ["method", "route"],
            registry=r,
        )
        self.retries = Counter(
            "aiodji_retries",
            "Attempts that failed and were retried",
            ["method", "route", "error"],
            registry=r,
        )
        self.rate_limited = Counter(
            "aiodji_rate_limited", "429 / rate-limit answers", ["method", "route"], registry=r
        )
        self.queue_wait = Histogram(
            "aiodji_limiter_queue_wait_seconds",
            "Time an attempt waited in the Client's limiter",
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.limiter_rate = Gauge(
            "aiodji_limiter_rate",
            "The limiter's current rate (requests/s; 0 = unlimited)",
            registry=r,
        )
        self.bulk_items = Counter(
            "aiodji_bulk_items", "Bulk items by final state", ["action", "state"], registry=r
        )
        self.cycles = Counter(
            "aiodji_reconcile_cycles", "Reconcile cycles by result", ["result"], registry=r
        )
        self.full_relists = Counter(
            "aiodji_reconcile_full_relists", "Cycles that listed everything again", registry=r
        )
        self.drift = Counter(
            "aiodji_reconcile_drift",
            "Changes the plans found (drift from the desired state)",
            registry=r,
        )
        self.applied = Counter(
            "aiodji_reconcile_changes_applied",
            "Changes made successfully (only what was really changed)",
            registry=r,
        )
        self.refused = Counter(
            "aiodji_reconcile_changes_refused",
            "Creates the server refused: a converter of that name exists (made elsewhere)",
            registry=r,
        )
        self.backing_off = Gauge(
            "aiodji_reconcile_items_backing_off", "Changes waiting out their backoff", registry=r
        )
        self.last_success = Gauge(
            "aiodji_reconcile_last_success_timestamp_seconds",
            "Unix time of the last cycle that succeeded",
            registry=r,
        )
        self.last_success_time: float | None = None  # for /readyz
        self.hooks = Hooks(
            on_request=self._on_request,
            on_response=self._on_response,
            on_retry=self._on_retry,
            on_rate_limited=self._on_rate_limited,
        )

    # -- call hooks ------------------------------------------------------------------------
    def _on_request(self, e: RequestEvent) -> None:
        self.queue_wait.observe(e.queue_wait)

    def _on_response(self, e: ResponseEvent) -> None:
        self.requests.labels(e.method, e.route, _text(e.status), _text(e.code)).inc()
        self.request_seconds.labels(e.method, e.route).observe(e.elapsed)

    def _on_retry(self, e: RetryEvent) -> None:
        self.retries.labels(e.method, e.route, e.error).inc()

    def _on_rate_limited(self, e: RateLimitedEvent) -> None:
        self.rate_limited.labels(e.method, e.route).inc()

    def watch_limiter(self, limiter: Limiter) -> None:
        """Read the limiter's rate at every scrape."""
        self.limiter_rate.set_function(lambda: limiter.rate or 0.0)

    # -- the loop (CycleObserver) ----------------------------------------------------------
    def item_done(self, result: ItemResult[Change, Any]) -> None:
        self.bulk_items.labels(str(result.item.kind), result.state.value).inc()

    def cycle_done(self, report: CycleReport) -> None:
        self.cycles.labels("ok" if report.ok else "failed").inc()
        self.full_relists.inc(report.full_relist)
        self.drift.inc(report.drift)
        self.applied.inc(report.applied)
        self.refused.inc(report.refused)
        self.backing_off.set(report.backing_off)
        if report.ok:
            self.last_success_time = time.time()
            self.last_success.set(self.last_success_time)
