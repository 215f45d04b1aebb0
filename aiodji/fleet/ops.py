"""``dji.fleet``: discovery, planning and applying with a journal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from aiodji._args import require_bool
from aiodji.bulk import DEFAULT_CONCURRENCY, BulkReport, ItemResult, ItemState, run_bulk
from aiodji.codes import CONVERTER_GONE_CODES, DUPLICATE_NAME_CODE
from aiodji.errors import (
    APIBusinessError,
    APIConnectionError,
    DJIError,
    InternalServerError,
    InvalidArgumentError,
    NotAvailableError,
    NotFoundError,
)
from aiodji.models import Converter, Project

from .desired import Desired
from .journal import Journal, check_fingerprint, fingerprint, read_journal_file
from .plan import (
    DEFAULT_CONVERTER_LIMIT,
    Change,
    ChangeKind,
    Plan,
    find_converter,
    make_plan,
    projects_to_list,
)
from .selection import Selection, resolve_projects

if TYPE_CHECKING:
    from aiodji.client import Client
    from aiodji.controller.loop import CycleObserver, ReconcileStats

__all__ = ["DEFAULT_CONVERTER_LIMIT", "Fleet", "FleetReport", "QuotaExceeded"]

# Creates that may have reached the server are re-checked by name, then tried again.
CREATE_TRIES = 3
DISCOVERY_CONCURRENCY = 8

ProgressCallback = Callable[[ItemResult[Change, Any]], object]

log = logging.getLogger("aiodji.fleet")


class QuotaExceeded(DJIError):
    """A create the plan skipped: the organization's converter limit would be exceeded."""


@attrs.define
class FleetReport(BulkReport):
    """A :class:`BulkReport` over every change of an apply, plus ``already_done``: changes a
    resumed run skipped because the journal records them as succeeded and the live state
    still agrees."""

    already_done: int = 0


@attrs.define
class _Run:
    """One apply's report, journal and options, as its phases share them."""

    report: FleetReport
    book: Journal | None
    progress: ProgressCallback | None
    concurrency: int
    max_failures: int | float | None
    stop: asyncio.Event | None

    def record(self, result: ItemResult[Change, Any]) -> None:
        self.report.add(result)
        if self.book is not None:
            self.book.record(result)
        if self.progress is not None:
            self.progress(result)


def _gone(exc: BaseException) -> bool:
    if isinstance(exc, APIBusinessError) and exc.code in CONVERTER_GONE_CODES:
        return True
    # a deployment without the feature is not a converter that vanished
    # (docs/explanation/api-notes.md#live)
    return isinstance(exc, NotFoundError) and not isinstance(exc, NotAvailableError)


class Fleet:
    """Converter state across the projects of an organization (``dji.fleet``)."""

    def __init__(
        self,
        client: Client,
        *,
        converter_limit: int | None = None,
        reconcile_loop: Callable[..., Awaitable[ReconcileStats]] | None = None,
    ) -> None:
        self._client = client
        self.converter_limit = converter_limit
        # the reconcile loop is the controller's, the layer above: the Client, which builds
        # the fleet, hands it in, so the fleet never imports the controller
        self._reconcile_loop = reconcile_loop
        # project uuid → its converter listing, for the re-checks of one resumed apply
        self._snapshots: dict[str, asyncio.Future[Sequence[Converter]]] = {}

    def __repr__(self) -> str:
        return f"<Fleet of {self._client!r}>"

    # -- discovery -------------------------------------------------------------------------
    async def projects(self, selection: Selection | None = None) -> list[Project]:
        """The organization's projects (every page), narrowed to a selection's projects."""
        everything = [p async for p in self._client.projects.iter()]
        return resolve_projects(selection or Selection(), everything)

    async def converters(
        self,
        projects: str | Sequence[str] | None = "all",
        *,
        devices: str | Sequence[str] | None = None,
        cameras: str | Sequence[str] | None = None,
        names: str | Sequence[str] | None = None,
    ) -> list[Converter]:
        """Converters across projects, filtered (see :class:`Selection`); each carries its
        ``project_uuid``, so the list can go straight to ``dji.bulk``."""
        selection = Selection.build(projects, devices, cameras, names)
        listed = await self.list_converters(await self.projects(selection))
        return [c for convs in listed.values() for c in convs if selection.matches(c)]

    async def list_converters(
        self, projects: Iterable[Project], unavailable: dict[str, str] | None = None
    ) -> dict[str, list[Converter]]:
        """Every converter of each project (project uuid → its converters), projects fetched
        concurrently; the first error
        (e.g. 213050: stream forwarding not enabled on this deployment) is raised — except a
        :class:`NotAvailableError` when ``unavailable`` is given: it is recorded per project."""
        ordered = list(projects)

        async def fetch(project: Project) -> list[Converter]:
            return list(await self._client.project(project.uuid).converters.list())

        run = run_bulk(
            ordered,
            fetch,
            concurrency=DISCOVERY_CONCURRENCY,
            max_failures=None if unavailable is not None else 0,
        )
        listed: dict[str, list[Converter]] = {p.uuid: [] for p in ordered}
        async for result in run:
            if unavailable is not None and isinstance(result.error, NotAvailableError):
                unavailable[result.item.uuid] = str(result.error)
                continue
            if result.error is not None:
                raise result.error
            if result.ok and result.value is not None:
                listed[result.item.uuid] = result.value
        return listed

    async def device_states(self) -> dict[str, bool]:
        """The organization's devices (one listing): sn → online. A device that goes offline
        or comes back may change its converters' state (the controller relists their projects)."""
        states: dict[str, bool] = {}
        async for pair in self._client.devices.iter():
            for device in pair.devices():
                states[device.sn] = device.online
        return states

    # -- planning --------------------------------------------------------------------------
    async def plan(self, desired: Desired, *, converter_limit: int | None = None) -> Plan:
        """The changes that bring the server to ``desired`` — and only those.

        Reads the projects and their converters; a converter already in its desired state
        is ``unchanged``; a ``create`` whose name exists is not created again (one that vanished
        server-side is planned again); creates beyond the organization's converter limit are
        ``skipped (quota)``. The deciding is :func:`make_plan`'s (pure).
        """
        limit = _first(converter_limit, desired.converter_limit, self.converter_limit)
        everything = [p async for p in self._client.projects.iter()]
        unavailable: dict[str, str] = {}
        listed = await self.list_converters(projects_to_list(desired, everything), unavailable)
        plan = make_plan(desired, everything, listed, limit)
        return attrs.evolve(plan, unavailable=unavailable) if unavailable else plan

    # -- applying --------------------------------------------------------------------------
    async def apply(
        self,
        plan: Plan,
        *,
        journal: str | os.PathLike[str] | None = None,
        resume: str | os.PathLike[str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_failures: int | float | None = None,
        progress: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
    ) -> FleetReport:
        """Make the plan's changes through the bulk engine: deletes, then enable/disable, then
        creates (so deletes free quota first). Returns a :class:`FleetReport`.

        - ``journal``: a JSON-lines file that gets one record per change as its outcome is
          known (appended; the same file can be given as ``resume``).
        - ``resume``: a journal of an earlier run (of the same plan, organization and access
          point, else :class:`JournalFileError`): a change it records as succeeded is skipped
          (``already_done``) only when the live state still agrees (one listing per project);
          ``unknown`` ones, and creates that ``failed``, are re-checked before writing.
        - ``stop``: set it to stop starting changes (the CLI's first Ctrl-C); in-flight ones
          finish, the rest end ``not_attempted``.
        - ``skipped (quota)`` changes end ``not_attempted`` with a :class:`QuotaExceeded` error.
        Cancelling the call marks in-flight changes ``unknown`` in the journal.
        """
        self._snapshots = {}
        try:
            stamp = fingerprint(plan, self._client.base_url)
            previous = await self._resume_states(resume, stamp) if resume is not None else {}
            todo = await self._not_done(plan.changes, previous)
            report = FleetReport(total=len(plan.changes) + len(plan.skipped))
            report.already_done = len(plan.changes) - len(todo)
            book = Journal(journal) if journal is not None else None
            if book is not None:
                book.header(changes=len(todo), already_done=report.already_done, fingerprint=stamp)
            # re-checked: what may have reached the server — `unknown` changes, and failed
            # creates (not idempotent); a not_attempted change never left, a PUT can be redone
            recheck = {c.key for c in todo if _may_have_happened(c, previous.get(c.key))}
            run = _Run(report, book, progress, concurrency, max_failures, stop)
            await self._apply(plan, todo, recheck, run)
            return report
        finally:
            for listing in self._snapshots.values():
                listing.cancel()
            self._snapshots = {}

    async def _apply(self, plan: Plan, todo: list[Change], recheck: set[str], run: _Run) -> None:
        phases = [
            [c for c in todo if c.kind is ChangeKind.DELETE],
            [c for c in todo if c.kind in (ChangeKind.ENABLE, ChangeKind.DISABLE)],
            [c for c in todo if c.kind is ChangeKind.CREATE],
        ]
        started = asyncio.get_running_loop().time()
        try:
            for change in plan.skipped:
                error = QuotaExceeded(
                    f"skipped (quota): the organization's converter limit is "
                    f"{plan.converter_limit}; {change.converter_name!r} was not created"
                )
                run.record(ItemResult(change, ItemState.NOT_ATTEMPTED, error=error))
            for phase in phases:
                if phase:
                    stopped = await self._run_phase(phase, recheck, run)
                    run.report.stopped = run.report.stopped or stopped
        finally:
            run.report.seconds = asyncio.get_running_loop().time() - started
            if run.book is not None:
                run.book.close()

    async def _run_phase(self, changes: list[Change], recheck: set[str], run: _Run) -> str | None:
        async def execute(change: Change) -> Converter | None:
            return await self._execute(change, change.key in recheck)

        stop = run.stop
        bulk = run_bulk(
            changes,
            execute,
            concurrency=run.concurrency,
            max_failures=run.max_failures,
            progress=run.record,
        )
        if stop is not None and stop.is_set():
            bulk.stop()
        watcher = asyncio.create_task(_stop_when_set(stop, bulk.stop)) if stop else None
        try:
            return (await bulk.run()).stopped
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _execute(self, change: Change, recheck: bool) -> Converter | None:
        converters = self._client.project(change.project_uuid).converters
        if change.kind is ChangeKind.CREATE:
            return await self._create(change, recheck)
        assert change.converter_id is not None
        if change.kind is ChangeKind.DELETE:
            try:
                await converters.delete(change.converter_id)
            except DJIError as exc:
                if not _gone(exc):
                    raise  # else it is gone already: the desired state holds
            return None
        enabled = change.kind is ChangeKind.ENABLE
        if recheck and change.satisfied_by(await self._snapshot(change)):
            return None  # the last run applied it (or the converter is gone): nothing to write
        await converters.set_enabled(change.converter_id, enabled)
        return None

    async def _create(self, change: Change, recheck: bool) -> Converter:
        """Create once: a create that may have reached the server (a lost reply, a 5xx, a
        duplicate-name answer to our own earlier try) is checked by name before trying again."""
        spec = change.spec
        assert spec is not None
        converters = self._client.project(change.project_uuid).converters
        created = await self._snapshot(change) if recheck else None
        attempt = 0
        while created is None:
            attempt += 1
            try:
                created = await converters.create(
                    name=spec.name,
                    sn=spec.sn,
                    camera_index=spec.camera_index,
                    url=spec.url,
                    schema=spec.schema,
                    schema_option=spec.schema_option,
                )
            except (APIConnectionError, InternalServerError, APIBusinessError) as exc:
                maybe_sent = isinstance(exc, APIConnectionError | InternalServerError)
                duplicate = isinstance(exc, APIBusinessError) and exc.code == DUPLICATE_NAME_CODE
                if not (maybe_sent or duplicate) or (duplicate and attempt == 1):
                    # a duplicate name before anything of ours may have landed: the
                    # converter was made elsewhere (another replica, the web app) — refused
                    raise
                created = await self._find(change.project_uuid, name=spec.name)
                if created is None and (duplicate or attempt >= CREATE_TRIES):
                    raise
        if spec.enabled and not created.auto_push_stream:
            await converters.set_enabled(created.converter_id, True)
            created = attrs.evolve(created, auto_push_stream=True)
        return created

    async def _resume_states(
        self, resume: str | os.PathLike[str], stamp: dict[str, str]
    ) -> dict[str, ItemState]:
        book = read_journal_file(resume)
        check_fingerprint(book, stamp)
        if book.torn:
            log.warning("journal %s: its last line is cut (a crash mid-write); ignored", resume)
        return book.states

    async def _not_done(
        self, changes: Sequence[Change], previous: dict[str, ItemState]
    ) -> list[Change]:
        """The changes to make: all but those the journal records as succeeded and the live
        state still agrees with (the server, not an old journal, has the last word)."""
        journaled = [c for c in changes if previous.get(c.key) is ItemState.SUCCEEDED]
        if not journaled:
            return list(changes)
        projects = {c.project_uuid for c in journaled}
        await asyncio.gather(*(self._listing(p) for p in projects))
        done = set()
        for change in journaled:
            live = await self._listing(change.project_uuid)
            if change.satisfied_by(change.target_in(live)):
                done.add(change.key)
        return [c for c in changes if c.key not in done]

    async def _snapshot(self, change: Change) -> Converter | None:
        """The change's converter in the re-check listing of its project."""
        return change.target_in(await self._listing(change.project_uuid))

    async def _listing(self, project_uuid: str) -> Sequence[Converter]:
        """One listing per project per apply, shared by every re-checked change of that
        project, not one listing per change."""
        listing = self._snapshots.get(project_uuid)
        if listing is None:
            listing = asyncio.ensure_future(self._list_once(project_uuid))
            self._snapshots[project_uuid] = listing
        try:
            return await asyncio.shield(listing)
        except DJIError:
            self._snapshots.pop(project_uuid, None)  # a failed listing is not kept
            raise

    async def _list_once(self, project_uuid: str) -> Sequence[Converter]:
        return list(await self._client.project(project_uuid).converters.list())

    async def _find(self, project_uuid: str, *, name: str) -> Converter | None:
        return find_converter(
            [c async for c in self._client.project(project_uuid).converters.iter()], name=name
        )

    # -- the controller --------------------------------------------------------------------
    async def reconcile(
        self,
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
        """Keep the converters in ``desired`` (a :class:`Desired`, or a TOML file re-read when
        it changes) until ``stop`` is set: every ``interval`` seconds (plus up to ``jitter``),
        list what may have drifted, plan, apply with the journal. ``once``: one cycle.
        See :func:`aiodji.controller.reconcile` (the same call); ``observer`` gets each cycle
        and item (``aiodji.controller.Metrics`` is one)."""
        if self._reconcile_loop is None:  # a Fleet built by hand, not by the Client
            raise InvalidArgumentError(
                "this Fleet has no reconcile loop: use aiodji.controller.reconcile(fleet, ...)"
            )
        return await self._reconcile_loop(
            self,
            desired,
            interval=interval,
            once=once,
            stop=stop,
            journal=journal,
            full_relist_every=full_relist_every,
            jitter=jitter,
            concurrency=concurrency,
            observer=observer,
        )

    # -- the one-liner ---------------------------------------------------------------------
    async def set_converters_enabled(
        self,
        projects: str | Sequence[str] | None = "all",
        enabled: bool = True,
        *,
        devices: str | Sequence[str] | None = None,
        cameras: str | Sequence[str] | None = None,
        names: str | Sequence[str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_failures: int | float | None = None,
        journal: str | os.PathLike[str] | None = None,
        resume: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
    ) -> FleetReport:
        """Enable or disable every selected converter that is not already so.

        ``await dji.fleet.set_converters_enabled(projects="all", enabled=False)`` → report.
        ``projects``: ``"all"`` or uuids / names / globs; ``devices`` (sn or callsign globs),
        ``cameras`` (indexes), ``names`` (converter name globs) narrow it. The other options
        are :meth:`apply`'s.
        """
        require_bool("enabled", enabled)
        selection = Selection.build(projects, devices, cameras, names)
        plan = await self.plan(Desired.enabled(enabled, selection))
        return await self.apply(
            plan,
            journal=journal,
            resume=resume,
            concurrency=concurrency,
            max_failures=max_failures,
            progress=progress,
            stop=stop,
        )


def _may_have_happened(change: Change, state: ItemState | None) -> bool:
    if state is ItemState.UNKNOWN:
        return True
    return state is ItemState.FAILED and change.kind is ChangeKind.CREATE


def _first(*values: int | None) -> int | None:
    return next((v for v in values if v is not None), None)


async def _stop_when_set(stop: asyncio.Event, then: Callable[[], None]) -> None:
    await stop.wait()
    then()
