"""System status (docs/explanation/api-notes.md#system)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiodji.models import SystemStatus
from aiodji.resources._base import Resource

__all__ = ["System"]

STATUS_PATH = "/openapi/v0.1/system_status"


def _status(data: Any) -> SystemStatus:
    return SystemStatus(healthy=True, details=dict(data) if isinstance(data, Mapping) else None)


class System(Resource):
    """``dji.system``: System status (docs/explanation/api-notes.md#system)."""

    async def status(self) -> SystemStatus:
        """Whether FlightHub 2 answers: ``GET /openapi/v0.1/system_status`` (org-level).

        A healthy server replies ``{"code": 0, "message": ""}``; any failure (HTTP error,
        business code, unreachable host) raises the matching aiodji error, so a returned
        :class:`SystemStatus` is always ``healthy``. Also a cheap check of the token.
        """
        return await self._get(STATUS_PATH, parse=_status, org_level=True)
