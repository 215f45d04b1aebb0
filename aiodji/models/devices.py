"""Models of devices: org list, thing model, HMS, control, camera/lens, quality, RTK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum, wire
from aiodji.redact import masked_repr

__all__ = [
    "Camera",
    "CameraPosition",
    "ControlGrant",
    "ControlResult",
    "Device",
    "DeviceClass",
    "DeviceCommand",
    "DeviceHms",
    "DeviceModel",
    "DevicePair",
    "DeviceState",
    "HmsItem",
    "HmsLevel",
    "HmsReport",
    "Lens",
    "LensType",
    "RtkCalibration",
    "RtkResult",
    "VideoQuality",
]


class DeviceClass(OpenStrEnum):
    """``device_model.class`` (docs/explanation/api-notes.md#projects): a dock is ``airport``."""

    AIRPORT = "airport"
    DRONE = "drone"


class CameraPosition(OpenStrEnum):
    """Where a dock camera looks (docs/explanation/api-notes.md#devices)."""

    INDOOR = "indoor"
    OUTDOOR = "outdoor"


class LensType(OpenStrEnum):
    """An aircraft camera lens (docs/explanation/api-notes.md#projects;
    docs/explanation/api-notes.md#devices switches between wide, zoom and ir)."""

    NORMAL = "normal"
    WIDE = "wide"
    ZOOM = "zoom"
    IR = "ir"


class VideoQuality(OpenStrEnum):
    """Video transmission quality (docs/explanation/api-notes.md#devices) and livestream
    ``quality_type`` (docs/explanation/api-notes.md#livestream)."""

    ADAPTIVE = "adaptive"
    SMOOTH = "smooth"
    ULTRA_HIGH_DEFINITION = "ultra_high_definition"


class DeviceCommand(OpenStrEnum):
    """Real-time flight commands (docs/explanation/api-notes.md#devices)."""

    RETURN_HOME = "return_home"
    RETURN_SPECIFIC_HOME = "return_specific_home"  # leap-frog: land at the designated dock
    RETURN_HOME_CANCEL = "return_home_cancel"
    FLIGHTTASK_PAUSE = "flighttask_pause"
    FLIGHTTASK_RECOVERY = "flighttask_recovery"


class HmsLevel(OpenStrEnum):
    """Severity of a health message (docs/explanation/api-notes.md#devices, names not confirmed)."""

    NOTIFICATION = "notification"
    REMINDER = "reminder"
    WARNING = "warning"


@frozen
class DeviceModel:
    """``device_model`` (docs/explanation/api-notes.md#projects): ``key`` is
    ``domain-type-sub_type``; wire ``class`` is
    ``device_class`` here."""

    key: str | None = None
    domain: str | None = None
    type: str | None = None
    sub_type: str | None = None
    name: str | None = None
    device_class: DeviceClass | None = wire("class", default=None)


@frozen
class Lens:
    lens_type: LensType | None = None
    available_lens_types: list[LensType] = field(factory=list)


@frozen
class Camera:
    """A camera of ``camera_list`` (docs/explanation/api-notes.md#projects).

    Dock cameras carry ``camera_position`` / ``available_camera_positions`` (strings
    ``indoor``/``outdoor`` live, ints 0/1 in the doc example: both kept as sent); aircraft
    cameras carry ``lens_list``.
    """

    camera_index: str | None = None
    camera_position: CameraPosition | int | None = None
    available_camera_positions: list[CameraPosition | int] | None = None
    lens_list: list[Lens] | None = None


@frozen
class Device:
    """A dock, remote controller or aircraft (docs/explanation/api-notes.md#projects)."""

    sn: str
    callsign: str | None = None
    device_model: DeviceModel | None = None
    device_online_status: bool | None = None
    mode_code: int | None = None
    camera_list: list[Camera] | None = None

    @property
    def online(self) -> bool:
        return bool(self.device_online_status)

    @property
    def cameras(self) -> list[Camera]:
        return list(self.camera_list or ())

    @property
    def camera_indexes(self) -> list[str]:
        """The ``camera_index`` values to use for livestreams, control and converters."""
        return [c.camera_index for c in self.camera_list or () if c.camera_index]


@frozen
class DevicePair:
    """A gateway (dock or RC) and the aircraft it serves (docs/explanation/api-notes.md#projects);
    either may be null."""

    gateway: Device | None = None
    drone: Device | None = None

    def devices(self) -> Iterator[Device]:
        """The gateway, then the aircraft, skipping the missing one."""
        if self.gateway is not None:
            yield self.gateway
        if self.drone is not None:
            yield self.drone


@frozen
class DeviceState:
    """The thing-model snapshot of ``GET /device/{sn}/state``
    (docs/explanation/api-notes.md#devices).

    Its schema differs per device model and was not found, so the whole reply is kept in
    ``properties``; a few common keys of the DJI thing model get typed shortcuts.
    """

    sn: str
    properties: dict[str, Any] = field(factory=dict)
    # only in the wrapped reply form (docs/explanation/api-notes.md#live)
    device_model: DeviceModel | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.properties.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.properties[key]

    def __contains__(self, key: object) -> bool:
        return key in self.properties

    def _number(self, key: str) -> float | None:
        value = self.properties.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    @property
    def mode_code(self) -> int | None:
        value = self.properties.get("mode_code")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def latitude(self) -> float | None:
        return self._number("latitude")

    @property
    def longitude(self) -> float | None:
        return self._number("longitude")

    @property
    def firmware_version(self) -> str | None:
        value = self.properties.get("firmware_version")
        return value if isinstance(value, str) else None


@frozen
class HmsItem:
    """One health message (docs/explanation/api-notes.md#devices; field names [secondary], not
    confirmed).

    ``in_the_key`` (docs/explanation/api-notes.md#live: ``on_the_ground`` / ``in_the_sky``) tells
    whether it applies in flight;
    older sources say ``in_the_sky`` (a flag, int or word, kept as sent). :attr:`airborne`
    reads either.
    """

    code: str | None = None
    level: HmsLevel | int | None = None
    module: str | int | None = None
    in_the_sky: bool | int | str | None = None
    message: str | None = None
    # [live-doc] "on_the_ground" / "in_the_sky" (docs/explanation/api-notes.md#live)
    in_the_key: str | None = None
    args: dict[str, Any] | None = None
    imminent: bool | int | None = None

    @property
    def airborne(self) -> bool | None:
        """Whether the message applies in flight, from ``in_the_key`` or ``in_the_sky``."""
        if self.in_the_key is not None:
            return self.in_the_key == "in_the_sky"
        if self.in_the_sky is None:
            return None
        if isinstance(self.in_the_sky, str):
            return self.in_the_sky in ("in_the_sky", "1", "true")
        return bool(self.in_the_sky)


@frozen
class HmsReport:
    """``device_hms`` of one device: ``{"list": [...]}``."""

    items: list[HmsItem] = wire("list", factory=list)


@frozen
class DeviceHms:
    """The health messages of one device (``data.list[]`` of ``GET /device/hms``)."""

    device_sn: str
    device_hms: HmsReport | None = None

    @property
    def items(self) -> list[HmsItem]:
        return list(self.device_hms.items) if self.device_hms is not None else []


@frozen
class RtkCalibration:
    """The body of ``POST /device/{sn}/rtk`` (docs/explanation/api-notes.md#devices): a custom
    network RTK (NTRIP) caster."""

    host: str
    port: int
    account: str
    password: str = field(repr=masked_repr)
    mount_point: str


@frozen
class ControlGrant:
    """One control a user holds: ``{type, gateway, user, payload_index}``. ``gateway`` and
    ``user`` are objects in the reference another client was built from (keys not documented),
    plain strings in older sources: kept as sent."""

    type: str | None = None
    gateway: Any = None
    user: Any = None
    payload_index: str | list[str] | None = None


@frozen
class ControlResult:
    """Reply of acquire control (docs/explanation/api-notes.md#live): the aircraft and the controls
    now held."""

    drone_sn: str | None = None
    controls: list[ControlGrant] = field(factory=list)


@frozen
class RtkResult:
    """Reply of the RTK call (docs/explanation/api-notes.md#live): ``{bid, status}``."""

    bid: str | None = None
    status: str | int | None = None
