"""3D reconstruction models (API.md §9)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["Models3D"]


class Models3D(Resource):
    """``dji.models3d``: 3D reconstruction models (API.md §9)."""
