"""Models of flight tasks (API.md §7)."""

from __future__ import annotations

__all__: list[str] = []
