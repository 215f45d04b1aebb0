"""Models of system status (docs/explanation/api-notes.md#system)."""

from __future__ import annotations

from typing import Any

from attrs import frozen

__all__ = ["SystemStatus"]


@frozen
class SystemStatus:
    """The answer of ``GET /system_status`` (docs/explanation/api-notes.md#system).

    A healthy server replies ``{"code": 0, "message": ""}`` with no ``data``, so this is built
    from a successful call rather than read from the reply: an unhealthy or unreachable server
    raises an aiodji error instead. ``details`` keeps any ``data`` a server does send.
    """

    healthy: bool = True
    details: dict[str, Any] | None = None
