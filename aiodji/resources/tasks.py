"""Flight tasks (docs/explanation/api-notes.md#tasks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Required, TypedDict, TypeVar, Unpack

from aiodji._args import check_paging, enum_arg, path_param, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import (
    FlightTask,
    FlightTaskCreate,
    FlightTaskCreated,
    OpenStrEnum,
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
from aiodji.resources._base import Resource, filter_params, parse_page
from aiodji.serde import structure, unstructure

__all__ = ["TaskFilters", "Tasks", "schedule_problem", "unix_seconds"]

E = TypeVar("E", bound=OpenStrEnum)

TASK_PATH = "/openapi/v0.1/flight-task"
DEFAULT_PAGE_SIZE = 50  # what clients send (docs/explanation/api-notes.md#pagination)
MAX_PAGE_SIZE = 100


class TaskFilters(TypedDict, total=False):
    """The filters of ``tasks.list`` / ``list_page`` / ``iter``, written once: the dock
    ``sn`` and the window ``begin_at``..``end_at`` (unix seconds or aware datetimes) are
    required; ``name``, ``task_type``, ``status`` narrow it."""

    sn: Required[str]
    begin_at: Required[int | dt.datetime]
    end_at: Required[int | dt.datetime]
    name: str | None
    task_type: TaskType | str | None
    status: str | None


def unix_seconds(name: str, value: int | float | dt.datetime | str) -> int:
    """A time argument as unix seconds; an aware ``datetime`` (or its RFC 3339 text, as a
    JSON or command-line caller sends it) is accepted too."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidArgumentError(f"{name}: {value!r} is not an RFC 3339 time") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InvalidArgumentError(f"{name} must be timezone-aware (naive datetime given)")
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidArgumentError(f"{name} must be unix seconds or a datetime, got {value!r}")
    return int(value)


def _times(name: str, values: Sequence[int | dt.datetime] | None) -> list[int] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidArgumentError(f"{name} must be a list of unix seconds or datetimes")
    return [unix_seconds(name, v) for v in values]


def _periods(
    values: Sequence[Sequence[int | dt.datetime]] | None,
) -> list[list[int]] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidArgumentError("continuous_task_periods must be a list of [start, end] pairs")
    pairs = [_times("continuous_task_periods", pair) or [] for pair in values]
    for pair in pairs:
        if len(pair) != 2 or pair[0] >= pair[1]:
            raise InvalidArgumentError(
                f"continuous_task_periods: each period is [start, end] with start < end, "
                f"got {pair!r}"
            )
    return pairs


def schedule_problem(body: FlightTaskCreate) -> str | None:
    """What breaks the documented create rules, or None: ``timed`` needs ``begin_at``;
    ``recurring`` ``begin_at``, ``end_at`` and start times; ``continuous`` ``begin_at``,
    ``end_at`` and periods; ``rth_altitude`` > 0."""
    kind = body.task_type
    needs: list[str] = []
    if kind in (TaskType.TIMED, TaskType.RECURRING, TaskType.CONTINUOUS):
        needs.append("begin_at")
    if kind in (TaskType.RECURRING, TaskType.CONTINUOUS):
        needs.append("end_at")
    if kind == TaskType.RECURRING:
        needs.append("recurring_task_start_time_list")
    if kind == TaskType.CONTINUOUS:
        needs.append("continuous_task_periods")
    missing = [name for name in needs if not getattr(body, name)]
    if missing:
        return f"a {kind} task needs {', '.join(missing)}"
    rth = body.rth_altitude
    if rth is not None and (isinstance(rth, bool) or not isinstance(rth, int) or rth <= 0):
        return f"rth_altitude must be a positive number of metres, got {rth!r}"
    if body.begin_at is not None and body.end_at is not None and body.end_at < body.begin_at:
        return "end_at must not be before begin_at"
    return None


def _task_body(body: FlightTaskCreate) -> dict[str, Any]:
    for key in ("name", "wayline_uuid", "sn", "task_type"):
        require_text(key, getattr(body, key))
    problem = schedule_problem(body)
    if problem is not None:
        raise InvalidArgumentError(problem)
    wire: dict[str, Any] = unstructure(body)
    return {key: value for key, value in wire.items() if value is not None}


def _option(name: str, value: Any, cls: type[E]) -> E | None:
    return None if value is None else enum_arg(name, value, cls)


def _keyword_body(task_type: TaskType | str | None, **kw: Any) -> FlightTaskCreate:
    """The create keywords as a body: enums checked, times as unix seconds."""
    if task_type is None:
        raise InvalidArgumentError("task_type is required")
    for key in ("begin_at", "latest_begin_at", "end_at"):
        kw[key] = None if kw[key] is None else unix_seconds(key, kw[key])
    for key, cls in _ENUM_KEYWORDS.items():
        kw[key] = _option(key, kw[key], cls)
    option = kw["repeat_option"]
    if option is not None and not isinstance(option, Mapping):
        raise InvalidArgumentError("repeat_option must be an object (e.g. {'repeat_type': ...})")
    kw["repeat_option"] = None if option is None else dict(option)
    kw["recurring_task_start_time_list"] = _times(
        "recurring_task_start_time_list", kw["recurring_task_start_time_list"]
    )
    kw["continuous_task_periods"] = _periods(kw["continuous_task_periods"])
    return FlightTaskCreate(
        name=require_text("name", kw.pop("name")),
        wayline_uuid=require_text("wayline_uuid", kw.pop("wayline_uuid")),
        sn=require_text("sn", kw.pop("sn")),
        task_type=enum_arg("task_type", task_type, TaskType),
        **kw,
    )


_ENUM_KEYWORDS: dict[str, type[Any]] = {
    "rth_mode": RthMode,
    "wayline_precision_type": WaylinePrecisionType,
    "out_of_control_action_in_flight": OutOfControlAction,
    "resumable_status": ResumableStatus,
    "repeat_type": RepeatType,
}


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
        end_at: int | dt.datetime | None = None,
        recurring_task_start_time_list: Sequence[int | dt.datetime] | None = None,
        continuous_task_periods: Sequence[Sequence[int | dt.datetime]] | None = None,
        repeat_option: Mapping[str, Any] | None = None,
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
        ``min_battery_capacity`` percent; ``begin_at`` / ``latest_begin_at`` / ``end_at`` unix
        seconds or aware datetimes; ``recurring_task_start_time_list`` when each run of a
        recurring task starts; ``continuous_task_periods`` ``[start, end]`` pairs of a continuous
        task; ``repeat_option`` an object with ``repeat_type``, sent as given.

        The documented rules are checked before anything is sent (an
        :class:`~aiodji.InvalidArgumentError`): ``timed`` needs ``begin_at``; ``recurring``
        ``begin_at``, ``end_at`` and start times; ``continuous`` ``begin_at``, ``end_at`` and
        periods; ``rth_altitude`` > 0. Unset fields are not sent.
        Returns the new task's ``uuid`` (reply shape guessed, see :class:`FlightTaskCreated`).
        """
        if body is None:
            body = _keyword_body(
                task_type,
                name=name,
                wayline_uuid=wayline_uuid,
                sn=sn,
                landing_dock_sn=landing_dock_sn,
                rth_altitude=rth_altitude,
                rth_mode=rth_mode,
                wayline_precision_type=wayline_precision_type,
                out_of_control_action_in_flight=out_of_control_action_in_flight,
                resumable_status=resumable_status,
                time_zone=time_zone,
                repeat_type=repeat_type,
                min_battery_capacity=min_battery_capacity,
                begin_at=begin_at,
                latest_begin_at=latest_begin_at,
                end_at=end_at,
                recurring_task_start_time_list=recurring_task_start_time_list,
                continuous_task_periods=continuous_task_periods,
                repeat_option=repeat_option,
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
        page: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
        **filters: Unpack[TaskFilters],
    ) -> Page[FlightTask]:
        """Every task matching the filters (:class:`TaskFilters`, as :meth:`list_page`), all
        pages fetched (``page_size`` per request). The same as collecting :meth:`iter`.

        ``page=`` is deprecated: it returns that one page, as :meth:`list_page` does.
        """
        fixed = {"page_size": page_size, "project_uuid": project_uuid, **filters}
        return await self._list_all("tasks.list", page, self.list_page, **fixed)

    async def list_page(
        self,
        page: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
        **filters: Unpack[TaskFilters],
    ) -> Page[FlightTask]:
        """One page of tasks. ``GET /openapi/v0.1/flight-task/list``
        (docs/explanation/api-notes.md#tasks).

        Filters (:class:`TaskFilters`): ``sn`` the dock; ``begin_at``/``end_at`` the window
        (unix seconds or aware datetimes, both required); optional ``name``, ``task_type`` and
        ``status``. ``page`` from 1 and ``page_size`` (sent as clients do; up to 100).
        """
        f = filter_params(filters, TaskFilters)
        check_paging(page, page_size, maximum=MAX_PAGE_SIZE)
        start, end = unix_seconds("begin_at", f["begin_at"]), unix_seconds("end_at", f["end_at"])
        if start > end:
            raise InvalidArgumentError("begin_at must not be after end_at")
        task_type = f.get("task_type")
        params = {
            "sn": require_text("sn", f["sn"]),
            "begin_at": start,
            "end_at": end,
            "name": f.get("name"),
            "task_type": None if task_type is None else str(task_type),
            "status": f.get("status"),
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
        page_size: int = DEFAULT_PAGE_SIZE,
        project_uuid: str | None = None,
        **filters: Unpack[TaskFilters],
    ) -> AsyncIterator[FlightTask]:
        """Every task matching the filters of :meth:`list_page`, fetching pages lazily."""
        fixed = {"page_size": page_size, "project_uuid": project_uuid, **filters}
        async for task in self._iter_all(self.list_page, **fixed):
            yield task

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
