"""Flight tasks.

Validation: ``name``/``wayline_uuid``/``sn``/``task_type`` required, documented enum values
checked, and the documented schedule rules (``timed`` needs ``begin_at``; ``recurring``
``begin_at``, ``end_at`` and start times; ``continuous`` ``begin_at``, ``end_at`` and periods)
→ 200500; a wayline or task of another project or unknown → 200404 (aiodji's choice: the V1
docs give no task error codes).

Scheduling: a recurring task becomes one run per start time, a continuous one a run per period
(``begin_at``/``end_at`` the period), so ``GET /flight-task/list`` over a time window shows the
runs inside it; the create reply names the first run. Lifecycle in
:mod:`aiodji.sim.mission_state`: each ``GET /flight-task/{uuid}`` advances the task one step
after answering.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..envelope import (
    CODE_BAD_REQUEST,
    ApiError,
    in_project,
    ok,
    paged,
    project_of,
    project_scoped,
    read_json,
    required_str,
)
from ..mission_state import SimTask

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]

BASE: Final = "/openapi/v0.1/flight-task"
TASK_TYPES: Final = frozenset({"immediate", "timed", "recurring", "continuous"})
# Documented value sets only (docs/explanation/api-notes.md#tasks); rth_mode,
# out_of_control_action_in_flight and repeat_type
# have incomplete lists, so any string is accepted for them.
CLOSED_ENUMS: Final = {
    "wayline_precision_type": frozenset({"gps", "rtk"}),
    "resumable_status": frozenset({"auto", "manual"}),
}
OPEN_STRINGS: Final = (
    "landing_dock_sn",
    "rth_mode",
    "out_of_control_action_in_flight",
    "time_zone",
    "repeat_type",
)
INT_RANGES: Final = {
    "rth_altitude": (20, 1500),  # metres, the DJI dock range
    "min_battery_capacity": (0, 100),
    "begin_at": (0, 2**40),
    "latest_begin_at": (0, 2**40),
    "end_at": (0, 2**40),
}
TIME_RANGE: Final = (0, 2**40)
# what each task type needs besides the always-required fields (the documented rules)
NEEDS: Final = {
    "timed": ("begin_at",),
    "recurring": ("begin_at", "end_at", "recurring_task_start_time_list"),
    "continuous": ("begin_at", "end_at", "continuous_task_periods"),
}
STATUS_CHANGES: Final = {
    "suspended": ("waiting", "suspended"),
    "restored": ("suspended", "waiting"),
}


def _optional_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    low, high = INT_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(CODE_BAD_REQUEST, f"invalid parameter: {key}")
    return value


def _is_time(value: object) -> bool:
    low, high = TIME_RANGE
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _schedule(body: dict[str, Any]) -> dict[str, Any]:
    """The schedule fields of a create body, checked (unset ones dropped)."""
    out: dict[str, Any] = {}
    starts = body.get("recurring_task_start_time_list")
    if starts is not None:
        if not isinstance(starts, list) or not all(_is_time(t) for t in starts):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: recurring_task_start_time_list")
        out["recurring_task_start_time_list"] = sorted(starts)
    periods = body.get("continuous_task_periods")
    if periods is not None:
        good = isinstance(periods, list) and all(
            isinstance(p, list) and len(p) == 2 and all(map(_is_time, p)) and p[0] < p[1]
            for p in periods
        )
        if not good:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: continuous_task_periods")
        out["continuous_task_periods"] = sorted(periods)
    option = body.get("repeat_option")
    if option is not None:
        if not isinstance(option, dict):
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: repeat_option")
        out["repeat_option"] = option
    return out


def _runs(body: dict[str, Any], now: int) -> list[tuple[int, int | None]]:
    """(begin_at, end_at) of each run a created task makes."""
    if body["task_type"] == "recurring":
        return [(t, None) for t in body["recurring_task_start_time_list"]]
    if body["task_type"] == "continuous":
        return [(a, b) for a, b in body["continuous_task_periods"]]
    return [(body.get("begin_at", now), None)]


def _query_int(request: web.Request, key: str) -> int:
    raw = request.query.get(key, "")
    try:
        return int(float(raw))
    except ValueError:
        raise ApiError(CODE_BAD_REQUEST, f"invalid parameter: {key}") from None


def _validated_body(body: dict[str, Any]) -> dict[str, Any]:
    """The create body with only known, checked fields (unset ones dropped)."""
    out: dict[str, Any] = {
        key: required_str(body, key) for key in ("name", "wayline_uuid", "sn", "task_type")
    }
    if out["task_type"] not in TASK_TYPES:
        raise ApiError(CODE_BAD_REQUEST, "invalid parameter: task_type")
    for key, allowed in CLOSED_ENUMS.items():
        if body.get(key) is not None:
            if body[key] not in allowed:
                raise ApiError(CODE_BAD_REQUEST, f"invalid parameter: {key}")
            out[key] = body[key]
    for key in OPEN_STRINGS:
        if body.get(key) is not None:
            out[key] = required_str(body, key)
    for key in INT_RANGES:
        value = _optional_int(body, key)
        if value is not None:
            out[key] = value
    out.update(_schedule(body))
    for key in NEEDS.get(out["task_type"], ()):
        if not out.get(key):
            raise ApiError(
                CODE_BAD_REQUEST, f"invalid parameter: {key} (required for {out['task_type']})"
            )
    if "end_at" in out and out["end_at"] < out.get("begin_at", 0):
        raise ApiError(CODE_BAD_REQUEST, "invalid parameter: end_at before begin_at")
    if "latest_begin_at" in out and out["latest_begin_at"] < out.get("begin_at", 0):
        raise ApiError(CODE_BAD_REQUEST, "invalid parameter: latest_begin_at before begin_at")
    return out


def register(app: web.Application, sim: Simulator) -> None:
    missions = sim.state.missions

    def lookup(request: web.Request) -> SimTask:
        task = missions.tasks.get(request.match_info["task_uuid"])
        return in_project(task, project_of(request), "flight task not found")

    @project_scoped
    async def create(request: web.Request) -> web.StreamResponse:
        project = project_of(request)
        body = _validated_body(await read_json(request))
        in_project(missions.waylines.get(body["wayline_uuid"]), project, "wayline not found")
        drone_sn = ""
        for pair in sim.state.device_pairs(project):
            if pair.gateway.sn == body["sn"]:
                drone_sn = pair.drone.sn if pair.drone is not None else ""
                break
        else:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: sn (not a dock of this project)")
        runs = [
            missions.add_task(project, body, begin, drone_sn=drone_sn, end_at=end)
            for begin, end in _runs(body, int(time.time()))
        ]
        return ok({"task_uuid": runs[0].uuid})  # flat, as the reference client reads it

    @project_scoped
    async def update_status(request: web.Request) -> web.StreamResponse:
        task = lookup(request)
        body = await read_json(request)
        change = body.get("status")
        if not isinstance(change, str) or change not in STATUS_CHANGES:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: status")
        before, after = STATUS_CHANGES[change]
        if task.status != before:
            raise ApiError(CODE_BAD_REQUEST, f"a {task.status} task cannot be {change}")
        task.status = after
        return ok(omit_data=True)

    @project_scoped
    async def get(request: web.Request) -> web.StreamResponse:
        task = lookup(request)
        reply = ok(task.to_wire())
        missions.advance_task(task.uuid)
        return reply

    @project_scoped
    async def list_tasks(request: web.Request) -> web.StreamResponse:
        project = project_of(request)
        query = request.query
        sn = query.get("sn")
        if not sn:
            raise ApiError(CODE_BAD_REQUEST, "invalid parameter: sn")
        begin_at, end_at = _query_int(request, "begin_at"), _query_int(request, "end_at")
        name, task_type, status = query.get("name"), query.get("task_type"), query.get("status")
        matched = [
            t.to_wire()
            for t in missions.tasks.values()
            if t.project_uuid == project
            and t.sn == sn
            and begin_at <= t.begin_at <= end_at
            and (not name or name in t.name)
            and (not task_type or t.task_type == task_type)
            and (not status or t.status == status)
        ]
        return paged(request, matched)

    @project_scoped
    async def media(request: web.Request) -> web.StreamResponse:
        task = lookup(request)
        return ok({"list": missions.uploaded_media(task)})

    @project_scoped
    async def track(request: web.Request) -> web.StreamResponse:
        return ok(lookup(request).track_wire())

    app.router.add_post(BASE, create)
    app.router.add_get(BASE + "/list", list_tasks)  # before the {task_uuid} route
    app.router.add_get(BASE + "/{task_uuid}", get)
    app.router.add_put(BASE + "/{task_uuid}/status", update_status)
    app.router.add_get(BASE + "/{task_uuid}/media", media)
    app.router.add_get(BASE + "/{task_uuid}/track", track)
