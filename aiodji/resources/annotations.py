"""Map annotations (API.md §10)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["Annotations"]


class Annotations(Resource):
    """``dji.annotations``: Map annotations (API.md §10)."""
