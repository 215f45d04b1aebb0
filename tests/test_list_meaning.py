"""One meaning of ``list()`` on every paged resource: every item, all pages
fetched; ``list_page(n)`` is one page; ``list(page=n)`` still returns that page but warns."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _servers import first_project

import aiodji
from aiodji.models import Page
from aiodji.operations import OPERATIONS
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

WIDE_WINDOW = {"begin_at": 0, "end_at": 4_102_444_800}

# a case: (namespace, method and extra arguments of one resource holding >= 2 items)
Setup = Callable[[aiodji.Client, Simulator], Awaitable[tuple[Any, str, dict[str, Any]]]]


async def org_projects(dji: aiodji.Client, sim: Simulator) -> tuple[Any, str, dict[str, Any]]:
    return dji.projects, "list", {}  # the default organization has 3 projects


async def org_devices(dji: aiodji.Client, sim: Simulator) -> tuple[Any, str, dict[str, Any]]:
    return dji.devices, "list", {}  # 6 device pairs


async def project_devices(dji: aiodji.Client, sim: Simulator) -> tuple[Any, str, dict[str, Any]]:
    return dji.project(first_project(sim)).projects, "devices", {}  # 2 pairs


async def waylines(dji: aiodji.Client, sim: Simulator) -> tuple[Any, str, dict[str, Any]]:
    p = dji.project(first_project(sim))
    for i in range(3):
        await p.waylines.finish_upload(name=f"line {i}", object_key=f"wayline/{i}.kmz")
    return p.waylines, "list", {}


async def models3d(dji: aiodji.Client, sim: Simulator) -> tuple[Any, str, dict[str, Any]]:
    p = dji.project(first_project(sim))
    for i in range(3):
        await p.models3d.create(name=f"site {i}", reconstruction_type=["3d"], quality="high")
    return p.models3d, "list", {}


async def tasks(dji: aiodji.Client, sim: Simulator) -> tuple[Any, str, dict[str, Any]]:
    project = first_project(sim)
    p = dji.project(project)
    dock = sim.state.device_pairs(project)[0].gateway.sn
    line = await p.waylines.finish_upload(name="line", object_key="wayline/line.kmz")
    assert line.id is not None
    for i in range(3):
        await p.tasks.create(
            name=f"t{i}", wayline_uuid=line.id, sn=dock, task_type="timed", begin_at=2e9 + i
        )
    return p.tasks, "list", {"sn": dock, **WIDE_WINDOW}


CASES = [org_projects, org_devices, project_devices, waylines, models3d, tasks]


@pytest.mark.parametrize("setup", CASES, ids=[c.__name__ for c in CASES])
async def test_list_returns_every_item_across_pages(
    setup: Setup, sim: Simulator, dji: aiodji.Client
) -> None:
    namespace, name, args = await setup(dji, sim)
    every = getattr(namespace, name)
    one_page = getattr(namespace, f"{name}_page")
    pages = [await one_page(n, page_size=1, **args) for n in (1, 2)]
    assert [len(p) for p in pages] == [1, 1] and pages[1].page == 2
    everything = await every(page_size=1, **args)
    assert isinstance(everything, Page) and len(everything) >= 2
    assert everything.total == len(everything) and not everything.has_more
    assert everything[:2] == [p[0] for p in pages]  # page 2 is the second item
    assert list(await every(**args)) == list(everything)  # the default page size too


@pytest.mark.parametrize("setup", CASES, ids=[c.__name__ for c in CASES])
async def test_list_with_a_page_keeps_that_page_and_warns(
    setup: Setup, sim: Simulator, dji: aiodji.Client
) -> None:
    namespace, name, args = await setup(dji, sim)
    second = await getattr(namespace, f"{name}_page")(2, page_size=1, **args)
    with pytest.warns(DeprecationWarning, match=rf"{name}_page\(page\)") as caught:
        old = await getattr(namespace, name)(page=2, page_size=1, **args)
    assert list(old) == list(second) and old.page == 2 and len(old) == 1
    assert caught[0].filename == __file__  # points at the caller, not at aiodji


async def test_list_without_page_does_not_warn(dji: aiodji.Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(await dji.projects.list(page_size=1)) == 3


async def test_raw_response_of_a_multi_page_list_has_every_reply(dji: aiodji.Client) -> None:
    raw = await dji.with_raw_response.projects.list(page_size=1)
    assert len(raw.parse()) == 3 and len(raw.responses) >= 3
    raw_page = await dji.with_raw_response.projects.list_page(2, page_size=1)
    assert len(raw_page.responses) == 1 and len(raw_page.parse()) == 1


def test_list_operations_map_to_their_one_request_method() -> None:
    # an operation is one HTTP request: ``aiodji call`` / MCP get page arguments, not a walk
    client = aiodji.Client(token="t", base_url="http://127.0.0.1:1")
    for op in OPERATIONS:
        owner, _, method = op.sdk_method.rpartition(".")
        target: Any = client
        for part in owner.split("."):
            target = getattr(target, part)
        assert not hasattr(target, f"{method}_page"), f"{op.name} walks every page"
