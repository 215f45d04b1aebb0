"""Waylines (API.md §8)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["Waylines"]


class Waylines(Resource):
    """``dji.waylines``: Waylines (API.md §8)."""
