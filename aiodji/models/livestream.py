"""Livestream and stream converter ("bypass streaming") models
(docs/explanation/api-notes.md#livestream)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum, aka, local
from aiodji.redact import masked_repr

__all__ = ["Converter", "ConverterSchema", "ConverterState", "LiveStream"]


class ConverterState(OpenStrEnum):
    """Forwarding state of a converter (docs/explanation/api-notes.md#converter-state); unknown
    values are kept."""

    INITIALIZED = "initialized"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"
    FAILED = "failed"


class ConverterSchema(OpenStrEnum):
    """Push protocol (docs/explanation/api-notes.md#converters); ``rtsp`` is seen only in a V2
    client."""

    RTMP = "rtmp"
    GB28181 = "gb28181"
    RTSP = "rtsp"


@frozen
class Converter:
    """A stream converter: forwards a device camera's live video to a push URL.

    Wire fields per docs/explanation/api-notes.md#converters (seen in a V2 client; the V1.0 list
    reply was not found, so
    everything but ``converter_id`` is optional). ``auto_push_stream`` is the enabled flag;
    ``state`` the forwarding state. ``project_uuid`` is filled in by aiodji from the project the
    converter was listed in, so a Converter can be handed straight to ``dji.bulk``.
    """

    converter_id: str
    converter_name: str | None = None
    sn: str | None = None
    camera: str | None = aka("camera_index", default=None)  # V2 name; V1 says camera_index
    video: str | None = None
    video_type: str | None = None
    schema: ConverterSchema | None = None
    # V2 name; V1 says schema_option (docs/explanation/api-notes.md#live): either is read
    bypass_option: dict[str, Any] | None = aka("schema_option", default=None, repr=masked_repr)
    state: ConverterState | None = None
    code: int | None = None
    auto_push_stream: bool | None = None
    device_online_status: bool | None = None
    device_callsign: str | None = None
    update_ts: str | int | float | None = None
    project_uuid: str | None = local()

    @property
    def camera_index(self) -> str | None:
        """The camera index (``camera`` in the list reply, ``camera_index`` in create)."""
        return self.camera

    @property
    def enabled(self) -> bool:
        return bool(self.auto_push_stream)

    @property
    def url(self) -> str | None:
        """The push URL (RTMP) from ``bypass_option``, if any. Secret: do not log it unmasked."""
        value = (self.bypass_option or {}).get("url")
        return value if isinstance(value, str) else None


@frozen
class LiveStream:
    """A started live view (``POST /live-stream/start``, docs/explanation/api-notes.md#livestream).

    ``url`` is the provider's playback/auth info (for ``url_type == "volc"`` a query string with
    ``app_id``, ``room_id``, ``token``, ``user_id``, ``expire_time``); it carries a token, so
    its repr is masked. ``expire_ts`` is when the stream token expires (unix seconds).
    """

    url: str | None = field(default=None, repr=masked_repr)
    url_type: str | None = None
    expire_ts: int | None = None

    def url_params(self) -> dict[str, str]:
        """``url`` split into its query parameters (the ``volc`` style); {} when it has none."""
        if not self.url or "=" not in self.url:
            return {}
        return dict(parse_qsl(self.url.partition("?")[2] or self.url))
