"""In-memory state of the FlightHub 2 simulator.

Plain attrs records and dicts; wire shapes are produced by ``to_wire()`` methods
(docs/explanation/api-notes.md#projects).
Nothing here knows about HTTP.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import attrs

from .device_state import DeviceOpsState
from .mission_state import MissionState

__all__ = [
    "CONVERTER_STATES",
    "SCHEMAS",
    "Converter",
    "Device",
    "DevicePair",
    "Project",
    "SimState",
]

SCHEMAS = frozenset({"rtmp", "gb28181", "rtsp"})
CONVERTER_STATES = ("initialized", "running", "stopped", "error", "failed")

_DOCK_MODEL: dict[str, str] = {
    "key": "3-2-0",
    "domain": "3",
    "type": "2",
    "sub_type": "0",
    "name": "DJI Dock 2",
    "class": "airport",
}
_DRONE_MODEL: dict[str, str] = {
    "key": "0-91-0",
    "domain": "0",
    "type": "91",
    "sub_type": "0",
    "name": "Matrice 3D",
    "class": "drone",
}
DOCK_CAMERA_INDEX = "165-0-7"
DRONE_CAMERA_INDEX = "81-0-0"
_LENSES = ("wide", "zoom", "ir")
_BASE_TS = 1_700_000_000  # 2023-11-14, unix seconds


def _now_ms() -> str:
    return str(time.time_ns() // 1_000_000)


@attrs.define(slots=True)
class Project:
    uuid: str
    name: str
    org_uuid: str
    introduction: str = ""
    latitude: float = 0.0
    longitude: float = 0.0
    created_at: int = _BASE_TS
    updated_at: int = _BASE_TS

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "introduction": self.introduction,
            "uuid": self.uuid,
            "org_uuid": self.org_uuid,
            "project_work_center_point": {
                "latitude": self.latitude,
                "longitude": self.longitude,
            },
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@attrs.define(slots=True)
class Device:
    sn: str
    callsign: str
    project_uuid: str
    device_model: dict[str, str]
    camera_list: list[dict[str, Any]] | None
    device_online_status: bool = True
    mode_code: int = 0

    @property
    def is_gateway(self) -> bool:
        return self.device_model.get("class") != "drone"

    def camera_indexes(self) -> Iterator[str]:
        for cam in self.camera_list or ():
            yield str(cam.get("camera_index", ""))

    def to_wire(self) -> dict[str, Any]:
        return {
            "sn": self.sn,
            "callsign": self.callsign,
            "device_model": dict(self.device_model),
            "device_online_status": self.device_online_status,
            "mode_code": self.mode_code,
            "camera_list": self.camera_list,
        }


@attrs.define(slots=True)
class DevicePair:
    """A dock ("gateway") and its aircraft ("drone")."""

    gateway: Device
    drone: Device | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway.to_wire(),
            "drone": self.drone.to_wire() if self.drone is not None else None,
        }


@attrs.define(slots=True)
class Converter:
    converter_id: str
    project_uuid: str
    converter_name: str
    sn: str
    camera: str
    schema: str
    bypass_option: dict[str, Any]
    video: str = ""
    video_type: str = "normal"
    state: str = "initialized"
    code: int = 0
    auto_push_stream: bool = False
    device_online_status: bool = True
    device_callsign: str = ""
    update_ts: str = attrs.field(factory=_now_ms)

    @property
    def url(self) -> str | None:
        url = self.bypass_option.get("url")
        return url if isinstance(url, str) else None

    def to_wire(self, v1_names: bool = False) -> dict[str, Any]:
        # the sources disagree on two names (docs/explanation/api-notes.md#live): V1
        # camera_index/schema_option, V2 the others
        return {
            "converter_id": self.converter_id,
            "converter_name": self.converter_name,
            "sn": self.sn,
            ("camera_index" if v1_names else "camera"): self.camera,
            "video": self.video,
            "video_type": self.video_type,
            "schema": self.schema,
            ("schema_option" if v1_names else "bypass_option"): self.bypass_option,
            "state": self.state,
            "code": self.code,
            "auto_push_stream": self.auto_push_stream,
            "device_online_status": self.device_online_status,
            "device_callsign": self.device_callsign,
            "update_ts": self.update_ts,
        }


def _forward_state(enabled: bool, online: bool, current: str) -> str:
    if enabled:
        return "running" if online else "stopped"
    return "stopped" if current != "initialized" else "initialized"


@attrs.define(slots=True, eq=False)
class SimState:
    """The organization: projects, device pairs, converters.

    Indexes are kept in step by the methods below; mutate through them rather than the dicts.
    """

    org_uuid: str
    converter_limit: int = 20
    # where sources disagree on a reply's spelling (docs/explanation/api-notes.md#live), this
    # instance answers in the V1 one
    # (converter camera_index/schema_option, wrapped device state); chosen per seed
    v1_names: bool = False
    projects: dict[str, Project] = attrs.field(factory=dict)
    devices: dict[str, Device] = attrs.field(factory=dict)
    pairs: dict[str, list[DevicePair]] = attrs.field(factory=dict)
    converters: dict[str, Converter] = attrs.field(factory=dict)
    create_counts: Counter[str] = attrs.field(factory=Counter)
    rng: random.Random = attrs.field(factory=lambda: random.Random(0))
    device_ops: DeviceOpsState = attrs.field(factory=DeviceOpsState)
    missions: MissionState = attrs.field(factory=MissionState)
    _by_project: dict[str, dict[str, Converter]] = attrs.field(factory=dict, alias="by_project")
    _by_name: dict[str, str] = attrs.field(factory=dict, alias="by_name")
    _by_url: dict[str, str] = attrs.field(factory=dict, alias="by_url")
    _by_sn: dict[str, dict[str, Converter]] = attrs.field(factory=dict, alias="by_sn")

    # ---- construction -------------------------------------------------------------------------

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    @classmethod
    def seeded(
        cls,
        projects: int = 3,
        docks_per_project: int = 2,
        converters_per_project: int = 2,
        seed: int = 0,
        converter_limit: int = 20,
    ) -> SimState:
        """A deterministic organization.

        Project ``p`` (1-based) is "Project pp"; its dock ``d`` has serial ``7CTXMpppddd0001``,
        callsign "Dock pp-dd", and an aircraft ``1581FpppDddd0001`` ("M3D pp-dd"). Converter
        ``c`` of a project reads aircraft ``c % docks`` with the lens cycling wide/zoom/ir, is
        named like ``dock-0101-wide`` and pushes to ``rtmp://127.0.0.1/live/<n>``; even-numbered
        converters are enabled ("running"), odd ones disabled ("stopped"). Seeding ignores
        ``converter_limit`` (only the create endpoint enforces it).
        """
        rng = random.Random(seed)
        st = cls(
            org_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            converter_limit=converter_limit,
            rng=rng,
            v1_names=seed % 2 == 1,
        )
        n = 0
        for p in range(1, projects + 1):
            proj = Project(
                uuid=st.new_uuid(),
                name=f"Project {p:02d}",
                org_uuid=st.org_uuid,
                introduction=f"Simulated project {p}",
                latitude=round(22.5 + rng.uniform(-1, 1), 6),
                longitude=round(113.9 + rng.uniform(-1, 1), 6),
                created_at=_BASE_TS + p * 86_400,
                updated_at=_BASE_TS + p * 86_400 + 3_600,
            )
            st.add_project(proj)
            st.missions.add_wayline(
                proj.uuid,
                f"Patrol {p:02d}",
                f"wayline/{proj.uuid}/patrol-{p:02d}.kmz",
                center=(proj.latitude, proj.longitude),
            )
            drones: list[Device] = []
            for d in range(1, docks_per_project + 1):
                _, drone = st.add_dock(
                    proj.uuid,
                    dock_sn=f"7CTXM{p:03d}{d:03d}0001",
                    dock_callsign=f"Dock {p:02d}-{d:02d}",
                    drone_sn=f"1581F{p:03d}D{d:03d}0001",
                    drone_callsign=f"M3D {p:02d}-{d:02d}",
                )
                drones.append(drone)
            if not drones:
                continue
            for c in range(converters_per_project):
                k, di = divmod(c, len(drones))
                drone = drones[di]
                lens = _LENSES[k % len(_LENSES)]
                suffix = f"-{k // len(_LENSES)}" if k >= len(_LENSES) else ""
                n += 1
                conv = st.add_converter(
                    proj.uuid,
                    converter_name=f"dock-{p:02d}{di + 1:02d}-{lens}{suffix}",
                    sn=drone.sn,
                    camera_index=DRONE_CAMERA_INDEX,
                    schema="rtmp",
                    schema_option={"url": f"rtmp://127.0.0.1/live/{n}"},
                    count=False,
                )
                conv.video_type = lens
                conv.update_ts = str((_BASE_TS + p * 86_400 + 7_200) * 1000 + c)
                st.set_converter_enabled(conv.converter_id, c % 2 == 0, touch=False)
        return st

    def add_project(self, project: Project) -> Project:
        self.projects[project.uuid] = project
        self.pairs.setdefault(project.uuid, [])
        self._by_project.setdefault(project.uuid, {})
        return project

    def add_dock(
        self,
        project_uuid: str,
        *,
        dock_sn: str,
        dock_callsign: str,
        drone_sn: str,
        drone_callsign: str,
        online: bool = True,
    ) -> tuple[Device, Device]:
        """Add a dock and its aircraft to a project."""
        gateway = Device(
            sn=dock_sn,
            callsign=dock_callsign,
            project_uuid=project_uuid,
            device_model=dict(_DOCK_MODEL),
            camera_list=[
                {
                    "camera_index": DOCK_CAMERA_INDEX,
                    "camera_position": "outdoor",
                    "available_camera_positions": ["indoor", "outdoor"],
                }
            ],
            device_online_status=online,
            mode_code=0,
        )
        drone = Device(
            sn=drone_sn,
            callsign=drone_callsign,
            project_uuid=project_uuid,
            device_model=dict(_DRONE_MODEL),
            camera_list=[
                {
                    "camera_index": DRONE_CAMERA_INDEX,
                    "lens_list": [
                        {"lens_type": "wide", "available_lens_types": list(_LENSES)},
                    ],
                }
            ],
            device_online_status=online,
            mode_code=0,
        )
        self.devices[dock_sn] = gateway
        self.devices[drone_sn] = drone
        self.pairs.setdefault(project_uuid, []).append(DevicePair(gateway, drone))
        return gateway, drone

    # ---- queries ------------------------------------------------------------------------------

    def device_pairs(self, project_uuid: str | None = None) -> list[DevicePair]:
        """Pairs of one project, or of the whole organization (project order)."""
        if project_uuid is not None:
            return self.pairs.get(project_uuid, [])
        out: list[DevicePair] = []
        for pairs in self.pairs.values():
            out.extend(pairs)
        return out

    def device_in_project(self, project_uuid: str, sn: str) -> Device | None:
        """The device with serial ``sn`` if it belongs to the project, else None."""
        dev = self.devices.get(sn)
        return dev if dev is not None and dev.project_uuid == project_uuid else None

    def converters_of(self, project_uuid: str) -> list[Converter]:
        """Converters of one project, in creation order."""
        return list(self._by_project.get(project_uuid, {}).values())

    def project_converters(self, project_uuid: str) -> dict[str, Converter]:
        """The live (read-only, please) id → converter index of a project."""
        return self._by_project.get(project_uuid, {})

    def converter_by_name(self, name: str) -> Converter | None:
        cid = self._by_name.get(name)
        return self.converters.get(cid) if cid is not None else None

    def converter_with_url(self, url: str) -> Converter | None:
        cid = self._by_url.get(url)
        return self.converters.get(cid) if cid is not None else None

    # ---- mutations ----------------------------------------------------------------------------

    def add_converter(
        self,
        project_uuid: str,
        *,
        converter_name: str,
        sn: str,
        camera_index: str,
        schema: str,
        schema_option: dict[str, Any],
        count: bool = True,
    ) -> Converter:
        """Store a converter without validation (the route validates). Returns the record."""
        dev = self.devices.get(sn)
        conv = Converter(
            converter_id=self.new_uuid(),
            project_uuid=project_uuid,
            converter_name=converter_name,
            sn=sn,
            camera=camera_index,
            schema=schema,
            bypass_option=dict(schema_option),
            video=f"{sn}/{camera_index}/normal-0",
            device_online_status=dev.device_online_status if dev is not None else False,
            device_callsign=dev.callsign if dev is not None else "",
        )
        self.converters[conv.converter_id] = conv
        self._by_project.setdefault(project_uuid, {})[conv.converter_id] = conv
        self._by_name[converter_name] = conv.converter_id
        self._by_sn.setdefault(sn, {})[conv.converter_id] = conv
        url = conv.url
        if url is not None:
            self._by_url[url] = conv.converter_id
        if count:
            self.create_counts[converter_name] += 1
        return conv

    def set_converter_enabled(
        self, converter_id: str, enabled: bool, *, touch: bool = True
    ) -> Converter | None:
        conv = self.converters.get(converter_id)
        if conv is None:
            return None
        conv.auto_push_stream = enabled
        conv.state = "running" if enabled and conv.device_online_status else "stopped"
        if touch:
            conv.update_ts = _now_ms()
        return conv

    def destroy_converter(self, converter_id: str) -> bool:
        """Remove a converter (also simulates one vanishing server-side). False if unknown."""
        conv = self.converters.pop(converter_id, None)
        if conv is None:
            return False
        self._by_project.get(conv.project_uuid, {}).pop(converter_id, None)
        self._by_sn.get(conv.sn, {}).pop(converter_id, None)
        if self._by_name.get(conv.converter_name) == converter_id:
            del self._by_name[conv.converter_name]
        url = conv.url
        if url is not None and self._by_url.get(url) == converter_id:
            del self._by_url[url]
        return True

    def set_device_online(self, sn: str, online: bool) -> None:
        """Flip a device's online flag; its converters follow (running ⇄ stopped)."""
        dev = self.devices.get(sn)
        if dev is None:
            raise KeyError(sn)
        dev.device_online_status = online
        now = _now_ms()
        for conv in self._by_sn.get(sn, {}).values():
            conv.device_online_status = online
            new = _forward_state(conv.auto_push_stream, online, conv.state)
            if new != conv.state:
                conv.state = new
                conv.update_ts = now
