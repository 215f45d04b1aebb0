"""Models of flight tasks (API.md §7).

V1.0 uses string enums (the legacy Sync API used ints). Most value sets were seen only in client
code [secondary]; every enum here is an :class:`OpenStrEnum`, so a value the server adds is kept.
"""

from __future__ import annotations

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum
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
    "TrackPoint",
    "WaylinePrecisionType",
]


class TaskType(OpenStrEnum):
    """When a task runs (§7.1)."""

    IMMEDIATE = "immediate"
    TIMED = "timed"
    RECURRING = "recurring"
    CONTINUOUS = "continuous"


class TaskStatus(OpenStrEnum):
    """A task's execution status (§7.3: ``executing`` documented, the rest [secondary])."""

    WAITING = "waiting"
    EXECUTING = "executing"
    SUCCESS = "success"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    FAILED = "failed"
    CANCELED = "canceled"  # V2 value; kept so a V1 server that sends it is recognised


class TaskStatusChange(OpenStrEnum):
    """The body of ``PUT /flight-task/{task_uuid}/status`` (§7.2)."""

    SUSPENDED = "suspended"  # hang the task: it will not start
    RESTORED = "restored"  # un-hang it


class RthMode(OpenStrEnum):
    """Return-to-home mode (§7.1: ``optimal`` seen; ``fixed``/``intelligent`` in a blog)."""

    OPTIMAL = "optimal"
    FIXED = "fixed"
    INTELLIGENT = "intelligent"


class WaylinePrecisionType(OpenStrEnum):
    GPS = "gps"
    RTK = "rtk"


class OutOfControlAction(OpenStrEnum):
    """What the aircraft does when it loses the link in flight (§7.1; list not complete)."""

    RETURN_HOME = "return_home"
    CONTINUE_TASK = "continue_task"


class ResumableStatus(OpenStrEnum):
    """Whether an interrupted task resumes by itself (``auto``) or waits for a user."""

    AUTO = "auto"
    MANUAL = "manual"


class RepeatType(OpenStrEnum):
    """Repetition of a recurring task (only ``nonrepeating`` was seen, §7.1)."""

    NONREPEATING = "nonrepeating"


@frozen(kw_only=True)
class FlightTaskCreate:
    """Body of ``POST /openapi/v0.1/flight-task`` (§7.1, assembled from client code).

    Times are unix seconds; ``begin_at`` is needed for ``timed`` tasks. Unset (None) fields are
    not sent.
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


@frozen
class FlightTaskCreated:
    """Reply of a create. The V1 shape was not read (§7.1): this is the Sync API's ``data.task``
    {``uuid``, ``begin_at``, ``wayline_validity_check_codes``}; aiodji also accepts a flat
    ``{"uuid": ...}`` or ``{"task_uuid": ...}``."""

    uuid: str
    begin_at: int | None = None
    wayline_validity_check_codes: list[int] | None = None


@frozen
class FolderInfo:
    """The task's media folder: files the aircraft will produce vs files uploaded so far."""

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
    """A flight task (§7.3; field names beyond uuid/name/status/sn/wayline_uuid/folder_info are the
    create body's, a guess). ``begin_at``/``end_at`` are unix seconds."""

    uuid: str
    name: str | None = None
    status: TaskStatus | None = None
    task_type: TaskType | None = None
    sn: str | None = None
    landing_dock_sn: str | None = None
    wayline_uuid: str | None = None
    folder_info: FolderInfo | None = None
    begin_at: int | None = None
    end_at: int | None = None
    latest_begin_at: int | None = None
    time_zone: str | None = None
    repeat_type: RepeatType | None = None
    rth_altitude: int | None = None
    rth_mode: RthMode | None = None
    wayline_precision_type: WaylinePrecisionType | None = None
    out_of_control_action_in_flight: OutOfControlAction | None = None
    resumable_status: ResumableStatus | None = None
    min_battery_capacity: int | None = None


@frozen
class TaskMedia:
    """A photo or video a task produced (§7.5: ``preview_url``/``original_url`` [secondary]; the
    other names are guesses). The URLs may be signed: they are masked in ``repr``."""

    uuid: str | None = None
    name: str | None = None
    media_type: str | None = None  # e.g. "photo" / "video" (guess)
    size: int | None = None  # bytes
    created_at: int | None = None
    preview_url: str | None = field(default=None, repr=masked_repr)
    original_url: str | None = field(default=None, repr=masked_repr)


@frozen
class TrackPoint:
    timestamp: int | None = None  # unix milliseconds (guess)
    latitude: float | None = None
    longitude: float | None = None
    height: float | None = None  # metres


@frozen
class TaskTrack:
    """A task's flown trajectory (§7.6; V2 names ``flight_distance`` metres, ``flight_duration``
    seconds)."""

    track_id: str | None = None
    drone_sn: str | None = None
    flight_distance: float | None = None
    flight_duration: float | None = None
    points: list[TrackPoint] = field(factory=list)

    @property
    def distance(self) -> float | None:
        return self.flight_distance

    @property
    def duration(self) -> float | None:
        return self.flight_duration
