"""Simulator state for device operations, livestreams, storage and members
(docs/explanation/api-notes.md#projects).

Camera position and lens live in the devices' own ``camera_list`` (``SimState.devices``), so
the device lists show the switch; everything else a device operation changes is kept here.
Generated data (thing models, HMS messages) is derived from the serial number, so it is the
same whatever order requests come in.
"""

from __future__ import annotations

import random
import secrets
import time
from typing import TYPE_CHECKING, Any, Final

import attrs

if TYPE_CHECKING:
    from .state import Device

__all__ = [
    "DEVICE_COMMANDS",
    "HMS_LEVELS",
    "MEMBER_ROLES",
    "OPENAPI_HOLDER",
    "QUALITIES",
    "DeviceOpsState",
    "LiveStreamGrant",
    "Member",
    "RtkSettings",
    "StsGrant",
]

DEVICE_COMMANDS: Final = frozenset(
    {
        "return_home",
        "return_specific_home",
        "return_home_cancel",
        "flighttask_pause",
        "flighttask_recovery",
    }
)
QUALITIES: Final = ("adaptive", "smooth", "ultra_high_definition")
MEMBER_ROLES: Final = frozenset({"project-member", "project-admin"})
HMS_LEVELS: Final = ("notification", "reminder", "warning")
# Who holds payload control after an OpenAPI acquire. Tests may put another holder (a pilot's
# remote controller) into ``controls`` to see acquire refused.
OPENAPI_HOLDER: Final = "openapi"
STS_LIFETIME: Final = 3600

_HMS_CATALOG: Final = (
    ("0x16100083", "flight_control", "Aircraft compass interference: move away from metal"),
    ("0x1B030019", "vision", "Obstacle sensing unavailable in low light"),
    ("0x19000020", "battery", "Battery temperature low: warming up before take-off"),
    ("0x1A420040", "dock", "Dock air conditioner is cooling"),
    ("0x1C200405", "camera", "Camera storage almost full"),
    ("0x16080051", "rtk", "RTK not converged: positioning accuracy reduced"),
)


@attrs.define(slots=True)
class Member:
    user_id: str
    role: str
    nickname: str = ""


@attrs.define(slots=True)
class RtkSettings:
    host: str
    port: int
    account: str
    password: str = attrs.field(repr=False)
    mount_point: str


@attrs.define(slots=True)
class LiveStreamGrant:
    sn: str
    camera_index: str
    quality_type: str
    room_id: str
    token: str = attrs.field(repr=False)
    expire_ts: int

    def url(self, app_id: str) -> str:
        """The ``volc``-style playback info: a query string
        (docs/explanation/api-notes.md#livestream)."""
        return (
            f"app_id={app_id}&room_id={self.room_id}&token={self.token}"
            f"&user_id=openapi-viewer&expire_time={self.expire_ts}"
        )


@attrs.define(slots=True)
class StsGrant:
    project_uuid: str
    access_key_id: str
    access_key_secret: str = attrs.field(repr=False)
    security_token: str = attrs.field(repr=False)
    object_key_prefix: str
    expires_at: int


def _device_rng(sn: str) -> random.Random:
    return random.Random(f"aiodji-sim/{sn}")  # str seeds are stable across runs


@attrs.define(slots=True, eq=False)
class DeviceOpsState:
    """Who holds control of which payload, HMS messages, live streams, members, STS grants."""

    controls: dict[tuple[str, str], str] = attrs.field(factory=dict)
    hms: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)
    quality: dict[tuple[str, str], str] = attrs.field(factory=dict)
    commands: dict[str, list[str]] = attrs.field(factory=dict)
    rtk: dict[str, RtkSettings] = attrs.field(factory=dict)
    live_streams: dict[tuple[str, str], LiveStreamGrant] = attrs.field(factory=dict)
    members: dict[str, dict[str, Member]] = attrs.field(factory=dict)
    sts_grants: list[StsGrant] = attrs.field(factory=list)
    # thing-model values a test (or an operation) set on top of the generated snapshot
    overrides: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    # ---- control --------------------------------------------------------------------------

    def holder(self, sn: str, payload_index: str) -> str | None:
        return self.controls.get((sn, payload_index))

    def holds(self, sn: str, payload_index: str, who: str = OPENAPI_HOLDER) -> bool:
        return self.controls.get((sn, payload_index)) == who

    # ---- HMS ------------------------------------------------------------------------------

    def hms_of(self, device: Device) -> list[dict[str, Any]]:
        """The device's health messages: 0-3 drawn from a small catalog on first use."""
        items = self.hms.get(device.sn)
        if items is None:
            rng = _device_rng(device.sn)
            picks = rng.sample(_HMS_CATALOG, rng.randint(0, 3))
            items = [
                {
                    "code": code,
                    "level": rng.choice(HMS_LEVELS),
                    "module": module,
                    # docs/explanation/api-notes.md#live name and values
                    "in_the_key": "on_the_ground",
                    "args": {"component_index": 0, "sensor_index": 0},
                    "imminent": 0,
                    "message": message,
                }
                for code, module, message in picks
            ]
            self.hms[device.sn] = items
        return items

    # ---- thing model ----------------------------------------------------------------------

    def thing_model(self, device: Device, latitude: float, longitude: float) -> dict[str, Any]:
        """A plausible property snapshot (DJI thing-model names) for a dock or an aircraft."""
        rng = _device_rng(device.sn)
        lat = round(latitude + rng.uniform(-0.01, 0.01), 7)
        lon = round(longitude + rng.uniform(-0.01, 0.01), 7)
        common: dict[str, Any] = {
            "mode_code": device.mode_code,
            "latitude": lat,
            "longitude": lon,
            "firmware_version": f"{rng.randint(10, 13)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
            "storage": {"total": 64_000_000, "used": rng.randint(1_000_000, 30_000_000)},
        }
        if device.is_gateway:
            snapshot = {
                **common,
                "height": round(rng.uniform(10, 60), 2),
                "network_state": {"type": 2, "quality": rng.randint(3, 5), "rate": 1200.0},
                "drone_in_dock": 1,
                "cover_state": 0,
                "temperature": round(rng.uniform(15, 30), 1),
                "humidity": rng.randint(30, 70),
                "rainfall": 0,
                "wind_speed": round(rng.uniform(0, 6), 1),
                "rtk_calibration": self._rtk_view(device.sn),
            }
        else:
            snapshot = {
                **common,
                "height": round(rng.uniform(10, 60), 2),
                "elevation": 0.0,
                "horizontal_speed": 0.0,
                "vertical_speed": 0.0,
                "battery": {
                    "capacity_percent": rng.randint(40, 100),
                    "remain_flight_time": rng.randint(600, 2400),
                    "return_home_power": 25,
                },
                "position_state": {
                    "gps_number": rng.randint(12, 30),
                    "rtk_number": rng.randint(0, 40),
                    "is_fixed": 2,
                    "quality": 5,
                },
                "cameras": [
                    {
                        "payload_index": idx,
                        "video_quality": self.quality.get((device.sn, idx), "adaptive"),
                        "control_holder": self.controls.get((device.sn, idx)),
                    }
                    for idx in device.camera_indexes()
                ],
            }
        snapshot.update(self.overrides.get(device.sn, {}))
        return snapshot

    def _rtk_view(self, sn: str) -> dict[str, Any] | None:
        rtk = self.rtk.get(sn)
        if rtk is None:
            return None
        return {"host": rtk.host, "port": rtk.port, "mount_point": rtk.mount_point}

    # ---- livestream, storage ----------------------------------------------------------------

    def start_live(
        self, sn: str, camera_index: str, quality_type: str, video_expire: int
    ) -> LiveStreamGrant:
        grant = LiveStreamGrant(
            sn=sn,
            camera_index=camera_index,
            quality_type=quality_type,
            room_id=f"{sn}-{camera_index}",
            token=secrets.token_urlsafe(24),
            expire_ts=int(time.time()) + video_expire,
        )
        self.live_streams[(sn, camera_index)] = grant
        return grant

    def issue_sts(self, project_uuid: str) -> StsGrant:
        grant = StsGrant(
            project_uuid=project_uuid,
            access_key_id="STS." + secrets.token_hex(12),
            access_key_secret=secrets.token_urlsafe(30),
            security_token=secrets.token_urlsafe(48),
            object_key_prefix=f"fh2/{project_uuid}",
            expires_at=int(time.time()) + STS_LIFETIME,
        )
        self.sts_grants.append(grant)
        return grant
