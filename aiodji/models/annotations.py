"""Models of map annotations (docs/explanation/api-notes.md#annotations).

The V1.0 body of ``POST /map/element`` was not read; aiodji sends the legacy Sync shape:
``{name, desc, resource: {type: 0 point | 1 line | 2 polygon, content: GeoJSON Feature}}`` with
WGS84 ``[longitude, latitude, altitude]`` coordinates, and reads ``data.id`` back.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

from attrs import field, frozen

from aiodji.errors import InvalidArgumentError
from aiodji.models._base import wire

__all__ = [
    "Annotation",
    "AnnotationCreated",
    "AnnotationFeature",
    "AnnotationProperties",
    "AnnotationResource",
    "AnnotationType",
    "Geometry",
]

Position = list[float]  # [lng, lat] or [lng, lat, alt]
DEFAULT_COLOR = "#2D8CF0"


class AnnotationType(enum.IntEnum):
    """``resource.type`` on the wire (Sync API)."""

    POINT = 0
    LINE = 1
    POLYGON = 2


GEOJSON_TYPE = {
    AnnotationType.POINT: "Point",
    AnnotationType.LINE: "LineString",
    AnnotationType.POLYGON: "Polygon",
}


def position(value: Sequence[float]) -> Position:
    """A checked WGS84 ``[lng, lat(, alt)]``; a clear error before any request otherwise."""
    if isinstance(value, str | bytes) or len(value) not in (2, 3):
        raise InvalidArgumentError(f"a position is [lng, lat(, alt)], got {value!r}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise InvalidArgumentError(f"coordinates must be numbers, got {value!r}")
    out = [float(v) for v in value]
    if not all(math.isfinite(v) for v in out):
        raise InvalidArgumentError(f"coordinates must be finite, got {value!r}")
    lng, lat = out[0], out[1]
    if not (-180.0 <= lng <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidArgumentError(f"longitude/latitude out of range: {value!r}")
    return out


@frozen
class Geometry:
    """A GeoJSON geometry; build one with :meth:`point`, :meth:`line` or :meth:`polygon`."""

    type: str
    coordinates: Any

    @classmethod
    def point(cls, lng: float, lat: float, alt: float | None = None) -> Geometry:
        return cls("Point", position([lng, lat] if alt is None else [lng, lat, alt]))

    @classmethod
    def line(cls, points: Sequence[Sequence[float]]) -> Geometry:
        coords = [position(p) for p in points]
        if len(coords) < 2:
            raise InvalidArgumentError("a line needs at least 2 points")
        return cls("LineString", coords)

    @classmethod
    def polygon(cls, ring: Sequence[Sequence[float]]) -> Geometry:
        """One outer ring; it is closed (first point repeated) when it is not already."""
        coords = [position(p) for p in ring]
        if len(coords) >= 2 and coords[0] == coords[-1]:
            coords.pop()
        if len(coords) < 3:
            raise InvalidArgumentError("a polygon needs at least 3 distinct points")
        return cls("Polygon", [[*coords, coords[0]]])

    @property
    def annotation_type(self) -> AnnotationType:
        for kind, name in GEOJSON_TYPE.items():
            if name == self.type:
                return kind
        raise InvalidArgumentError(f"unsupported geometry type {self.type!r}")


@frozen
class AnnotationProperties:
    color: str | None = DEFAULT_COLOR
    clamp_to_ground: bool | None = wire("clampToGround", default=False)


@frozen
class AnnotationFeature:
    """A GeoJSON Feature: ``{type: "Feature", properties, geometry}``."""

    geometry: Geometry
    properties: AnnotationProperties = field(factory=AnnotationProperties)
    type: str = "Feature"


@frozen
class AnnotationResource:
    type: AnnotationType
    content: AnnotationFeature

    @classmethod
    def of(
        cls,
        geometry: Geometry,
        *,
        color: str | None = DEFAULT_COLOR,
        clamp_to_ground: bool | None = False,
    ) -> AnnotationResource:
        props = AnnotationProperties(color=color, clamp_to_ground=clamp_to_ground)
        return cls(geometry.annotation_type, AnnotationFeature(geometry, props))


@frozen
class Annotation:
    """Body of ``POST /map/element`` (legacy Sync shape, see module docstring)."""

    name: str
    resource: AnnotationResource
    desc: str = ""
    element_source: int = 0  # [live] (docs/explanation/api-notes.md#live): sent as 0


@frozen
class AnnotationCreated:
    """Reply of a create. Live FlightHub 2 answers an empty object
    (docs/explanation/api-notes.md#live): ``id`` is None then;
    the Sync API's ``data.id`` is read when a server sends it."""

    id: str | None = None
