"""Simulator state for flight tasks, waylines, 3D models and map annotations
(docs/explanation/api-notes.md#tasks).

Deterministic lifecycles, no wall clock: a task or a model moves one step each time it is read
with its detail endpoint (``GET /flight-task/{uuid}``, ``GET /model/{id}``), or when a test calls
:meth:`MissionState.advance_task` / :meth:`MissionState.advance_model` / :meth:`MissionState.tick`.

Tasks: ``waiting → executing → success`` (``suspended`` by ``PUT …/status`` until ``restored``).
Models: ``waiting → processing → success``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import uuid
from typing import Any

import attrs

__all__ = ["MissionState", "SimAnnotation", "SimModel", "SimTask", "SimWayline"]

BASE_MS = 1_700_000_000_000
MEDIA_PER_TASK = 4
TRACK_POINTS = 12
EARTH_RADIUS_M = 6_371_000.0

# create-body fields a task's info does not repeat: its own times are set per run
NOT_ECHOED = frozenset(
    {
        "begin_at",
        "latest_begin_at",
        "end_at",
        "recurring_task_start_time_list",
        "continuous_task_periods",
        "repeat_option",
    }
)
TASK_STEPS = {"waiting": "executing", "executing": "success"}
MODEL_STEPS = {"waiting": ("processing", 50), "processing": ("success", 100)}


def _path_length(points: list[tuple[float, float]]) -> float:
    return sum(_haversine(a, b) for a, b in itertools.pairwise(points))


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres between two (lat, lng) pairs."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _rfc3339(unix: int | None) -> str | None:
    """A unix time as live task replies send it: an RFC 3339 string
    (docs/explanation/api-notes.md#live)."""
    if unix is None:
        return None
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).isoformat().replace("+00:00", "Z")


@attrs.define(slots=True)
class SimWayline:
    id: str
    project_uuid: str
    name: str
    object_key: str
    template_types: list[str]
    waypoints: list[tuple[float, float]]  # (lat, lng)
    drone_model_key: str = "0-91-0"
    payload_model_keys: list[str] = attrs.field(factory=lambda: ["1-81-0"])
    user_name: str = "sim-admin"
    create_time: int = BASE_MS
    update_time: int = BASE_MS

    @property
    def distance(self) -> float:
        return round(_path_length(self.waypoints), 1)

    def to_wire(self) -> dict[str, Any]:
        # docs/explanation/api-notes.md#live list item
        return {
            "id": self.id,
            "name": self.name,
            "size": 2048 + 64 * len(self.waypoints),
            "template_types": list(self.template_types),
            "update_time": self.update_time,
            "device_model_key": self.drone_model_key,
            "payload_information": [
                {"domain": "1", "type": key.split("-")[1], "lens_type": "wide"}
                for key in self.payload_model_keys
            ],
        }

    def to_wire_detail(self, base_url: str) -> dict[str, Any]:
        return {
            **self.to_wire(),
            "download_url": f"{base_url}/{self.object_key}?signature=sim-{self.id[:8]}",
            "distance": self.distance,
            "wayline_point_nums": len(self.waypoints),
        }


@attrs.define(slots=True)
class SimTask:
    uuid: str
    project_uuid: str
    body: dict[str, Any]  # the validated create body, echoed in the task info
    begin_at: int
    drone_sn: str = ""
    status: str = "waiting"
    end_at: int | None = None
    expected_files: int = 0
    uploaded_files: int = 0
    track: list[dict[str, Any]] = attrs.field(factory=list)
    media: list[dict[str, Any]] = attrs.field(factory=list)

    @property
    def sn(self) -> str:
        return str(self.body["sn"])

    @property
    def name(self) -> str:
        return str(self.body["name"])

    @property
    def task_type(self) -> str:
        return str(self.body["task_type"])

    @property
    def folder_id(self) -> int:
        return int(self.uuid.replace("-", "")[:7], 16)  # stable per task, an int as live

    def to_wire(self) -> dict[str, Any]:
        out = {k: v for k, v in self.body.items() if k not in NOT_ECHOED}
        option = self.body.get("repeat_option") or {}
        out.update(  # the detail's repetition fields: week_of_month one integer (doc-client)
            interval=option.get("interval", 0),
            days_of_month=option.get("days_of_month"),
            days_of_week=option.get("days_of_week"),
            week_of_month=option.get("week_of_month", 0),
        )
        out.update(
            uuid=self.uuid,
            status=self.status,
            # live times are RFC 3339 strings (docs/explanation/api-notes.md#live), never ints
            begin_at=_rfc3339(self.begin_at),
            end_at=_rfc3339(self.end_at),
            run_at=_rfc3339(self.begin_at if self.status != "waiting" else None),
            completed_at=_rfc3339(self.end_at if self.status == "success" else None),
            folder_id=self.folder_id,
            current_waypoint_index=0,
            total_waypoints=len(self.track) or None,
            media_upload_status="uploaded" if self.status == "success" else "waiting",
            is_break_point_resume=False,
            operations=None,
            exceptions=None,
            folder_info={
                "folder_id": self.folder_id,
                "expected_file_count": self.expected_files,
                "uploaded_file_count": self.uploaded_files,
            },
        )
        if "latest_begin_at" in self.body:
            out["latest_begin_at"] = _rfc3339(self.body["latest_begin_at"])
        return out

    def track_wire(self) -> dict[str, Any]:
        coords = [(p["latitude"], p["longitude"]) for p in self.track]
        distance = _path_length(coords)
        duration = (
            (self.track[-1]["timestamp"] - self.track[0]["timestamp"]) / 1000 if coords else 0
        )
        return {  # nested as live (docs/explanation/api-notes.md#live)
            "name": self.name,
            "status": self.status,
            "wayline_uuid": self.body.get("wayline_uuid"),
            "track": {
                "track_id": f"track-{self.uuid}",
                "drone_sn": self.drone_sn,
                "flight_distance": round(distance, 1),
                "flight_duration": float(duration),
                "points": list(self.track),
            },
        }


@attrs.define(slots=True)
class SimModel:
    id: str
    project_uuid: str
    name: str
    reconstruction_type: list[str]
    created_at: int
    status: str = "waiting"
    progress: int = 0
    updated_at: int = 0

    @property
    def int_id(self) -> int:
        # live model ids are ints (docs/explanation/api-notes.md#live)
        return int(self.id.replace("-", "")[:8], 16)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.int_id,
            "name": self.name,
            "file_type": "b3dm",
            "show_on_map": self.status == "success",
            "size": 1_000_000 if self.status == "success" else 0,
            "create_at": self.created_at * 1000,  # ms, as live list replies
            "update_at": (self.updated_at or self.created_at) * 1000,
        }

    def to_wire_detail(self, base_url: str) -> dict[str, Any]:
        out = self.to_wire()
        out["user_name"] = "sim-admin"
        if self.status == "success":
            out["preview_url"] = f"{base_url}/models/{self.int_id}/preview?signature=sim"
            out["url"] = f"{base_url}/models/{self.int_id}/model.zip?signature=sim"
        return out


@attrs.define(slots=True)
class SimAnnotation:
    id: str
    project_uuid: str
    name: str
    desc: str
    resource: dict[str, Any]


@attrs.define(slots=True, eq=False)
class MissionState:
    """Tasks moving through their statuses, waylines, reconstruction models, annotations."""

    waylines: dict[str, SimWayline] = attrs.field(factory=dict)
    tasks: dict[str, SimTask] = attrs.field(factory=dict)
    models: dict[str, SimModel] = attrs.field(factory=dict)
    annotations: dict[str, SimAnnotation] = attrs.field(factory=dict)
    storage_url: str = "https://sim-storage.invalid"
    rng: random.Random = attrs.field(factory=lambda: random.Random(7))

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ---- waylines -----------------------------------------------------------------------------

    def add_wayline(
        self,
        project_uuid: str,
        name: str,
        object_key: str,
        *,
        center: tuple[float, float] = (22.5, 113.9),
        template_types: list[str] | None = None,
    ) -> SimWayline:
        """A wayline with a few waypoints around ``center`` (lat, lng)."""
        lat, lng = center
        points = [
            (
                round(lat + self.rng.uniform(-0.005, 0.005), 6),
                round(lng + self.rng.uniform(-0.005, 0.005), 6),
            )
            for _ in range(self.rng.randint(4, 9))
        ]
        line = SimWayline(
            id=self.new_id(),
            project_uuid=project_uuid,
            name=name,
            object_key=object_key,
            template_types=template_types or ["waypoint"],
            waypoints=points,
            create_time=BASE_MS + len(self.waylines) * 1000,
            update_time=BASE_MS + len(self.waylines) * 1000,
        )
        self.waylines[line.id] = line
        return line

    def project_waylines(self, project_uuid: str) -> list[SimWayline]:
        return [w for w in self.waylines.values() if w.project_uuid == project_uuid]

    # ---- tasks --------------------------------------------------------------------------------

    def add_task(
        self,
        project_uuid: str,
        body: dict[str, Any],
        begin_at: int,
        drone_sn: str = "",
        end_at: int | None = None,
    ) -> SimTask:
        task = SimTask(
            uuid=self.new_id(),
            project_uuid=project_uuid,
            body=dict(body),
            begin_at=begin_at,
            drone_sn=drone_sn,
            end_at=end_at,
        )
        self.tasks[task.uuid] = task
        return task

    def advance_task(self, task_uuid: str) -> SimTask:
        """One lifecycle step (no-op once finished or while suspended)."""
        task = self.tasks[task_uuid]
        nxt = TASK_STEPS.get(task.status)
        if nxt == "executing":
            self._take_off(task)
        elif nxt == "success":
            task.uploaded_files = task.expected_files
            task.end_at = (
                task.begin_at
                + int(task.track[-1]["timestamp"] - task.track[0]["timestamp"]) // 1000
            )
        if nxt is not None:
            task.status = nxt
        return task

    def _take_off(self, task: SimTask) -> None:
        line = self.waylines.get(str(task.body.get("wayline_uuid")))
        waypoints = line.waypoints if line is not None else [(22.5, 113.9), (22.501, 113.901)]
        start_ms = task.begin_at * 1000
        task.track = []
        for i in range(TRACK_POINTS):
            # walk the waypoints linearly
            pos = i * (len(waypoints) - 1) / (TRACK_POINTS - 1)
            k = min(int(pos), len(waypoints) - 2)
            frac = pos - k
            (la, lo), (lb, lob) = waypoints[k], waypoints[k + 1]
            task.track.append(
                {
                    "timestamp": start_ms + i * 5_000,
                    "latitude": round(la + (lb - la) * frac, 7),
                    "longitude": round(lo + (lob - lo) * frac, 7),
                    "height": round(60.0 + 20.0 * math.sin(i / 3), 1),
                }
            )
        task.expected_files = MEDIA_PER_TASK
        task.uploaded_files = MEDIA_PER_TASK // 2
        task.media = []
        for i in range(MEDIA_PER_TASK):
            media_id = self.new_id()
            ext, kind = ("mp4", "video") if i == MEDIA_PER_TASK - 1 else ("jpg", "photo")
            key = f"media/{task.uuid}/DJI_{i + 1:04d}.{ext}"
            signed = f"{self.storage_url}/{key}?signature=sim-{media_id[:8]}"
            task.media.append(
                {
                    "uuid": media_id,
                    "name": f"DJI_{i + 1:04d}.{ext}",
                    "file_type": kind,
                    "suffix": ext,
                    "size": 4_000_000 + i * 1_000,
                    "create_at": _rfc3339(task.begin_at + i * 10),
                    "update_at": _rfc3339(task.begin_at + i * 10),
                    "preview_url": f"{signed}&x-preview=1",
                    "original_url": signed,
                }
            )

    def uploaded_media(self, task: SimTask) -> list[dict[str, Any]]:
        return task.media[: task.uploaded_files]

    # ---- models -------------------------------------------------------------------------------

    def add_model(
        self, project_uuid: str, name: str, reconstruction_type: list[str], created_at: int
    ) -> SimModel:
        model = SimModel(
            id=self.new_id(),
            project_uuid=project_uuid,
            name=name,
            reconstruction_type=list(reconstruction_type),
            created_at=created_at,
        )
        self.models[model.id] = model
        return model

    def advance_model(self, model_id: str) -> SimModel:
        model = self.models[model_id]
        step = MODEL_STEPS.get(model.status)
        if step is not None:
            model.status, model.progress = step
            model.updated_at = model.created_at + model.progress * 6
        return model

    def project_models(self, project_uuid: str) -> list[SimModel]:
        return [m for m in self.models.values() if m.project_uuid == project_uuid]

    # ---- everything ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance every task and model one step."""
        for task_uuid in list(self.tasks):
            self.advance_task(task_uuid)
        for model_id in list(self.models):
            self.advance_model(model_id)
