"""Flight tasks (docs/explanation/api-notes.md#tasks)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiodji._args import check_paging, enum_arg, path_param, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import (
    FlightTask,
    FlightTaskCreate,
    FlightTaskCreated,
    OutOfControlAction,
    Page,
    RepeatType,
    ResumableStatus,
    RthMode,
    TaskMedia,
    TaskStatusChange,
    TaskTrack,
    TaskType,
    WaylinePrecisionType,
)
from aiodji.resources._base import Resource, parse_page
from aiodji.serde import structure, unstructure

__all__ = ["Tasks", "unix_seconds"]

TASK_PATH = "/openapi/v0.1/flight-task"
DEFAULT_PAGE_SIZE = 50  # what clients send (docs/explanation/api-notes.md#pagination)
MAX_PAGE_SIZE = 100


def unix_seconds(name: str, value: int | float | dt.datetime) -> int:
    """A time argument as unix seconds; an aware ``datetime`` is accepted too."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InvalidArgumentError(f"{name} must be timezone-aware (naive datetime given)")
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidArgumentError(f"{name} must be unix seconds or a datetime, got {value!r}")
    return int(value)


def _task_body(body: FlightTaskCreate) -> dict[str, Any]:
    for key in ("name", "wayline_uuid", "sn", "task_type"):
        require_text(key, getattr(body, key))
    if body.task_type == TaskType.TIMED and body.begin_at is None:
        raise InvalidArgumentError("a timed task needs begin_at (unix seconds)")
    wire: dict[str, Any] = unstructure(body)
    return {key: value for key, value in wire.items() if value is not None}


def _parse_created(data: Any) -> FlightTaskCreated:
    # V1 reply not read (docs/explanation/api-notes.md#tasks): the Sync API nests it in ``task``;
    # accept a flat reply too
    if isinstance(data, Mapping) and isinstance(data.get("task"), Mapping):
        data = data["task"]
    if isinstance(data, Mapping) and "uuid" not in data and "task_uuid" in data:
        data = {**data, "uuid": data["task_uuid"]}
    created: FlightTaskCreated = structure(data, FlightTaskCreated)
    return created


_TRACK_KEYS = frozenset({"track_id", "drone_sn", "flight_distance", "flight_duration", "points"})


def _parse_track(data: Any) -> TaskTrack:
    # live nests the track under ``track`` (docs/explanation/api-notes.md#live); a flat V2-style
    # reply is folded into it
    if data is None:
        return TaskTrack()
    if isinstance(data, Mapping) and "track" not in data and _TRACK_KEYS & data.keys():
        outer = {k: v for k, v in data.items() if k not in _TRACK_KEYS}
        data = {**outer, "track": {k: v for k, v in data.items() if k in _TRACK_KEYS}}
    track: TaskTrack = structure(data, TaskTrack)
    return track


def _none(data: Any) -> None:
    return None


class Tasks(Resource):
    """``dji.tasks``: flight tasks — create, suspend/restore, read, list, media, trajectory.

    Project-scoped: use ``dji.project(uuid).tasks`` or pass ``project_uuid=``.
    """

    async def create(
        self,
        body: FlightTaskCreate | None = None,
        *,
        name: str | None = None,
        wayline_uuid: str | None = None,
        sn: str | None = None,
        task_type: TaskType | str | None = None,
        landing_dock_sn: str | None = None,
        rth_altitude: int | None = None,
        rth_mode: RthMode | str | None = None,
        wayline_precision_type: WaylinePrecisionType | str | None = None,
        out_of_control_action_in_flight: OutOfControlAction | str | None = None,
        resumable_status: ResumableStatus | str | None = None,
        time_zone: str | None = None,
        repeat_type: RepeatType | str | None = None,
        min_battery_capacity: int | None = None,
        begin_at: int | dt.datetime | None = None,
        latest_begin_at: int | dt.datetime | None = None,
        project_uuid: str | None = None,
    ) -> FlightTaskCreated:
        """Create a flight task. ``POST /openapi/v0.1/flight-task``
        (docs/explanation/api-notes.md#tasks).

        Pass a :class:`FlightTaskCreate` or the same fields as keywords:
        ``name``; ``wayline_uuid`` (from ``dji.waylines.list``); ``sn`` the take-off dock;
        ``task_type`` immediate | timed | recurring | continuous; ``landing_dock_sn`` (leap-frog
        only); ``rth_altitude`` metres; ``rth_mode`` (e.g. optimal); ``wayline_precision_type``
        gps | rtk; ``out_of_control_action_in_flight`` (e.g. return_home); ``resumable_status``
        auto | manual; ``time_zone`` IANA name; ``repeat_type`` (e.g. nonrepeating);
        ``min_battery_capacity`` percent; ``begin_at`` / ``latest_begin_at`` unix seconds or
        aware datetimes (``begin_at`` required for timed tasks). Unset fields are not sent.
        Returns the new task's ``uuid`` (reply shape guessed, see :class:`FlightTaskCreated`).
        """
        if body is None:
            if task_type is None:
                raise InvalidArgumentError("task_type is required")
            body = FlightTaskCreate(
                name=require_text("name", name),
                wayline_uuid=require_text("wayline_uuid", wayline_uuid),
                sn=require_text("sn", sn),
                task_type=enum_arg("task_type", task_type, TaskType),
                landing_dock_sn=landing_dock_sn,
                rth_altitude=rth_altitude,
                rth_mode=None if rth_mode is None else enum_arg("rth_mode", rth_mode, RthMode),
                wayline_precision_type=None
                if wayline_precision_type is None
                else enum_arg(
                    "wayline_precision_type", wayline_precision_type, WaylinePrecisionType
                ),
                out_of_control_action_in_flight=None
                if out_of_control_action_in_flight is None
                else enum_arg(
                    "out_of_control_action_in_flight",
                    out_of_control_action_in_flight,
                    OutOfControlAction,
                ),
                resumable_status=None
                if resumable_status is None
                else enum_arg("resumable_status", resumable_status, ResumableStatus),
                time_zone=time_zone,
                repeat_type=None
                if repeat_type is None
                else enum_arg("repeat_type", repeat_type, RepeatType),
                min_battery_capacity=min_battery_capacity,
                begin_at=None if begin_at is None else unix_seconds("begin_at", begin_at),
                latest_begin_at=None
                if latest_begin_at is None
                else unix_seconds("latest_begin_at", latest_begin_at),
            )
        elif not isinstance(body, FlightTaskCreate):
            raise InvalidArgumentError("body must be a FlightTaskCreate")
        elif any(v is not None for v in (name, wayline_uuid, sn, task_type)):
            raise InvalidArgumentError("pass either a FlightTaskCreate body or keywords, not both")
        payload = _task_body(body)
        project = self._project_for(project_uuid, "tasks")
        return await self._post(TASK_PATH, json=payload, project_uuid=project, parse=_parse_created)

    async def update_status(
        self,
        task_uuid: str,
        status: TaskStatusChange | str,
        *,
        project_uuid: str | None = None,
    ) -> None:
        """Suspend (hang) or restore a task. ``PUT /openapi/v0.1/flight-task/{task_uuid}/status``
        with ``{"status": "suspended" | "restored"}`` (docs/explanation/api-notes.md#tasks)."""
        if status not in (TaskStatusChange.SUSPENDED, TaskStatusChange.RESTORED):
            raise InvalidArgumentError(f"status must be 'suspended' or 'restored', got {status!r}")
        path = f"{TASK_PATH}/{path_param('task_uuid', task_uuid)}/status"
        project = self._project_for(project_uuid, "tasks")
        await self._put(path, json={"status": str(status)}, project_uuid=project, parse=_none)

    async def suspend(self, task_uuid: str, *, project_uuid: str | None = None) -> None:
        """``update_status(task_uuid, "suspended")``."""
        await self.update_status(task_uuid, TaskStatusChange.SUSPENDED, project_uuid=project_uuid)

    async def restore(self, task_uuid: str, *, project_uuid: str | None = None) -> None:
        """``update_status(task_uuid, "restored")``."""
        await self.update_status(task_uuid, TaskStatusChange.RESTORED, project_uuid=project_uuid)

    async def get(self, task_uuid: str, *, project_uuid: str | None = None) -> FlightTask:
        """One task's info. ``GET /openapi/v0.1/flight-task/{task_uuid}``
        (docs/explanation/api-notes.md#tasks)."""
        path = f"{TASK_PATH}/{path_param('task_uuid', task_uuid)}"
        project = self._project_for(project_uuid, "tasks")
        return await self._get(path, project_uuid=project, parse=lambda d: structure(d, FlightTask))

    async def list(
        self,
        *,
        sn: str,
        begin_at: int | dt.datetime,
        end_at: int | dt.datetime,
        name: str | None = None,
        task_type: TaskType | str | None = None,
        status: str | None = None,
        page: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[FlightTask]:
        """Every task matching the filters (as :meth:`list_page`), all pages fetched
        (``page_size`` per request). The same as collecting :meth:`iter`.

        ``page=`` is deprecated: it returns that one page, as :meth:`list_page` does.
        """
        walk = self._pages(sn, begin_at, end_at, name, task_type, status, page_size, project_uuid)
        return await self._every("tasks.list", page, walk)

    async def list_page(
        self,
        page: int = 1,
        *,
        sn: str,
        begin_at: int | dt.datetime,
        end_at: int | dt.datetime,
        name: str | None = None,
        task_type: TaskType | str | None = None,
        status: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> Page[FlightTask]:
        """One page of tasks. ``GET /openapi/v0.1/flight-task/list``
        (docs/explanation/api-notes.md#tasks).

        ``sn`` the dock; ``begin_at``/``end_at`` the window (unix seconds or aware datetimes,
        both required); optional ``name``, ``task_type`` and ``status`` filters; ``page`` from 1
        and ``page_size`` (sent as clients do; up to 100).
        """
        check_paging(page, page_size, maximum=MAX_PAGE_SIZE)
        start, end = unix_seconds("begin_at", begin_at), unix_seconds("end_at", end_at)
        if start > end:
            raise InvalidArgumentError("begin_at must not be after end_at")
        params = {
            "sn": require_text("sn", sn),
            "begin_at": start,
            "end_at": end,
            "name": name,
            "task_type": None if task_type is None else str(task_type),
            "status": status,
            "page": page,
            "page_size": page_size,
        }
        project = self._project_for(project_uuid, "tasks")
        return await self._get(
            f"{TASK_PATH}/list",
            params=params,
            project_uuid=project,
            parse=lambda d: parse_page(d, FlightTask, page=page, page_size=page_size),
        )

    async def iter(
        self,
        *,
        sn: str,
        begin_at: int | dt.datetime,
        end_at: int | dt.datetime,
        name: str | None = None,
        task_type: TaskType | str | None = None,
        status: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
    ) -> AsyncIterator[FlightTask]:
        """Every task matching the filters of :meth:`list_page`, fetching pages lazily."""
        walk = self._pages(sn, begin_at, end_at, name, task_type, status, page_size, project_uuid)
        async for task in self._iter_pages(walk):
            yield task

    def _pages(
        self,
        sn: str,
        begin_at: int | dt.datetime,
        end_at: int | dt.datetime,
        name: str | None,
        task_type: TaskType | str | None,
        status: str | None,
        page_size: int,
        project_uuid: str | None,
    ) -> Callable[[int], Awaitable[Page[FlightTask]]]:
        """:meth:`list_page` with all but the page fixed: what ``list()`` and ``iter()`` walk."""
        return functools.partial(
            self.list_page,
            sn=sn,
            begin_at=begin_at,
            end_at=end_at,
            name=name,
            task_type=task_type,
            status=status,
            page_size=page_size,
            project_uuid=project_uuid,
        )

    async def media(self, task_uuid: str, *, project_uuid: str | None = None) -> Page[TaskMedia]:
        """Photos and videos the task uploaded so far (up to 10,000 per task [secondary]).
        ``GET /openapi/v0.1/flight-task/{task_uuid}/media`` (docs/explanation/api-notes.md#tasks);
        ``data.list[]`` or a bare
        list. URLs may be signed: they are masked in ``repr``."""
        path = f"{TASK_PATH}/{path_param('task_uuid', task_uuid)}/media"
        project = self._project_for(project_uuid, "tasks")
        return await self._get(
            path,
            project_uuid=project,
            parse=lambda d: parse_page(d, TaskMedia, page=1, page_size=None),
        )

    async def track(self, task_uuid: str, *, project_uuid: str | None = None) -> TaskTrack:
        """The flown trajectory: points (timestamp, latitude, longitude, height), distance and
        duration. ``GET /openapi/v0.1/flight-task/{task_uuid}/track``
        (docs/explanation/api-notes.md#tasks)."""
        path = f"{TASK_PATH}/{path_param('task_uuid', task_uuid)}/track"
        project = self._project_for(project_uuid, "tasks")
        return await self._get(path, project_uuid=project, parse=_parse_track)
