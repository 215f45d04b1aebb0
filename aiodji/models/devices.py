"""Models of devices: org list, thing model, HMS, control, camera/lens, quality, RTK."""

from __future__ import annotations

__all__: list[str] = []
