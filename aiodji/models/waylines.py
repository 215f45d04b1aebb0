"""Models of waylines (docs/explanation/api-notes.md#waylines).

Reply shapes per docs/explanation/api-notes.md#live: list items ``id, name, size, template_types,
update_time,
device_model_key, payload_information``; the detail adds ``download_url, distance,
wayline_point_nums``; finish-upload answers ``{uuid, name}``.
"""

from __future__ import annotations

import datetime as dt

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum, aka
from aiodji.redact import masked_repr

__all__ = [
    "PayloadInformation",
    "Wayline",
    "WaylineDetail",
    "WaylineTemplateType",
    "WaylineUploaded",
]


class WaylineTemplateType(OpenStrEnum):
    """The kind of mission a wayline holds (docs/explanation/api-notes.md#waylines)."""

    WAYPOINT = "waypoint"
    MAPPING_2D = "mapping_2d"
    MAPPING_3D = "mapping_3d"
    MAPPING_STRIP = "mapping_strip"
    FACADE = "facade"
    SOLID = "solid"
    MAPPING_GOBJECT = "mapping_gobject"


@frozen
class WaylineUploaded:
    """Reply of finish-upload (docs/explanation/api-notes.md#live): the new wayline's id is
    ``uuid``."""

    uuid: str | None = aka("id", default=None)
    name: str | None = None

    @property
    def id(self) -> str | None:
        return self.uuid


@frozen
class PayloadInformation:
    """A payload a wayline was planned for (docs/explanation/api-notes.md#live)."""

    domain: str | int | None = None
    type: str | int | None = None
    lens_type: str | None = None


@frozen
class Wayline:
    """An item of the wayline list (docs/explanation/api-notes.md#live). ``update_time`` is an
    aware datetime."""

    id: str
    name: str | None = None
    size: int | None = None  # bytes
    template_types: list[WaylineTemplateType] = field(factory=list)
    update_time: dt.datetime | None = None
    device_model_key: str | None = aka("drone_model_key", default=None)
    payload_information: list[PayloadInformation] = field(factory=list)

    @property
    def drone_model_key(self) -> str | None:
        return self.device_model_key


@frozen
class WaylineDetail(Wayline):
    """One wayline with its KMZ ``download_url`` (signed: masked in ``repr``), ``distance``
    (metres) and ``wayline_point_nums`` (the waypoint count)
    (docs/explanation/api-notes.md#live)."""

    download_url: str | None = field(default=None, repr=masked_repr)
    distance: float | None = None
    wayline_point_nums: int | None = aka("waypoint_count", default=None)

    @property
    def waypoint_count(self) -> int | None:
        return self.wayline_point_nums
