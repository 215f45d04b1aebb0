"""3D models (API.md §9)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..server import Simulator

__all__ = ["register"]


def register(app: web.Application, sim: Simulator) -> None:
    """Add this area's routes to ``app``."""
