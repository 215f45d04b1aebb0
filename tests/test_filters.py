"""Each paged resource's filters are written once (a TypedDict unpacked by ``list``,
``list_page`` and ``iter``), checked the same way everywhere, and kept by the JSON schemas."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from _servers import LocalServers, envelope
from aiohttp import web

import aiodji
from aiodji.operation_calls import argument_schema, find_operation
from aiodji.resources import livestream, projects, tasks

PAGED = [
    (lambda d: d.tasks, tasks.TaskFilters, ("list", "list_page", "iter")),
    (lambda d: d.converters, livestream.ConverterFilters, ("list", "list_page", "iter")),
    (lambda d: d.projects, projects.ProjectFilters, ("list", "list_page", "iter")),
]


@pytest.mark.parametrize(("namespace", "spec", "methods"), PAGED, ids=["tasks", "conv", "proj"])
def test_list_list_page_and_iter_unpack_the_same_filters(
    namespace: Any, spec: type, methods: tuple[str, ...]
) -> None:
    dji = aiodji.Client(token="t", base_url="http://127.0.0.1:9")
    for name in methods:
        method = getattr(namespace(dji), name)
        var_kw = [
            p for p in inspect.signature(method).parameters.values() if p.kind is p.VAR_KEYWORD
        ]
        hint = typing.get_type_hints(method)[var_kw[0].name]
        assert typing.get_origin(hint) is typing.Unpack and typing.get_args(hint) == (spec,), name


def test_the_schemas_keep_the_filters_and_what_they_require() -> None:
    listed = argument_schema(find_operation("tasks.list"))
    assert {"sn", "begin_at", "end_at", "name", "task_type", "status"} <= set(listed["properties"])
    assert set(listed["required"]) == {"sn", "begin_at", "end_at"}
    assert listed["properties"]["sn"] == {"type": "string"}
    conv = argument_schema(find_operation("converters.list"))
    assert {"device_sn", "camera_index", "schema"} <= set(conv["properties"])
    assert conv["required"] == []
    proj = argument_schema(find_operation("projects.list"))
    assert {"q", "usage", "sort_column", "sort_type"} <= set(proj["properties"])


@pytest.mark.anyio
async def test_filters_are_checked_before_sending_and_sent_as_given() -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.query))
        return envelope({"list": []})

    async with LocalServers() as servers:
        url = await servers.add(handler)
        async with aiodji.Client(token="t", base_url=url, project_uuid="p") as dji:
            with pytest.raises(aiodji.InvalidArgumentError, match="sn"):
                await dji.tasks.list(begin_at=0, end_at=10)  # type: ignore[call-arg]
            with pytest.raises(TypeError, match="colour"):
                await dji.converters.list_page(colour="red")  # type: ignore[call-arg]
            assert seen == []  # nothing sent
            await dji.tasks.list(sn="dock", begin_at=0, end_at=10, name="patrol")
            assert [t async for t in dji.tasks.iter(sn="dock", begin_at=0, end_at=10)] == []
            await dji.converters.list(device_sn="1581F")
            await dji.projects.list(q="site")
    assert seen[0]["sn"] == "dock" and seen[0]["name"] == "patrol" and seen[0]["end_at"] == "10"
    assert "name" not in seen[1]
    assert seen[2]["device_sn"] == "1581F" and seen[3]["q"] == "site"
