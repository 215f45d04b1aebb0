"""Reply fixtures (tests/data/replies/<operation>.json, written from
docs/explanation/api-notes.md#live) structure under
the strict converter into their models and keep every value the reply carried."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from aiodji import models as m
from aiodji.operations import operation
from aiodji.serde import structure

REPLIES = Path(__file__).parent / "data" / "replies"
ITEM: dict[str, type] = {  # list replies: data.list[] of this model
    "projects.list": m.Project,
    "devices.list": m.DevicePair,
    "projects.devices": m.DevicePair,
    "devices.hms": m.DeviceHms,
    "converters.list": m.Converter,
    "tasks.list": m.FlightTask,
    "tasks.media": m.TaskMedia,
    "waylines.list": m.Wayline,
    "models3d.list": m.Model3D,
    "open_models.running": m.OpenModel,
}
ONE: dict[str, type] = {
    "projects.sts_token": m.StsToken,
    "devices.acquire_control": m.ControlResult,
    "devices.rtk_calibration": m.RtkResult,
    "livestream.start": m.LiveStream,
    "converters.create": m.Converter,
    "tasks.create": m.FlightTaskCreated,
    "tasks.get": m.FlightTask,
    "tasks.track": m.TaskTrack,
    "waylines.finish_upload": m.WaylineUploaded,
    "waylines.get": m.WaylineDetail,
    "models3d.create": m.Model3DCreated,
    "models3d.get": m.Model3D,
    "annotations.create": m.AnnotationCreated,
    "open_models.obtain_token": m.OpenModelUploadToken,
    "open_models.get_resource": m.OpenModelResource,
    "open_models.get": m.OpenModel,
    "open_models.upload_callback": m.OpenModelsUploaded,
    "open_models.start": m.OpenModelsStarted,
}
FILES = sorted(REPLIES.glob("*.json"))


def _kept(raw: Any, value: Any) -> None:
    """Every non-null value of ``raw`` reached ``value`` (under its own or an alias name)."""
    if attrs.has(type(value)):
        assert isinstance(raw, dict)
        by_wire: dict[str, Any] = {}
        for a in attrs.fields(type(value)):
            for name in (a.metadata.get("wire", a.name), *a.metadata.get("aliases", ())):
                by_wire[name] = getattr(value, a.name)
        for key, item in raw.items():
            assert key in by_wire, key
            if item is None:
                continue
            _kept(item, by_wire[key])
    elif isinstance(value, dt.datetime):
        assert value.tzinfo is not None and raw is not None
    elif isinstance(value, list):
        assert len(value) == len(raw)
        for r, v in zip(raw, value, strict=True):
            _kept(r, v)
    else:
        assert value == raw or str(value) == str(raw) or float(value) == float(raw)


def test_one_fixture_per_known_operation() -> None:
    names = {f.stem for f in FILES}
    assert names == ITEM.keys() | ONE.keys()
    for name in names:
        operation(name)  # every fixture names a row of the operation table


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_fixture_structures_strictly_and_keeps_every_value(path: Path) -> None:
    data = json.loads(path.read_text())["data"]
    if path.stem in ITEM:
        raw_items = data["list"] or []
        items = structure(raw_items, list[ITEM[path.stem]], strict=True)  # type: ignore[valid-type]
        _kept(raw_items, items)
    else:
        _kept(data, structure(data, ONE[path.stem], strict=True))
