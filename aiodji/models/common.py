"""Shapes shared by every API area: the reply envelope and the paging info."""

from __future__ import annotations

from typing import Any

from attrs import frozen

__all__ = ["Envelope", "Pagination"]


@frozen
class Envelope:
    """Every FlightHub 2 reply: ``{code, message, data}``; ``code == 0`` is success (§1.4)."""

    code: int
    message: str = ""
    data: Any = None


@frozen
class Pagination:
    """Optional paging info of a list reply (API.md decision 4; names guessed from the V2 API)."""

    page: int | None = None
    page_size: int | None = None
    total: int | None = None
