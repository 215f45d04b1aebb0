"""Models of flight tasks (docs/explanation/api-notes.md#tasks).

V1.0 uses string enums (the legacy Sync API used ints). Most value sets were seen only in client
code [secondary]; every enum here is an :class:`OpenStrEnum`, so a value the server adds is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum, aka
from aiodji.redact import masked_repr

__all__ = [
    "FlightTask",
    "FlightTaskCreate",
    "FlightTaskCreated",
    "FolderInfo",
    "OutOfControlAction",
    "RepeatType",
    "ResumableStatus",
    "RthMode",
    "TaskMedia",
    "TaskStatus",
    "TaskStatusChange",
    "TaskTrack",
    "TaskType",
    "Track",
    "TrackPoint",
    "WaylinePrecisionType",
]


class TaskType(OpenStrEnum):
    """When a task runs (docs/explanation/api-notes.md#tasks)."""

    IMMEDIATE = "immediate"
    TIMED = "timed"
    RECURRING = "recurring"
    CONTINUOUS = "continuous"


class TaskStatus(OpenStrEnum):
    """A task's execution status (docs/explanation/api-notes.md#tasks: ``executing`` documented,
    the rest [secondary])."""

    WAITING = "waiting"
    EXECUTING = "executing"
    SUCCESS = "success"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    FAILED = "failed"
    CANCELED = "canceled"  # V2 value; kept so a V1 server that sends it is recognised


class TaskStatusChange(OpenStrEnum):
    """The body of ``PUT /flight-task/{task_uuid}/status`` (docs/explanation/api-notes.md#tasks)."""

    SUSPENDED = "suspended"  # hang the task: it will not start
    RESTORED = "restored"  # un-hang it


class RthMode(OpenStrEnum):
    """Return-to-home mode (docs/explanation/api-notes.md#tasks: ``optimal`` seen;
    ``fixed``/``intelligent`` in a blog)."""

    OPTIMAL = "optimal"
    FIXED = "fixed"
    INTELLIGENT = "intelligent"


class WaylinePrecisionType(OpenStrEnum):
    GPS = "gps"
    RTK = "rtk"


class OutOfControlAction(OpenStrEnum):
    """What the aircraft does when it loses the link in flight
    (docs/explanation/api-notes.md#tasks; list not complete)."""

    RETURN_HOME = "return_home"
    CONTINUE_TASK = "continue_task"


class ResumableStatus(OpenStrEnum):
    """Whether an interrupted task resumes by itself (``auto``) or waits for a user."""

    AUTO = "auto"
    MANUAL = "manual"


class RepeatType(OpenStrEnum):
    """Repetition of a task (``nonrepeating`` documented; the others seen in another client)."""

    NONREPEATING = "nonrepeating"
    DAILY = "daily"
    WEEKLY = "weekly"
    ABSOLUTE_MONTHLY = "absolute_monthly"
    RELATIVE_MONTHLY = "relative_monthly"


@frozen(kw_only=True)
class FlightTaskCreate:
    """Body of ``POST /openapi/v0.1/flight-task`` (docs/explanation/api-notes.md#tasks, assembled
    from client code).

    Times are unix seconds. The documented rules (checked before sending): ``timed`` needs
    ``begin_at``; ``recurring`` needs ``begin_at``, ``end_at`` and
    ``recurring_task_start_time_list``; ``continuous`` needs ``begin_at``, ``end_at`` and
    ``continuous_task_periods`` (``[start, end]`` pairs); ``rth_altitude`` > 0. Unset (None)
    fields are not sent.
    """

    name: str
    wayline_uuid: str
    sn: str  # take-off dock
    task_type: TaskType
    landing_dock_sn: str | None = None  # leap-frog tasks only
    rth_altitude: int | None = None  # metres
    rth_mode: RthMode | None = None
    wayline_precision_type: WaylinePrecisionType | None = None
    out_of_control_action_in_flight: OutOfControlAction | None = None
    resumable_status: ResumableStatus | None = None
    time_zone: str | None = None  # IANA name, e.g. "Asia/Shanghai"
    repeat_type: RepeatType | None = None
    min_battery_capacity: int | None = None  # percent
    begin_at: int | None = None
    latest_begin_at: int | None = None
    end_at: int | None = None
    recurring_task_start_time_list: list[int] | None = None  # recurring: when each run starts
    continuous_task_periods: list[list[int]] | None = None  # continuous: [start, end] pairs
    repeat_option: dict[str, Any] | None = None  # an object with ``repeat_type``, sent as given


@frozen
class FlightTaskCreated:
    """Reply of a create: flat ``{"task_uuid"}`` (docs/explanation/api-notes.md#live); the Sync
    API's
    ``data.task {uuid, begin_at, wayline_validity_check_codes}`` is read too."""

    uuid: str = aka("task_uuid")
    begin_at: dt.datetime | None = None
    wayline_validity_check_codes: list[int] | None = None


@frozen
class FolderInfo:
    """The task's media folder: files the aircraft will produce vs files uploaded so far."""

    folder_id: int | str | None = None
    expected_file_count: int | None = None
    uploaded_file_count: int | None = None

    @property
    def complete(self) -> bool:
        return (
            self.expected_file_count is not None
            and self.uploaded_file_count is not None
            and self.uploaded_file_count >= self.expected_file_count
        )


@frozen
class FlightTask:
    """A flight task (docs/explanation/api-notes.md#tasks). Times are aware datetimes: live replies
    send RFC 3339
    strings, older sources unix seconds; both are read. ``folder_id`` is the ``task_folder_id``
    that :meth:`aiodji.resources.Models3D.create` needs."""

    uuid: str
    name: str | None = None
    status: TaskStatus | None = None
    task_type: TaskType | None = None
    sn: str | None = None
    landing_dock_sn: str | None = None
    wayline_uuid: str | None = None
    folder_info: FolderInfo | None = None
    folder_id: int | str | None = None
    begin_at: dt.datetime | None = None
    end_at: dt.datetime | None = None
    run_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    latest_begin_at: dt.datetime | None = None
    time_zone: str | None = None
    repeat_type: RepeatType | None = None
    rth_altitude: int | None = None
    rth_mode: RthMode | None = None
    wayline_precision_type: WaylinePrecisionType | None = None
    out_of_control_action_in_flight: OutOfControlAction | None = None
    resumable_status: ResumableStatus | None = None
    min_battery_capacity: int | None = None
    current_waypoint_index: int | None = None
    total_waypoints: int | None = None
    media_upload_status: str | None = None
    is_break_point_resume: bool | None = None
    operations: Any = None  # shape not documented: kept as sent
    exceptions: Any = None
    interval: int | None = None
    days_of_month: list[int] = field(factory=list)
    days_of_week: list[int] = field(factory=list)
    week_of_month: int | None = None  # one integer (doc-client); a list sent is kept as sent

    @property
    def task_folder_id(self) -> int | str | None:
        """The media folder id (``folder_id``, or the one in ``folder_info``)."""
        if self.folder_id is not None:
            return self.folder_id
        return self.folder_info.folder_id if self.folder_info is not None else None


@frozen
class TaskMedia:
    """A photo or video a task produced (docs/explanation/api-notes.md#live: ``uuid, name,
    file_type, suffix, size,
    preview_url, original_url, create_at, update_at``). The URLs may be signed: they are masked
    in ``repr``."""

    uuid: str | None = None
    name: str | None = None
    file_type: str | None = None
    suffix: str | None = None
    size: int | None = None  # bytes
    create_at: dt.datetime | None = aka("created_at", default=None)
    update_at: dt.datetime | None = None
    preview_url: str | None = field(default=None, repr=masked_repr)
    original_url: str | None = field(default=None, repr=masked_repr)


@frozen
class TrackPoint:
    timestamp: int | float | str | None = None  # unit not documented: kept as sent
    latitude: float | None = None
    longitude: float | None = None
    height: float | None = None  # metres


@frozen
class Track:
    """The flown trajectory (docs/explanation/api-notes.md#live ``track``: ``flight_distance``
    metres, ``flight_duration``
    seconds, ``points``)."""

    track_id: str | None = None
    drone_sn: str | None = None
    flight_distance: float | None = None
    flight_duration: float | None = None
    points: list[TrackPoint] = field(factory=list)


@frozen
class TaskTrack:
    """Reply of the track call, nested as live (docs/explanation/api-notes.md#live):
    ``{name, status, wayline_uuid, track}``.

    The track's fields are also read through (``.points``, ``.distance`` ...)."""

    name: str | None = None
    status: TaskStatus | None = None
    wayline_uuid: str | None = None
    track: Track | None = None

    @property
    def points(self) -> list[TrackPoint]:
        return list(self.track.points) if self.track is not None else []

    @property
    def track_id(self) -> str | None:
        return self.track.track_id if self.track is not None else None

    @property
    def drone_sn(self) -> str | None:
        return self.track.drone_sn if self.track is not None else None

    @property
    def distance(self) -> float | None:
        return self.track.flight_distance if self.track is not None else None

    @property
    def duration(self) -> float | None:
        return self.track.flight_duration if self.track is not None else None
