"""The controller's decisions, pure (no I/O, no clock of their own): what to relist, when an
item that keeps failing may be tried again, how long to sleep. Tested with a fake clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from aiodji.codes import DUPLICATE_NAME_CODE
from aiodji.errors import APIBusinessError

__all__ = [
    "ItemBackoff",
    "RelistPlan",
    "backoff_delay",
    "item_outcome",
    "jittered",
    "plan_relist",
    "projects_with_device_changes",
]


def jittered(interval: float, jitter: float, u: float) -> float:
    """``interval`` stretched by up to ``jitter`` (a fraction) with ``u`` in [0, 1): many
    controllers started together drift apart instead of polling the gateway in step."""
    return interval * (1.0 + jitter * u)


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Seconds before an item that failed ``failures`` times in a row is tried again:
    ``base × 2^(failures-1)``, capped (controller-runtime's per-item rate limiter)."""
    if failures <= 0:
        return 0.0
    return min(cap, base * 2.0 ** min(failures - 1, 62))


@attrs.define
class ItemBackoff:
    """Per-item failure streaks: a failing item waits its own backoff; others go on."""

    base: float = 1.0
    cap: float = 300.0
    failures: dict[str, int] = attrs.field(factory=dict)
    not_before: dict[str, float] = attrs.field(factory=dict)

    def ready(self, key: str, now: float) -> bool:
        return now >= self.not_before.get(key, float("-inf"))

    def failed(self, key: str, now: float) -> float:
        """Record one more failure; returns the delay until its next try."""
        n = self.failures.get(key, 0) + 1
        self.failures[key] = n
        delay = backoff_delay(n, self.base, self.cap)
        self.not_before[key] = now + delay
        return delay

    def succeeded(self, key: str) -> None:
        self.failures.pop(key, None)
        self.not_before.pop(key, None)

    def forget_except(self, keys: Iterable[str]) -> None:
        """Drop streaks of items no plan asks for any more (the state holds, or the desired
        file changed): they must not wait for an old failure."""
        keep = set(keys)
        for key in [k for k in self.failures if k not in keep]:
            self.succeeded(key)

    def backing_off(self, now: float) -> dict[str, float]:
        """Items waiting, with the seconds left (for the report)."""
        return {k: t - now for k, t in self.not_before.items() if t > now}


@attrs.frozen
class RelistPlan:
    """``full``: list every project and converter again; else only ``projects``' converters."""

    full: bool
    projects: frozenset[str] = frozenset()
    reason: str = ""


def plan_relist(
    *,
    has_snapshot: bool,
    last_cycle_failed: bool,
    cycles_since_full: int,
    full_every: int,
    desired_changed: bool,
    changed_projects: Iterable[str] = (),
) -> RelistPlan:
    """A full relist when there is nothing to trust (first cycle, after a failed cycle — never
    assume continuity — a new desired file) or every ``full_every`` cycles; else only the
    projects whose devices changed or that this controller just wrote to."""
    if not has_snapshot:
        return RelistPlan(True, reason="first cycle")
    if last_cycle_failed:
        return RelistPlan(True, reason="last cycle failed")
    if desired_changed:
        return RelistPlan(True, reason="desired state changed")
    if cycles_since_full + 1 >= full_every:
        return RelistPlan(True, reason=f"every {full_every} cycles")
    return RelistPlan(False, frozenset(changed_projects), reason="cheap")


def projects_with_device_changes(
    before: Mapping[str, bool],
    after: Mapping[str, bool],
    projects_of_sn: Mapping[str, Iterable[str]],
) -> frozenset[str]:
    """Projects holding converters of a device whose online state changed (or that came or
    went) between two organization device lists (sn → online)."""
    changed = {sn for sn in before.keys() | after.keys() if before.get(sn) != after.get(sn)}
    return frozenset(p for sn in changed for p in projects_of_sn.get(sn, ()))


def item_outcome(
    ok: bool, error: BaseException | None, *, not_attempted: bool, stopping: bool
) -> str:
    """What one change of a cycle counts as: ``applied`` (really changed), ``refused`` (the
    server said a converter of that name exists: created elsewhere, e.g. by another replica —
    never counted as applied), ``skipped`` (not started because the loop is stopping or lost
    the lead: the next cycle does it) or ``failed``."""
    if ok:
        return "applied"
    if not_attempted and stopping:
        return "skipped"
    if isinstance(error, APIBusinessError) and error.code == DUPLICATE_NAME_CODE:
        return "refused"
    return "failed"
