"""Projects, project devices, storage credentials, members (API.md §4)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["Projects"]


class Projects(Resource):
    """``dji.projects``: Projects, project devices, storage credentials, members (API.md §4)."""
