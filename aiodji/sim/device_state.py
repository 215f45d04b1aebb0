"""Simulator state for device operations, livestreams, storage and members (API.md §4.4-§6.1)."""

from __future__ import annotations

import attrs

__all__ = ["DeviceOpsState"]


@attrs.define(slots=True, eq=False)
class DeviceOpsState:
    """Who holds control of which payload, HMS messages, live streams, members, STS grants."""
