"""The MCP tools' results and rails: JSON objects as structured content (never Python reprs),
secrets masked, plan → apply the default way to write, secret operations hidden unless
allowed, and one error boundary (a tool error, never a crash; the server keeps serving)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("mcp")

from mcp import ClientSession
from mcp.client.stdio import stdio_client
from mcp.shared.memory import create_connected_server_and_client_session
from test_mcp import params, payload

import aiodji
from aiodji.mcp import ToolPolicy, build_server
from aiodji.operations import OPERATIONS
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

DIRECT = {"converters_create", "converters_set_enabled", "converters_delete"}
SECRET = {"projects_sts_token", "open_models_obtain_token"}


REPR = re.compile(r"^[A-Z]\w*\(\w+=")  # "Project(uuid=...", "Converter(converter_id=..."


def reprs(value: Any) -> Iterator[str]:
    """Every string in a JSON value that is a Python repr of a model."""
    if isinstance(value, str) and REPR.match(value):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from reprs(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from reprs(v)


async def tool_names(sim: Simulator, tmp_path: Path, *flags: str) -> set[str]:
    async with (
        stdio_client(params(sim, tmp_path, *flags)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return {t.name for t in (await session.list_tools()).tools}


async def test_read_tools_return_json_objects_as_structured_content(tmp_path: Path) -> None:
    async with (
        Simulator(projects=1, docks_per_project=1, converters_per_project=2) as sim,
        stdio_client(params(sim, tmp_path)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        project = next(iter(sim.state.projects))
        for name, args in [
            ("projects_list", {}),
            ("projects_devices", {"project_uuid": project}),
            ("converters_list", {"project_uuid": project}),
            ("waylines_list", {"project_uuid": project}),
        ]:
            result = await session.call_tool(name, args)
            body = payload(result)
            assert result.structuredContent == body  # the text is the structured content
            items = body["items"]
            assert items and all(isinstance(item, dict) for item in items), name
            assert not list(reprs(items)), name
        projects = payload(await session.call_tool("projects_list", {}))["items"]
        assert projects[0]["uuid"] == project and isinstance(projects[0]["name"], str)
        converters = payload(await session.call_tool("converters_list", {"project_uuid": project}))
        text = orjson.dumps(converters).decode()
        for c in sim.state.converters.values():
            assert c.url is not None and c.url not in text  # stream keys masked
        assert "/***" in text


async def test_direct_converter_writes_only_with_their_flag(tmp_path: Path) -> None:
    async with Simulator(projects=1) as sim:
        default = await tool_names(sim, tmp_path)
        assert not DIRECT & default and {"plan", "apply"} <= default
        assert "livestream_start" in default  # a write the fleet does not plan stays
        direct = await tool_names(sim, tmp_path, "--allow-direct-writes")
        assert {"converters_create", "converters_set_enabled"} <= direct
        assert "converters_delete" not in direct  # dangerous as well
        both = await tool_names(sim, tmp_path, "--allow-direct-writes", "--allow-dangerous")
        assert both >= DIRECT


async def test_secret_operations_are_hidden_unless_allowed(tmp_path: Path) -> None:
    assert {op.name for op in OPERATIONS if op.risk == "secret"} >= {"projects.sts_token"}
    async with Simulator(projects=1) as sim:
        assert not SECRET & await tool_names(sim, tmp_path)
        assert not SECRET & await tool_names(sim, tmp_path, "--allow-dangerous")
        assert not SECRET & await tool_names(sim, tmp_path, "--read-only", "--allow-secrets")
        async with (
            stdio_client(params(sim, tmp_path, "--allow-secrets")) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert names >= SECRET
            project = next(iter(sim.state.projects))
            sts = payload(await session.call_tool("projects_sts_token", {"project_uuid": project}))
            assert sts["credentials"]["access_key_secret"] != "***"  # allowed: in clear


async def test_plan_of_a_selection_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    async with (
        Simulator(projects=1, converters_per_project=2) as sim,
        stdio_client(params(sim, tmp_path)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        nothing = await session.call_tool("plan", {"enabled": False, "names": ["nope-*"]})
        assert nothing.isError and "matches no converter" in nothing.content[0].text
        shown = payload(await session.call_tool("plan", {"enabled": True}))
        assert all(c["action"] == "enable" and "key" in c for c in shown["changes"])
        direct = await session.call_tool("converters_set_enabled", {"converter_id": "x"})
        assert direct.isError and "use plan, then apply" in direct.content[0].text
        secret = await session.call_tool("projects_sts_token", {"project_uuid": "p"})
        assert secret.isError and "--allow-secrets" in secret.content[0].text


async def test_an_unexpected_error_is_a_tool_error_and_the_server_keeps_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("AIODJI_DEBUG", raising=False)

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom in the SDK")

    monkeypatch.setattr("aiodji.mcp.server.call_operation", broken)
    async with (
        Simulator(projects=1) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        server = build_server(dji, policy=ToolPolicy())
        async with create_connected_server_and_client_session(server) as session:
            failed = await session.call_tool("projects_list", {})
            assert failed.isError
            text = failed.content[0].text  # type: ignore[union-attr]
            assert text.startswith("internal error: RuntimeError: boom in the SDK (details: ")
            assert "crash-mcp-" in text  # the traceback went to a crash file
            known = await session.call_tool("apply", {"plan_id": "nope"})
            assert known.isError
            assert "no plan 'nope'" in known.content[0].text  # type: ignore[union-attr]
            again = await session.call_tool("plan", {"enabled": True})  # still serving
            assert not again.isError


async def test_what_the_fuzz_found_is_a_clear_tool_error() -> None:
    """A list of model objects is built into models; a control character in a header-bound
    argument is refused by name (both were internal errors)."""
    async with (
        Simulator(projects=1) as sim,
        aiodji.Client(token=sim.token, base_url=sim.url) as dji,
    ):
        server = build_server(dji, policy=ToolPolicy())
        async with create_connected_server_and_client_session(server) as session:
            bad_files = await session.call_tool(
                "open_models_upload_callback",
                {"resource_uuid": "r", "callback_param": "c", "files": [{"nam": 1}]},
            )
            good_files = await session.call_tool(
                "open_models_upload_callback",
                {
                    "resource_uuid": "r",
                    "callback_param": "c",
                    "files": [{"name": "a", "etag": "e"}],
                },
            )
            header = await session.call_tool(
                "tasks_get", {"task_uuid": "t", "project_uuid": "\x07"}
            )
        for result in (bad_files, good_files, header):
            text = result.content[0].text  # type: ignore[union-attr]
            assert not text.startswith("internal error"), text
        assert header.isError and "control characters" in header.content[0].text  # type: ignore[union-attr]
