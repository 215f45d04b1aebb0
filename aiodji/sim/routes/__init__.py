"""Route modules of the simulator, one per API area; each exposes ``register(app, sim)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import (
    converters,
    devices,
    livestream,
    map_elements,
    models3d,
    open_models,
    projects,
    system,
    tasks,
    waylines,
)

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["AREAS", "AREA_NAMES", "register_all"]

AREAS = (
    system,
    projects,
    devices,
    livestream,
    converters,
    tasks,
    waylines,
    models3d,
    map_elements,
    open_models,
)


# the names ``--unserved`` takes: each route module's own name
AREA_NAMES = tuple(area.__name__.rsplit(".", 1)[-1] for area in AREAS)


def register_all(app: web.Application, sim: Simulator) -> dict[object, str]:
    """Mount every area's routes; returns each route resource's area name (what a deployment
    that does not serve an area hides)."""
    area_of: dict[object, str] = {}
    for area, name in zip(AREAS, AREA_NAMES, strict=True):
        area.register(app, sim)
        for resource in app.router.resources():
            area_of.setdefault(resource, name)
    return area_of
