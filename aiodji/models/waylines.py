"""Models of waylines (API.md §8)."""

from __future__ import annotations

__all__: list[str] = []
