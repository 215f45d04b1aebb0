"""Fuzz the MCP tools over real stdio: hypothesis-generated tool names and arguments (well-typed
from each tool's schema, or anything at all) against the simulator. Every answer is a result or
a tool error — never a crash, never an internal error — and the server keeps serving."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from mcp import ClientSession
from mcp.client.stdio import stdio_client
from mcp.types import Tool
from test_mcp import params

from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

CALLS_PER_SERVER = 60
BUDGET_SECONDS = 45.0  # the whole test stays under a minute on a loaded machine

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "[/]", "[bold]x[/bold]", "all", "*", "../../etc/passwd", "\x00\x1b["]
    ),
    st.text(alphabet="0123456789-abcdef", min_size=36, max_size=36),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=8,
)


def value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of the schema's JSON type (often valid, sometimes at the edges)."""
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        return texts
    if kind == "integer":
        return st.integers(min_value=-(2**40), max_value=2**40)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(value_for(schema.get("items", {})), max_size=3)
    return json_values


@st.composite
def tool_calls(draw: st.DrawFn, tools: list[Tool], project: str) -> tuple[str, dict[str, Any]]:
    if draw(st.integers(0, 19)) == 19:
        return draw(texts), draw(st.dictionaries(texts, json_values, max_size=3))
    tool = draw(st.sampled_from(tools))
    properties: dict[str, Any] = tool.inputSchema.get("properties", {})
    args: dict[str, Any] = {}
    for name, schema in properties.items():
        if draw(st.booleans()):
            args[name] = draw(value_for(schema))
    if "project_uuid" in properties and draw(st.integers(0, 3)) < 3:
        args["project_uuid"] = project  # mostly a real project: reach past the look-up
    if draw(st.integers(0, 9)) == 9:
        args[draw(texts)] = draw(json_values)  # an unknown argument
    return tool.name, args


@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],  # no shrinking: each example is a server process
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_every_tool_call_is_a_result_or_a_tool_error(
    data: st.DataObject, tmp_path: Path
) -> None:
    flags = data.draw(st.sampled_from([(), ("--read-only",), ("--allow-direct-writes",)]))
    started = time.monotonic()
    async with (
        Simulator(projects=2, docks_per_project=1, converters_per_project=2) as sim,
        stdio_client(params(sim, tmp_path, *flags)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = (await session.list_tools()).tools
        project = next(iter(sim.state.projects))
        answers = {"result": 0, "error": 0}
        for _ in range(CALLS_PER_SERVER):
            if time.monotonic() - started > BUDGET_SECONDS / 2:
                break
            name, args = data.draw(tool_calls(tools, project))
            result = await session.call_tool(name, args)  # a protocol error would raise
            text = "".join(getattr(c, "text", "") for c in result.content)
            assert not text.startswith("internal error:"), (name, args, text)
            assert "Traceback" not in text
            answers["error" if result.isError else "result"] += 1
        assert (await session.list_tools()).tools  # still serving
        assert answers["result"] + answers["error"] > 0
