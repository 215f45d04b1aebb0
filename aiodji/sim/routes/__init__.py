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

__all__ = ["AREAS", "register_all"]

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


def register_all(app: web.Application, sim: Simulator) -> None:
    for area in AREAS:
        area.register(app, sim)
