"""Route modules of the simulator, one per API area; each exposes ``register(app, sim)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import converters, projects, system

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["AREAS", "register_all"]

AREAS = (system, projects, converters)


def register_all(app: web.Application, sim: Simulator) -> None:
    for area in AREAS:
        area.register(app, sim)
