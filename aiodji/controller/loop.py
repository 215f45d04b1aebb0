"""The reconcile loop: level-triggered cycles that keep converters in their desired state.

One cycle: (re)read the desired file if it changed, list (all, or only what may have drifted),
plan with the pure :func:`~aiodji.fleet.plan.make_plan`, apply through the bulk engine with
the journal, record the outcome. Then sleep the interval with jitter. The decisions are in
:mod:`aiodji.controller.decide`; this module only does the I/O around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from aiodji.bulk import DEFAULT_CONCURRENCY, ItemResult, ItemState
from aiodji.errors import DJIError
from aiodji.fleet.desired import Desired
from aiodji.fleet.plan import Change, Plan, make_plan, projects_to_list
from aiodji.models import Converter, Project
from aiodji.redact import redact_text

from .decide import (
    ItemBackoff,
    item_outcome,
    jittered,
    plan_relist,
    projects_with_device_changes,
)
from .logs import log_item, log_unexpected
from .source import DesiredSource

if TYPE_CHECKING:
    from aiodji.fleet import Fleet

__all__ = [
    "CycleObserver",
    "CycleReport",
    "LeaderGate",
    "ReconcileStats",
    "Reconciler",
    "reconcile",
]

log = logging.getLogger("aiodji.controller")

STANDBY_POLL = 0.5  # seconds between a standby's looks at the lead (a local check, no I/O)


@attrs.frozen
class CycleReport:
    """What one cycle did."""

    cycle: int
    ok: bool
    full_relist: bool
    drift: int  # changes the plan found
    applied: int  # changes that succeeded
    failed: int
    backing_off: int  # changes not tried this cycle: their item is backing off
    seconds: float
    error: str | None = None
    refused: int = 0  # of ``failed``: creates the server refused as duplicate names


@attrs.define
class ReconcileStats:
    """Totals of a :meth:`Reconciler.run` (what ``dji.fleet.reconcile`` returns)."""

    cycles: int = 0
    failed_cycles: int = 0
    full_relists: int = 0
    drift_found: int = 0
    changes_applied: int = 0
    last: CycleReport | None = None


class CycleObserver(Protocol):
    """What the metrics (or a test) see of the loop."""

    def cycle_done(self, report: CycleReport) -> None: ...

    def item_done(self, result: ItemResult[Change, Any]) -> None: ...


class LeaderGate(Protocol):
    """What the loop needs of leader election (:class:`~aiodji.controller.leader.LeaderElector`
    is one): may it write now, the fencing check before a batch, and when to stop writing."""

    def acting(self) -> bool: ...

    async def confirm(self) -> bool: ...

    async def until_not_acting(self) -> None: ...


class Reconciler:
    """Holds the loop's state between cycles: the last good desired state, the last listing
    (the snapshot cheap cycles start from), per-item backoff."""

    def __init__(
        self,
        fleet: Fleet,
        desired: Desired | str | os.PathLike[str],
        *,
        interval: float = 30.0,
        jitter: float = 0.1,
        full_relist_every: int = 10,
        journal: str | os.PathLike[str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        backoff: ItemBackoff | None = None,
        observer: CycleObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        leader: LeaderGate | None = None,
    ) -> None:
        self.fleet = fleet
        self.source = None if isinstance(desired, Desired) else DesiredSource(desired)
        self.path = None if self.source is None else self.source.path
        self._fixed: Desired | None = desired if isinstance(desired, Desired) else None
        self.interval = interval
        self.jitter = jitter
        self.full_relist_every = max(1, full_relist_every)
        self.journal = journal
        self.concurrency = concurrency
        self.backoff = backoff or ItemBackoff()
        self.observer = observer
        self.clock = clock
        self.rng = rng or random.Random()
        self.stop = asyncio.Event()
        self.stats = ReconcileStats()
        self.leader = leader  # None: the only replica, always acting
        self._desired_changed = False
        self._projects: list[Project] | None = None
        self._converters: dict[str, list[Converter]] = {}
        self._devices: dict[str, bool] = {}
        self._dirty: set[str] = set()
        self._since_full = 0
        self._last_failed = False

    def force_full_relist(self) -> None:
        """List everything at the next cycle (as after a failure)."""
        self._last_failed = True

    # -- the desired file ------------------------------------------------------------------
    @property
    def desired(self) -> Desired | None:
        """The desired state in force: the last good file (None before there is one)."""
        return self._fixed if self.source is None else self.source.desired

    def request_reload(self) -> None:
        """SIGHUP: read the desired file again at the next cycle, changed or not."""
        if self.source is not None:
            self.source.request_reload()

    def _maybe_reload(self) -> None:
        if self.source is not None and self.source.poll():
            self._desired_changed = True

    # -- one cycle -------------------------------------------------------------------------
    async def cycle(self) -> CycleReport:
        """List, plan, apply once; never raises (a long-running controller does not exit on
        input): a failed cycle is reported and logged, and the next one relists everything."""
        number = self.stats.cycles + 1
        started = self.clock()
        try:
            self._maybe_reload()
            desired = self.desired
            if desired is None:  # the file was rejected and there is no good one yet
                report = self._failed(number, started, "no valid desired file")
            else:
                report = await self._converge(number, desired, started)
        except DJIError as exc:
            report = self._failed(number, started, redact_text(f"{exc}"))
            log.warning(
                "cycle %d failed (the next one relists everything): %s",
                number,
                report.error,
                extra={"cycle": number, "action": "cycle", "result": "failed"},
            )
        except Exception as exc:  # the error boundary of one pass
            report = self._failed(number, started, f"internal error: {type(exc).__name__}")
            log_unexpected(number, exc)
        self._record(report)
        return report

    async def _converge(self, number: int, desired: Desired, started: float) -> CycleReport:
        full = await self._refresh(desired)
        limit = desired.converter_limit or self.fleet.converter_limit
        assert self._projects is not None
        plan = make_plan(desired, self._projects, self._converters, limit)
        return await self._apply(number, plan, full, started)

    def _failed(self, number: int, started: float, error: str) -> CycleReport:
        self._last_failed = True  # never assume continuity after a failure
        return CycleReport(number, False, False, 0, 0, 0, 0, self.clock() - started, error)

    async def _refresh(self, desired: Desired) -> bool:
        """Bring the snapshot up to date; True when it was a full relist."""
        devices = await self.fleet.device_states()
        relist = plan_relist(
            has_snapshot=self._projects is not None,
            last_cycle_failed=self._last_failed,
            cycles_since_full=self._since_full,
            full_every=self.full_relist_every,
            desired_changed=self._desired_changed,
            changed_projects=projects_with_device_changes(
                self._devices, devices, self._projects_of_sn()
            )
            | self._dirty,
        )
        if relist.full:
            projects = await self.fleet.projects()
            wanted = projects_to_list(desired, projects)
            self._converters = await self.fleet.list_converters(wanted)
            self._projects = projects
            self._since_full = 0
        else:
            assert self._projects is not None
            known = {p.uuid: p for p in self._projects}
            again = [known[u] for u in relist.projects if u in known]
            if again:
                self._converters.update(await self.fleet.list_converters(again))
            self._since_full += 1
        self._devices = devices
        self._dirty.clear()
        self._desired_changed = False
        self._last_failed = False
        return relist.full

    def _projects_of_sn(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for project, convs in self._converters.items():
            for c in convs:
                if c.sn:
                    out.setdefault(c.sn, set()).add(project)
        return out

    async def _apply(self, number: int, plan: Plan, full: bool, started: float) -> CycleReport:
        now = self.clock()
        self.backoff.forget_except(c.key for c in plan.changes)
        ready = tuple(c for c in plan.changes if self.backoff.ready(c.key, now))
        waiting = len(plan.changes) - len(ready)
        if waiting:
            log.info(
                "cycle %d: %d changes backing off",
                number,
                waiting,
                extra={"cycle": number, "action": "backoff", "result": "waiting"},
            )
        counts: Counter[str] = Counter()
        if ready and not await self._may_write(number, len(ready)):
            error: str | None = "lead not confirmed: nothing written"
            self._last_failed = True
        else:
            if ready:
                await self._write(number, attrs.evolve(plan, changes=ready, skipped=()), counts)
            failed = counts["failed"] + counts["refused"]
            error = f"{failed} changes failed" if failed else None
            if failed:
                self._last_failed = True  # never assume continuity after a failure
        return CycleReport(
            number,
            error is None,
            full,
            len(plan.changes),
            counts["applied"],
            counts["failed"] + counts["refused"],
            waiting,
            self.clock() - started,
            error,
            refused=counts["refused"],
        )

    async def _may_write(self, number: int, count: int) -> bool:
        """The fencing check before a write batch (leader election only)."""
        if self.leader is None or await self.leader.confirm():
            return True
        log.warning(
            "cycle %d: the lead is not confirmed (fencing check): %d changes not written",
            number,
            count,
            extra={"cycle": number, "action": "leader", "result": "not-leader"},
        )
        return False

    async def _write(self, number: int, todo: Plan, counts: Counter[str]) -> None:
        """Apply through the fleet; stops starting items on SIGTERM or when the lead is lost
        (started items finish: they end before the lease can lapse)."""
        batch_stop = asyncio.Event()

        def on_item(result: ItemResult[Change, Any]) -> None:
            change = result.item
            self._dirty.add(change.project_uuid)  # we wrote there: relist it next cycle
            outcome = item_outcome(
                result.ok,
                result.error,
                not_attempted=result.state is ItemState.NOT_ATTEMPTED,
                stopping=batch_stop.is_set(),
            )
            counts[outcome] += 1
            if outcome == "applied":
                self.backoff.succeeded(change.key)
            elif outcome != "skipped":
                self.backoff.failed(change.key, self.clock())
            if self.observer is not None:
                self.observer.item_done(result)
            log_item(number, change, result, outcome)

        async def stop_when_needed() -> None:
            waits: list[asyncio.Future[object]] = [asyncio.ensure_future(self.stop.wait())]
            if self.leader is not None:
                waits.append(asyncio.ensure_future(self.leader.until_not_acting()))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            batch_stop.set()

        watcher = asyncio.create_task(stop_when_needed())
        try:
            await self.fleet.apply(
                todo,
                journal=self.journal,
                concurrency=self.concurrency,
                progress=on_item,
                stop=batch_stop,
            )
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def _record(self, report: CycleReport) -> None:
        s = self.stats
        s.cycles += 1
        s.failed_cycles += not report.ok
        s.full_relists += report.full_relist
        s.drift_found += report.drift
        s.changes_applied += report.applied
        s.last = report
        if self.observer is not None:
            self.observer.cycle_done(report)
        log.info(
            "cycle %d %s: drift %d, applied %d, failed %d, backing off %d%s (%.2fs)",
            report.cycle,
            "ok" if report.ok else "FAILED",
            report.drift,
            report.applied,
            report.failed,
            report.backing_off,
            ", full relist" if report.full_relist else "",
            report.seconds,
            extra={
                "cycle": report.cycle,
                "action": "cycle",
                "result": "ok" if report.ok else "failed",
                "drift": report.drift,
                "applied": report.applied,
                "full_relist": report.full_relist,
            },
        )

    # -- the loop --------------------------------------------------------------------------
    async def run(self, *, once: bool = False) -> ReconcileStats:
        """Cycle until :attr:`stop` is set (SIGTERM/SIGINT in the CLI): an in-flight cycle's
        started items finish and are journaled; no new cycle starts. A desired file that
        cannot be used is logged and refused (the last good one is kept; before there is one,
        each cycle tries again): nothing the loop reads ends it. With leader election a
        standby only waits (no listing, no writes) and checks the lead often."""
        standby = False
        while not self.stop.is_set():
            if self.leader is not None and not self.leader.acting():
                standby = True
                await self._pause(min(self.interval, STANDBY_POLL))
                continue
            if standby:  # the last leader wrote meanwhile: trust nothing we listed before
                standby = False
                self.force_full_relist()
            await self.cycle()
            if once:
                break
            await self._pause(jittered(self.interval, self.jitter, self.rng.random()))
        return self.stats

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)


async def reconcile(
    fleet: Fleet,
    desired: Desired | str | os.PathLike[str],
    *,
    interval: float = 30.0,
    once: bool = False,
    stop: asyncio.Event | None = None,
    journal: str | os.PathLike[str] | None = None,
    full_relist_every: int = 10,
    jitter: float = 0.1,
    concurrency: int = DEFAULT_CONCURRENCY,
    observer: CycleObserver | None = None,
) -> ReconcileStats:
    """``dji.fleet.reconcile(...)``: run a :class:`Reconciler` until ``stop`` is set (or one
    cycle with ``once``)."""
    reconciler = Reconciler(
        fleet,
        desired,
        interval=interval,
        jitter=jitter,
        full_relist_every=full_relist_every,
        journal=journal,
        concurrency=concurrency,
        observer=observer,
    )
    if stop is not None:
        reconciler.stop = stop
    return await reconciler.run(once=once)
