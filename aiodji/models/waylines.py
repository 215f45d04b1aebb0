"""Models of waylines (API.md §8).

Reply shapes are [secondary]; field names follow DJI Cloud API's wayline file (``id``,
``drone_model_key``, ``payload_model_keys``, ``template_types``, ``update_time`` …), a guess.
"""

from __future__ import annotations

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum
from aiodji.redact import masked_repr

__all__ = ["Wayline", "WaylineDetail", "WaylineTemplateType", "WaylineUploaded"]


class WaylineTemplateType(OpenStrEnum):
    """The kind of mission a wayline holds (§8.2)."""

    WAYPOINT = "waypoint"
    MAPPING_2D = "mapping_2d"
    MAPPING_3D = "mapping_3d"
    MAPPING_STRIP = "mapping_strip"
    FACADE = "facade"
    SOLID = "solid"
    MAPPING_GOBJECT = "mapping_gobject"


@frozen
class WaylineUploaded:
    """Reply of finish-upload (not read, §8.1): the new wayline's ``id`` if the server gives it."""

    id: str | None = None


@frozen
class Wayline:
    """An item of the wayline list."""

    id: str
    name: str | None = None
    drone_model_key: str | None = None  # "domain-type-subtype", as a device's model key
    payload_model_keys: list[str] | None = None
    template_types: list[WaylineTemplateType] | None = None
    object_key: str | None = None
    user_name: str | None = None
    favorited: bool | None = None
    create_time: int | None = None  # unix ms
    update_time: int | None = None  # unix ms


@frozen
class WaylineDetail:
    """One wayline with its KMZ ``download_url`` (signed: masked in ``repr``), ``distance``
    (metres), ``waypoint_count`` and estimated ``duration`` (seconds) (§8.3, names guessed)."""

    id: str
    name: str | None = None
    drone_model_key: str | None = None
    payload_model_keys: list[str] | None = None
    template_types: list[WaylineTemplateType] | None = None
    object_key: str | None = None
    distance: float | None = None
    duration: float | None = None
    waypoint_count: int | None = None
    download_url: str | None = field(default=None, repr=masked_repr)
    update_time: int | None = None
