"""Map annotations (docs/explanation/api-notes.md#annotations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiodji._args import require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import Annotation, AnnotationCreated, AnnotationResource, Geometry
from aiodji.models.annotations import DEFAULT_COLOR
from aiodji.resources._base import Resource
from aiodji.serde import structure, unstructure

__all__ = ["Annotations"]

ELEMENT_PATH = "/openapi/v0.1/map/element"


def _parse_created(data: Any) -> AnnotationCreated:
    # {} live (docs/explanation/api-notes.md#live); an absent data is the same success
    if data is None:
        return AnnotationCreated()
    created: AnnotationCreated = structure(data, AnnotationCreated)
    return created


class Annotations(Resource):
    """``dji.annotations``: points, lines and polygons drawn on the project map.

    Project-scoped: use ``dji.project(uuid).annotations`` or pass ``project_uuid=``. The V1.0
    body was not read; aiodji sends the legacy Sync shape
    (docs/explanation/api-notes.md#annotations). Coordinates are WGS84
    ``(longitude, latitude[, altitude])``.
    """

    async def create(
        self,
        *,
        name: str,
        geometry: Geometry | None = None,
        resource: AnnotationResource | None = None,
        desc: str = "",
        color: str | None = DEFAULT_COLOR,
        clamp_to_ground: bool | None = False,
        project_uuid: str | None = None,
    ) -> AnnotationCreated:
        """Create an annotation. ``POST /openapi/v0.1/map/element`` with ``name``, ``desc`` and
        ``resource`` {``type`` 0 point | 1 line | 2 polygon, ``content`` a GeoJSON Feature}.

        Give either a ``geometry`` (``Geometry.point(lng, lat)``, ``Geometry.line([...])``,
        ``Geometry.polygon([...])``; styled with ``color`` e.g. "#2D8CF0" and
        ``clamp_to_ground``) or a ready ``resource``. ``element_source: 0`` is sent as live clients
        do. Live FlightHub 2 replies ``{}``: the returned ``id`` is then None.
        """
        if (geometry is None) == (resource is None):
            raise InvalidArgumentError("pass exactly one of geometry= or resource=")
        if resource is None:
            assert geometry is not None
            resource = AnnotationResource.of(geometry, color=color, clamp_to_ground=clamp_to_ground)
        if not isinstance(desc, str):
            raise InvalidArgumentError("desc must be a string")
        body = unstructure(
            Annotation(name=require_text("name", name), resource=resource, desc=desc)
        )
        project = self._project_for(project_uuid, "annotations")
        return await self._post(ELEMENT_PATH, json=body, project_uuid=project, parse=_parse_created)

    async def create_point(
        self,
        name: str,
        lng: float,
        lat: float,
        alt: float | None = None,
        **options: Any,
    ) -> AnnotationCreated:
        """``create(name=, geometry=Geometry.point(lng, lat, alt), ...)``."""
        return await self.create(name=name, geometry=Geometry.point(lng, lat, alt), **options)

    async def create_line(
        self, name: str, points: Sequence[Sequence[float]], **options: Any
    ) -> AnnotationCreated:
        """``create(name=, geometry=Geometry.line(points), ...)``; at least 2 points."""
        return await self.create(name=name, geometry=Geometry.line(points), **options)

    async def create_polygon(
        self, name: str, ring: Sequence[Sequence[float]], **options: Any
    ) -> AnnotationCreated:
        """``create(name=, geometry=Geometry.polygon(ring), ...)``; the ring is closed for you."""
        return await self.create(name=name, geometry=Geometry.polygon(ring), **options)
