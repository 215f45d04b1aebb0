"""Flight tasks (API.md §7)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["Tasks"]


class Tasks(Resource):
    """``dji.tasks``: Flight tasks (API.md §7)."""
