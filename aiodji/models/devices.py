"""Models of devices: org device list, thing model, HMS, control, camera/lens, quality, RTK (API.md §4.2, §5)."""

from __future__ import annotations

__all__: list[str] = []
