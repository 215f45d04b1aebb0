"""An MCP server (stdio, the official ``mcp`` SDK): one tool per operation of
:mod:`aiodji.operations` with its argument JSON Schema, and the fleet tools ``plan`` and
``apply``: an agent changes a fleet only through a plan it has shown, and only while that plan
is fresh and the live state still matches it.

Which operations are tools is :class:`aiodji.mcp.policy.ToolPolicy`'s: reads always; the
converter writes the fleet plans only with ``allow_direct_writes`` (else through plan → apply);
``dangerous`` ones with ``allow_dangerous``, ``secret`` ones with ``allow_secrets``; under
``read_only`` only reads and ``plan``. Results are JSON objects (structured content, the
serialized JSON as text) with secrets masked; every failure is a tool error result — an
unexpected one carries ``report_internal_error``'s line — and the server keeps serving.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import mcp.types as types
import orjson
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

import aiodji
from aiodji.crash import report_internal_error
from aiodji.errors import DJIError
from aiodji.fleet import Desired, Plan, change_record, result_record
from aiodji.fleet.selection import Selection
from aiodji.operation_calls import argument_schema, call_operation
from aiodji.operations import OPERATIONS, Operation
from aiodji.redact import redact_text

from .policy import ToolPolicy, project_arg, structured, tool_name

__all__ = ["PlanBook", "ToolPolicy", "build_server", "serve", "tool_name"]

DEFAULT_PLAN_TTL = 600.0  # seconds a plan may be applied after it was made

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A desired state: desired_toml (the file format of `converters apply`), or "
    "enabled + projects (+ names) for one enable/disable rule.",
    "properties": {
        "desired_toml": {"type": "string"},
        "enabled": {"type": "boolean"},
        "projects": {"type": "array", "items": {"type": "string"}},
        "names": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}
APPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"plan_id": {"type": "string"}},
    "required": ["plan_id"],
    "additionalProperties": False,
}


@attrs.define
class PlanBook:
    """Plans shown to the agent: id → (desired, plan, made at). Pure bookkeeping."""

    ttl: float = DEFAULT_PLAN_TTL
    clock: Callable[[], float] = time.monotonic
    plans: dict[str, tuple[Desired, Plan, float]] = attrs.field(factory=dict)

    def add(self, desired: Desired, plan: Plan) -> str:
        plan_id = uuid.uuid4().hex[:12]
        self.plans[plan_id] = (desired, plan, self.clock())
        return plan_id

    def take(self, plan_id: str) -> tuple[Desired, Plan]:
        """The plan to apply; refused when unknown or older than ``ttl`` (it is dropped)."""
        found = self.plans.pop(plan_id, None)
        if found is None:
            raise aiodji.InvalidArgumentError(f"no plan {plan_id!r}: make one with `plan`")
        desired, plan, made = found
        if self.clock() - made > self.ttl:
            raise aiodji.InvalidArgumentError(
                f"plan {plan_id} is older than {self.ttl / 60:g} minutes: make a new one"
            )
        return desired, plan


def same_changes(shown: Plan, now: Plan) -> bool:
    return [c.key for c in shown.changes] == [c.key for c in now.changes]


def _desired(arguments: dict[str, Any]) -> Desired:
    if "desired_toml" in arguments:
        return Desired.from_toml(str(arguments["desired_toml"]) + "\n")
    if "enabled" not in arguments:
        raise aiodji.InvalidArgumentError("give desired_toml, or enabled (+ projects, names)")
    projects = arguments.get("projects") or "all"
    if projects == ["all"]:
        projects = "all"
    selection = Selection.build(projects, names=arguments.get("names"))
    return Desired.enabled(bool(arguments["enabled"]), selection)


def build_server(
    client: aiodji.Client,
    *,
    policy: ToolPolicy | None = None,
    book: PlanBook | None = None,
) -> Server[Any, Any]:
    policy = policy or ToolPolicy()
    book = book or PlanBook()
    ops = policy.tools()
    server: Server[Any, Any] = Server("aiodji")

    @server.list_tools()  # type: ignore[no-untyped-call,untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [*_operation_tools(client, ops), *_fleet_tools(policy, book)]

    @server.call_tool()  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await _answer(client, ops, book, policy, name, dict(arguments or {}))

    return server


def _operation_tools(client: aiodji.Client, ops: dict[str, Operation]) -> list[types.Tool]:
    tools = []
    for name, op in ops.items():
        schema = argument_schema(op, client)
        if op.project_scoped:
            schema["properties"]["project_uuid"] = {"type": "string"}
            schema["required"] = [*schema["required"], "project_uuid"]
        tools.append(types.Tool(name=name, description=schema["description"], inputSchema=schema))
    return tools


def _fleet_tools(policy: ToolPolicy, book: PlanBook) -> list[types.Tool]:
    tools = [
        types.Tool(
            name="plan",
            description="Plan converter changes (nothing changes): returns plan_id and "
            "the change list. Show it before `apply`.",
            inputSchema=PLAN_SCHEMA,
        )
    ]
    if not policy.read_only:
        tools.append(
            types.Tool(
                name="apply",
                description=f"Apply a plan made by `plan` (refused after "
                f"{book.ttl / 60:g} minutes, or when the live state changed).",
                inputSchema=APPLY_SCHEMA,
            )
        )
    return tools


async def _answer(
    client: aiodji.Client,
    ops: dict[str, Operation],
    book: PlanBook,
    policy: ToolPolicy,
    name: str,
    arguments: dict[str, Any],
) -> types.CallToolResult:
    """The error boundary of one tool call: a result, or a tool error — never a crash."""
    try:
        value = await _dispatch(client, ops, book, name, arguments, policy)
        op = ops.get(name)
        content = structured(value, reveal=op is not None and op.risk == "secret")
    except DJIError as exc:
        return _error(f"{type(exc).__name__}: {redact_text(str(exc))}")
    except Exception as exc:  # the last line: one line, details in a crash file
        return _error(report_internal_error(exc, entry="mcp"))
    text = orjson.dumps(content).decode()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structuredContent=content
    )


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)


async def _dispatch(
    client: aiodji.Client,
    ops: dict[str, Operation],
    book: PlanBook,
    name: str,
    arguments: dict[str, Any],
    policy: ToolPolicy,
) -> Any:
    if name == "plan":
        desired = _desired(arguments)
        plan = await client.fleet.plan(desired)
        if plan.empty and not plan.unchanged:  # as the CLI (exit 5 there)
            raise aiodji.InvalidArgumentError("the selection matches no converter: nothing to do")
        plan_id = book.add(desired, plan)
        changes = [change_record(c) for c in (*plan.changes, *plan.skipped)]
        return {"plan_id": plan_id, "summary": plan.summary(), "changes": changes}
    if name == "apply" and not policy.read_only:
        desired, shown = book.take(str(arguments.get("plan_id", "")))
        now = await client.fleet.plan(desired)
        if not same_changes(shown, now):
            raise aiodji.InvalidArgumentError(
                "the live state changed since the plan was shown: make a new plan"
            )
        report = await client.fleet.apply(now)
        failures = [result_record(r) for r in report.failures[:20]]
        return {"type": "summary", **report.counts, "ok": report.ok, "failures": failures}
    op = ops.get(name)
    if op is None:
        raise aiodji.InvalidArgumentError(_unknown_tool(name, policy))
    target = client
    if op.project_scoped:
        target = client.project(project_arg(arguments.pop("project_uuid", None)))
    return await call_operation(target, op, arguments)


def _unknown_tool(name: str, policy: ToolPolicy) -> str:
    hidden = next((op for op in OPERATIONS if tool_name(op) == name), None)
    if hidden is None:
        return f"no tool {name!r}: see tools/list"
    return f"the tool {name!r} is not offered: {policy.hidden_because(hidden)}"


async def serve(
    client: aiodji.Client,
    *,
    policy: ToolPolicy | None = None,
    plan_ttl: float = DEFAULT_PLAN_TTL,
) -> None:
    """Serve over stdin/stdout until the client hangs up."""
    server = build_server(client, policy=policy, book=PlanBook(plan_ttl))
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
