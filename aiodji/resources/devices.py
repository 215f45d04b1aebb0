"""Devices: org list, thing model, HMS, control, camera/lens, quality, RTK (§4.2, §5)."""

from __future__ import annotations

from aiodji.resources._base import Resource

__all__ = ["Devices"]


class Devices(Resource):
    """``dji.devices``: org list, thing model, HMS, control, camera/lens, quality, RTK."""
