"""Simulator state for flight tasks, waylines, 3D models and map annotations (API.md §7-§10)."""

from __future__ import annotations

import attrs

__all__ = ["MissionState"]


@attrs.define(slots=True, eq=False)
class MissionState:
    """Tasks moving through their statuses, waylines, reconstruction models, annotations."""
