"""The fleet controller: a level-triggered reconcile loop (``dji.fleet.reconcile``), its pure
decisions, Prometheus metrics and health endpoints (``aiodji[controller]``: the metrics need
prometheus-client; the loop does not)."""

from __future__ import annotations

from .decide import ItemBackoff, RelistPlan, backoff_delay, jittered, plan_relist
from .loop import CycleObserver, CycleReport, Reconciler, ReconcileStats, reconcile

__all__ = [
    "CycleObserver",
    "CycleReport",
    "ItemBackoff",
    "ReconcileStats",
    "Reconciler",
    "RelistPlan",
    "backoff_delay",
    "jittered",
    "plan_relist",
    "reconcile",
]
