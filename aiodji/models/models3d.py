"""Models of 3D reconstruction models (API.md §9)."""

from __future__ import annotations

__all__: list[str] = []
