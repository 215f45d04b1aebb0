"""Livestream and stream converters (docs/explanation/api-notes.md#livestream)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, TypedDict, Unpack

import attrs

from aiodji._args import check_paging, path_param, require_bool, require_int, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import Converter, ConverterSchema, LiveStream, Page, VideoQuality
from aiodji.resources._base import Resource, filter_params, no_data, parse_page
from aiodji.serde import structure

__all__ = ["ConverterFilters", "Converters", "Livestream"]

CONVERTER_PATH = "/openapi/v0.1/live-stream/converter"
MAX_PAGE_SIZE = 100  # docs/explanation/api-notes.md#pagination
PUSH_URL_SCHEMES = ("rtmp://", "rtmps://")
START_PATH = "/openapi/v0.1/live-stream/start"
DEFAULT_VIDEO_EXPIRE = 3600  # seconds; the docs give no default


class ConverterFilters(TypedDict, total=False):
    """The filters of ``converters.list`` / ``list_page`` / ``iter``, written once."""

    device_sn: str | None
    camera_index: str | None
    schema: str | None


class Converters(Resource):
    """Stream converters ("bypass streaming"): forward a camera's live video to a push URL.

    Project-scoped: use ``dji.project(uuid).converters`` or pass ``project_uuid=``. Documented as
    private-cloud only in the Chinese docs (docs/explanation/api-notes.md#stability); the public
    cloud may answer 213050.
    """

    async def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        project_uuid: str | None = None,
        **filters: Unpack[ConverterFilters],
    ) -> Page[Converter]:
        """All converters of the project, every page fetched (filters as :meth:`list_page`).
        Returns a :class:`Page` (a list) whose ``total`` is the number of converters."""
        fixed = {"page_size": page_size, "project_uuid": project_uuid, **filters}
        return await self._list_all("converters.list", None, self.list_page, **fixed)

    async def list_page(
        self,
        page: int = 1,
        *,
        page_size: int = MAX_PAGE_SIZE,
        project_uuid: str | None = None,
        **filters: Unpack[ConverterFilters],
    ) -> Page[Converter]:
        """One page of converters (``page`` from 1, ``page_size`` up to 100).

        ``GET /openapi/v0.1/live-stream/converter?page=&page_size=`` (+ optional filters
        :class:`ConverterFilters` ``device_sn``, ``camera_index``, ``schema``; query names from
        a V2 client).
        """
        f = filter_params(filters, ConverterFilters)
        check_paging(page, page_size, maximum=MAX_PAGE_SIZE)
        project = self._project_for(project_uuid, "converters")
        params = {"page": page, "page_size": page_size, **f}

        def parse(data: Any) -> Page[Converter]:
            result = parse_page(data, Converter, page=page, page_size=page_size)
            for i, item in enumerate(result):
                result[i] = attrs.evolve(item, project_uuid=project)
            return result

        return await self._get(CONVERTER_PATH, params=params, project_uuid=project, parse=parse)

    async def iter(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        project_uuid: str | None = None,
        **filters: Unpack[ConverterFilters],
    ) -> AsyncIterator[Converter]:
        """Every converter of the project, fetching pages lazily."""
        fixed = {"page_size": page_size, "project_uuid": project_uuid, **filters}
        async for item in self._iter_all(self.list_page, **fixed):
            yield item

    async def create(
        self,
        *,
        name: str,
        sn: str,
        camera_index: str,
        url: str | None = None,
        schema: str = ConverterSchema.RTMP,
        schema_option: Mapping[str, Any] | None = None,
        project_uuid: str | None = None,
    ) -> Converter:
        """Create a converter (stored, not forwarding until enabled).

        ``POST /openapi/v0.1/live-stream/converter`` with ``converter_name`` (unique), ``sn``
        (dock or aircraft), ``camera_index`` (from the device list's camera_list), ``schema``
        (``rtmp`` | ``gb28181``) and ``schema_option`` (for RTMP: ``{"url": "rtmp://..."}``;
        ``url=`` is the shortcut). At most 20 per organization (code 233317). Not retried once
        the request may have reached the server: a create is not idempotent.
        The reply carries only ``converter_id``; the returned Converter fills the rest from the
        request.
        """
        require_text("name", name)
        require_text("sn", sn)
        require_text("camera_index", camera_index)
        option: dict[str, Any] = dict(schema_option or {})
        if url is not None:
            option["url"] = url
        if schema == ConverterSchema.RTMP:
            push = option.get("url")
            if not isinstance(push, str) or not push.lower().startswith(PUSH_URL_SCHEMES):
                raise InvalidArgumentError(
                    "an RTMP converter needs url='rtmp://host/app/stream' (or rtmps://)"
                )
        project = self._project_for(project_uuid, "converters")
        body = {
            "converter_name": name,
            "sn": sn,
            "camera_index": camera_index,
            "schema": str(schema),
            "schema_option": option,
        }

        def parse(data: Any) -> Converter:
            converter_id = data["converter_id"] if isinstance(data, Mapping) else None
            if not isinstance(converter_id, str) or not converter_id:
                raise TypeError("reply has no converter_id")
            return Converter(
                converter_id=converter_id,
                converter_name=name,
                sn=sn,
                camera=camera_index,
                schema=ConverterSchema(str(schema)),
                bypass_option=option,
                auto_push_stream=False,
                project_uuid=project,
            )

        return await self._post(CONVERTER_PATH, json=body, project_uuid=project, parse=parse)

    async def set_enabled(
        self, converter_id: str, enabled: bool, *, project_uuid: str | None = None
    ) -> None:
        """Enable (forward whenever the device is online) or disable a converter.

        ``PUT /openapi/v0.1/live-stream/converter/{converter_id}`` with ``{"auto_push_stream":
        enabled}``. Idempotent, so retried on transient failures.
        """
        require_bool("enabled", enabled)
        path = f"{CONVERTER_PATH}/{path_param('converter_id', converter_id)}"
        project = self._project_for(project_uuid, "converters")
        await self._put(
            path, json={"auto_push_stream": enabled}, project_uuid=project, parse=no_data
        )

    async def enable(self, converter_id: str, *, project_uuid: str | None = None) -> None:
        """``set_enabled(converter_id, True)``."""
        await self.set_enabled(converter_id, True, project_uuid=project_uuid)

    async def disable(self, converter_id: str, *, project_uuid: str | None = None) -> None:
        """``set_enabled(converter_id, False)``."""
        await self.set_enabled(converter_id, False, project_uuid=project_uuid)

    async def delete(self, converter_id: str, *, project_uuid: str | None = None) -> None:
        """Delete a converter. ``DELETE /openapi/v0.1/live-stream/converter/{converter_id}``."""
        path = f"{CONVERTER_PATH}/{path_param('converter_id', converter_id)}"
        project = self._project_for(project_uuid, "converters")
        await self._delete(path, project_uuid=project, parse=no_data)


class Livestream(Resource):
    """Livestream (docs/explanation/api-notes.md#livestream): ``start`` a live view; ``converters``
    forward streams."""

    @property
    def converters(self) -> Converters:
        return self._client.converters

    async def start(
        self,
        sn: str,
        camera_index: str,
        *,
        video_expire: int = DEFAULT_VIDEO_EXPIRE,
        quality_type: str = VideoQuality.ADAPTIVE,
        project_uuid: str | None = None,
    ) -> LiveStream:
        """Start a device's live video and get the provider's playback/auth info.

        ``POST /openapi/v0.1/live-stream/start`` with ``X-Project-Uuid``
        (docs/explanation/api-notes.md#livestream), body
        ``{sn, camera_index, video_expire, quality_type}``:

        - ``sn``: the aircraft or dock; ``camera_index``: from its ``camera_list``.
        - ``video_expire``: seconds the stream token stays valid (the stream stops after it).
        - ``quality_type``: ``"adaptive"`` | ``"smooth"`` | ``"ultra_high_definition"``.

        The device starts pushing; the stream stops if nobody pulls it for 5 minutes. The
        returned ``url`` (e.g. ``volc``: app_id, room_id, token, ...) is a secret, masked in
        reprs. Not retried once the request may have reached the server.
        """
        body = {
            "sn": require_text("sn", sn),
            "camera_index": require_text("camera_index", camera_index),
            "video_expire": require_int("video_expire", video_expire),  # seconds
            "quality_type": str(require_text("quality_type", quality_type)),
        }
        project = self._project_for(project_uuid, "livestream")

        def parse(data: Any) -> LiveStream:
            result: LiveStream = structure(data, LiveStream)
            return result

        return await self._post(START_PATH, json=body, project_uuid=project, parse=parse)
