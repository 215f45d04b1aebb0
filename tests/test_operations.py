"""The operation table, checked both ways: against the spec (tests/data/fh2-openapi.yaml) and
against the Client and the simulator's routes — nothing missing, nothing extra."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

import aiodji
from aiodji.operations import API_PREFIX, OPERATIONS, operation, operations_by_risk
from aiodji.sim import Simulator

SPEC = Path(__file__).parent / "data" / "fh2-openapi.yaml"
METHODS = {"get", "post", "put", "delete", "patch"}
# operation areas whose simulator routes are not built yet (none)
PENDING_AREAS: tuple[str, ...] = ()


def _spec_operations() -> set[tuple[str, str]]:
    paths = yaml.safe_load(SPEC.read_text())["paths"]
    return {(m.upper(), p) for p, item in paths.items() for m in item if m in METHODS}


def _built() -> list[aiodji.operations.Operation]:
    return [op for op in OPERATIONS if not op.name.startswith(PENDING_AREAS)]


def test_the_table_is_the_spec() -> None:
    table = {(op.method, op.path) for op in OPERATIONS}
    assert len(table) == len(OPERATIONS) == 42
    assert table == _spec_operations()


def test_names_are_unique_and_found() -> None:
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS)
    assert operation("converters.create").sdk_method == "livestream.converters.create"
    assert operation("converters.delete").path_params == ("converter_id",)
    assert operation("system.status").full_path == API_PREFIX + "/system_status"
    with pytest.raises(KeyError):
        operation("nope")
    assert all(op.method == "GET" for op in operations_by_risk("read"))


def _resolve(root: object, dotted: str) -> object:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def test_every_built_operation_has_an_sdk_method() -> None:
    dji = aiodji.Client(token="t", base_url="http://127.0.0.1:9")
    for op in OPERATIONS:
        method = _resolve(dji, op.sdk_method)
        assert inspect.iscoroutinefunction(method), op.name


def test_no_client_namespace_is_missing_from_the_table() -> None:
    namespaces = {op.sdk_method.rsplit(".", 1)[0] for op in OPERATIONS}
    api_areas = {"system", "projects", "devices", "livestream", "livestream.converters"}
    api_areas |= {"tasks", "waylines", "models3d", "annotations"}
    assert api_areas <= namespaces


def test_every_built_operation_has_a_simulator_route() -> None:
    app = Simulator().make_app()
    routes = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.method in {m.upper() for m in METHODS}
    }
    for op in _built():
        assert (op.method, op.full_path) in routes, op.name


def test_open_model_store_path_helpers() -> None:
    store = "fh/organizations/o1/open_reconstruction/tmp/6f1c-batch/{fileName}"
    token = aiodji.models.OpenModelUploadToken(store_path=store)
    assert token.resource_uuid == "6f1c-batch"
    assert token.object_key("IMG_1.JPG").endswith("/tmp/6f1c-batch/IMG_1.JPG")
    with pytest.raises(ValueError):
        aiodji.models.object_key("no/placeholder", "a.jpg")
    with pytest.raises(ValueError):
        token.object_key("../escape.jpg")
