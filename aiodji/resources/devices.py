"""Devices: org list, thing model, HMS, control, camera/lens, quality, RTK
(docs/explanation/api-notes.md#projects)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from aiodji._args import check_paging, path_param, require_int, require_text
from aiodji.errors import InvalidArgumentError
from aiodji.models import (
    ControlResult,
    DeviceHms,
    DeviceModel,
    DevicePair,
    DeviceState,
    Page,
    RtkCalibration,
    RtkResult,
)
from aiodji.resources._base import Resource, no_data, parse_page
from aiodji.serde import structure, unstructure

__all__ = ["Devices"]

BASE = "/openapi/v0.1/device"
ITER_PAGE_SIZE = 100


def _text_list(name: str, values: str | Sequence[str]) -> list[str]:
    """One or more non-empty strings without commas (they travel comma-joined or as a list)."""
    items = [values] if isinstance(values, str) else list(values)
    if not items:
        raise InvalidArgumentError(f"{name} needs at least one value")
    for value in items:
        require_text(name, value)
        if "," in value:
            raise InvalidArgumentError(f"{name} values must not contain ',': {value!r}")
    return items


def _camera_body(sn: str, camera_index: str, key: str, value: str) -> dict[str, str]:
    """``{sn, camera_index, <key>: value}``: the body of the camera settings calls."""
    return {
        "sn": require_text("sn", sn),
        "camera_index": require_text("camera_index", camera_index),
        key: str(require_text(key, value)),
    }


def _parse_state(sn: str, data: Mapping[str, Any]) -> DeviceState:
    """Flat thing model, or wrapped ``{device_sn, device_model, device_state}``
    (docs/explanation/api-notes.md#live)."""
    inner = data.get("device_state")
    if not isinstance(inner, Mapping):
        return DeviceState(sn=sn, properties=dict(data))
    model = data.get("device_model")
    return DeviceState(
        sn=str(data.get("device_sn") or sn),
        properties=dict(inner),
        device_model=structure(model, DeviceModel) if isinstance(model, Mapping) else None,
    )


def _parse_control(data: Any) -> ControlResult:
    if data is None:
        return ControlResult()
    result: ControlResult = structure(data, ControlResult)
    return result


def _parse_rtk(data: Any) -> RtkResult:
    if data is None:
        return RtkResult()
    result: RtkResult = structure(data, RtkResult)
    return result


class Devices(Resource):
    """``dji.devices``: org list, thing model, HMS, control, camera/lens, quality, RTK.

    ``list``/``list_page``/``iter`` are org-level. Everything else is device management and
    project-scoped (``X-Project-Uuid``, docs/explanation/api-notes.md#headers): use
    ``dji.project(uuid).devices`` or pass
    ``project_uuid=``. Device serial numbers come from ``dji.devices.list()`` (``Device.sn``),
    camera indexes from ``Device.camera_list``.
    """

    # -- organization device list (docs/explanation/api-notes.md#projects)
    # -------------------------------------------------------

    async def list(self, page: int | None = None, page_size: int | None = None) -> Page[DevicePair]:
        """Every device pair of the organization, all pages fetched (``page_size`` per
        request, default 100). The same as collecting :meth:`iter`.

        ``page=`` is deprecated: it returns that one page, as :meth:`list_page` does.
        """
        if page is None and page_size is None:
            page_size = ITER_PAGE_SIZE  # a walk sends a size: a full page says more may follow
        return await self._list_all("devices.list", page, self.list_page, page_size=page_size)

    async def list_page(self, page: int = 1, page_size: int | None = None) -> Page[DevicePair]:
        """One page of the organization's devices, as gateway/aircraft pairs.

        ``GET /openapi/v0.1/device`` (org-level, docs/explanation/api-notes.md#projects).
        ``page``/``page_size`` are sent as
        clients do; ``page_size=None`` sends none and the server answers its default (the
        documented reply is every device at once).
        """
        check_paging(page, page_size)
        params = {"page": page, "page_size": page_size}

        def parse(data: Any) -> Page[DevicePair]:
            return parse_page(data, DevicePair, page=page, page_size=page_size)

        return await self._get(BASE, params=params, parse=parse, org_level=True)

    async def iter(self, *, page_size: int = ITER_PAGE_SIZE) -> AsyncIterator[DevicePair]:
        """Every device pair of the organization, fetching pages lazily."""
        check_paging(1, page_size)
        async for item in self._iter_all(self.list_page, page_size=page_size):
            yield item

    # -- device management (docs/explanation/api-notes.md#devices)
    # ----------------------------------------------------------------

    async def state(self, sn: str, *, project_uuid: str | None = None) -> DeviceState:
        """The device's thing-model snapshot (battery, position, RTK, storage, firmware, ...).

        ``GET /openapi/v0.1/device/{device_sn}/state`` (docs/explanation/api-notes.md#devices). The
        schema differs per device
        model, so the thing model is kept whole in ``DeviceState.properties``. Both reply forms
        are read (docs/explanation/api-notes.md#live): flat, or wrapped as
        ``{device_sn, device_model, device_state: {...}}``.
        """
        path = f"{BASE}/{path_param('sn', sn)}/state"
        project = self._project_for(project_uuid, "devices")

        def parse(data: Any) -> DeviceState:
            if data is None:
                return DeviceState(sn=sn)
            if not isinstance(data, Mapping):
                raise TypeError(f"expected an object, got {type(data).__name__}")
            return _parse_state(sn, data)

        return await self._get(path, project_uuid=project, parse=parse)

    async def hms(
        self,
        sns: str | Sequence[str],
        *,
        language: str | None = None,
        project_uuid: str | None = None,
    ) -> builtins.list[DeviceHms]:
        """Health (HMS) messages of one or more devices.

        ``GET /openapi/v0.1/device/hms?device_sn_list=SN1,SN2``
        (docs/explanation/api-notes.md#devices). ``sns``: the serial
        numbers (a single string is one SN). Returns one :class:`DeviceHms` per device the
        server reports, each with ``items`` (level, module, ``in_the_key``, code, message,
        args, imminent). ``language`` (e.g. ``"en"``) is sent as the ``language`` query
        (docs/explanation/api-notes.md#live).
        """
        serials = _text_list("sns", sns)
        params = {"device_sn_list": ",".join(serials)}
        if language is not None:
            params["language"] = require_text("language", language)
        project = self._project_for(project_uuid, "devices")

        def parse(data: Any) -> builtins.list[DeviceHms]:
            return list(parse_page(data, DeviceHms, page=1, page_size=None))

        return await self._get(
            f"{BASE}/hms",
            params=params,
            project_uuid=project,
            parse=parse,
        )

    async def command(self, sn: str, command: str, *, project_uuid: str | None = None) -> None:
        """Send a real-time flight command during a wayline or manual flight.

        ``POST /openapi/v0.1/device/{device_sn}/command`` with ``{"device_command": command}``
        (docs/explanation/api-notes.md#devices). ``command``: a
        :class:`~aiodji.models.DeviceCommand` — ``return_home``,
        ``return_specific_home`` (leap-frog: land at the designated dock),
        ``return_home_cancel``, ``flighttask_pause``, ``flighttask_recovery``.
        """
        path = f"{BASE}/{path_param('sn', sn)}/command"
        require_text("command", command)
        project = self._project_for(project_uuid, "devices")
        body = {"device_command": str(command)}
        await self._post(path, json=body, project_uuid=project, parse=no_data)

    async def change_camera(
        self,
        sn: str,
        camera_index: str,
        camera_position: str,
        *,
        project_uuid: str | None = None,
    ) -> None:
        """Point a dock camera inside or outside the dock.

        ``POST /openapi/v0.1/device/change-camera`` with ``{sn, camera_index, camera_position}``
        (docs/explanation/api-notes.md#devices). ``sn``: the dock; ``camera_index``: from the
        dock's ``camera_list``;
        ``camera_position``: ``"indoor"`` | ``"outdoor"``.
        """
        body = _camera_body(sn, camera_index, "camera_position", camera_position)
        await self._post_camera(f"{BASE}/change-camera", body, project_uuid)

    async def change_lens(
        self, sn: str, camera_index: str, lens_type: str, *, project_uuid: str | None = None
    ) -> None:
        """Switch the aircraft camera's lens. Needs payload control (:meth:`acquire_control`).

        ``POST /openapi/v0.1/device/change-lens`` with ``{sn, camera_index, lens_type}``
        (docs/explanation/api-notes.md#devices). ``sn``: the aircraft; ``camera_index``: from its
        ``camera_list`` (e.g.
        ``"81-0-0"``); ``lens_type``: ``"wide"`` | ``"zoom"`` | ``"ir"``.
        """
        body = _camera_body(sn, camera_index, "lens_type", lens_type)
        await self._post_camera(f"{BASE}/change-lens", body, project_uuid)

    async def acquire_control(
        self, sn: str, payload_index: str | Sequence[str], *, project_uuid: str | None = None
    ) -> ControlResult:
        """Take control of aircraft payloads (needed for lens switch and video quality).

        ``POST /openapi/v0.1/device/control`` with ``{sn, payload_index: [...]}``
        (docs/explanation/api-notes.md#devices).
        ``sn``: the aircraft; ``payload_index``: camera indexes of its ``camera_list`` (e.g.
        ``["81-0-0"]``; a single string is one payload). Returns the controls now held
        (``{drone_sn, controls: [{type, gateway, user, payload_index}]}``,
        docs/explanation/api-notes.md#live).
        """
        project = self._project_for(project_uuid, "devices")
        return await self._post(
            f"{BASE}/control",
            json=self._control_body(sn, payload_index),
            project_uuid=project,
            parse=_parse_control,
        )

    async def release_control(
        self, sn: str, payload_index: str | Sequence[str], *, project_uuid: str | None = None
    ) -> None:
        """Give back control of aircraft payloads taken with :meth:`acquire_control`.

        ``DELETE /openapi/v0.1/device/control`` with the same JSON body as acquire
        (docs/explanation/api-notes.md#devices).
        """
        body = self._control_body(sn, payload_index)
        project = self._project_for(project_uuid, "devices")
        await self._delete(f"{BASE}/control", json=body, project_uuid=project, parse=no_data)

    async def set_video_quality(
        self, sn: str, camera_index: str, quality: str, *, project_uuid: str | None = None
    ) -> None:
        """Set a camera's video transmission quality (aircraft cameras need payload control).

        ``PUT /openapi/v0.1/device/stream/quality`` with ``{sn, camera_index, quality_type}``
        (docs/explanation/api-notes.md#devices). ``quality``: ``"adaptive"`` | ``"smooth"`` |
        ``"ultra_high_definition"``.
        """
        body = _camera_body(sn, camera_index, "quality_type", quality)
        project = self._project_for(project_uuid, "devices")
        await self._put(f"{BASE}/stream/quality", json=body, project_uuid=project, parse=no_data)

    async def rtk_calibration(
        self,
        sn: str,
        *,
        host: str,
        port: int,
        account: str,
        password: str,
        mount_point: str,
        project_uuid: str | None = None,
    ) -> RtkResult:
        """Point the device at a custom network RTK (NTRIP) caster.

        ``POST /openapi/v0.1/device/{device_sn}/rtk`` with ``{host, port, account, password,
        mount_point}`` (docs/explanation/api-notes.md#devices): the caster's host name and TCP
        port, the NTRIP account and
        password, and the mount point. The password never appears in reprs or logs. Returns
        ``{bid, status}`` (docs/explanation/api-notes.md#live).
        """
        path = f"{BASE}/{path_param('sn', sn)}/rtk"
        require_int("port", port, high=65535)
        settings = RtkCalibration(
            host=require_text("host", host),
            port=port,
            account=require_text("account", account),
            password=require_text("password", password),
            mount_point=require_text("mount_point", mount_point),
        )
        project = self._project_for(project_uuid, "devices")
        return await self._post(
            path, json=unstructure(settings), project_uuid=project, parse=_parse_rtk
        )

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _control_body(sn: str, payload_index: str | Sequence[str]) -> dict[str, Any]:
        return {
            "sn": require_text("sn", sn),
            "payload_index": _text_list("payload_index", payload_index),
        }

    async def _post_camera(self, path: str, body: dict[str, Any], project_uuid: str | None) -> None:
        project = self._project_for(project_uuid, "devices")
        await self._post(path, json=body, project_uuid=project, parse=no_data)
