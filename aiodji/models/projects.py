"""Models of organization projects, project devices, storage credentials, members (API.md §4)."""

from __future__ import annotations

__all__: list[str] = []
