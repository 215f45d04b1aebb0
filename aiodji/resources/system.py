"""System status (API.md §3)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["System"]


class System(Resource):
    """``dji.system``: System status (API.md §3)."""
