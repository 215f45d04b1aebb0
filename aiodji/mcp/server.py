"""An MCP server (stdio, the official ``mcp`` SDK): one tool per operation of
:mod:`aiodji.operations` with its argument JSON Schema, and the fleet tools ``plan`` and
``apply``: an agent changes a fleet only through a plan it has shown, and only while that plan
is fresh and the live state still matches it.

``read_only``: only ``read`` operations and ``plan``. ``dangerous`` operations are listed and
callable only with ``allow_dangerous``.
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
from aiodji.fleet import Desired, Plan
from aiodji.fleet.selection import Selection
from aiodji.operation_calls import argument_schema, call_operation
from aiodji.operations import OPERATIONS, Operation

__all__ = ["PlanBook", "build_server", "serve", "tool_name"]

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


def tool_name(op: Operation) -> str:
    return op.name.replace(".", "_")


def _changes(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "action": c.description,
            "key": c.key,
            "project": c.project_name,
            "converter_id": c.converter_id,
            "converter_name": c.converter_name,
        }
        for c in (*plan.changes, *plan.skipped)
    ]


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
    read_only: bool = False,
    allow_dangerous: bool = False,
    book: PlanBook | None = None,
) -> Server[Any, Any]:
    book = book or PlanBook()
    allowed = {"read"} | (set() if read_only else {"write"})
    if allow_dangerous and not read_only:
        allowed.add("dangerous")
    ops = {tool_name(op): op for op in OPERATIONS if op.risk in allowed}
    server: Server[Any, Any] = Server("aiodji")

    @server.list_tools()  # type: ignore[no-untyped-call,untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        tools = []
        for name, op in ops.items():
            schema = argument_schema(op, client)
            if op.project_scoped:
                schema["properties"]["project_uuid"] = {"type": "string"}
                schema["required"] = [*schema["required"], "project_uuid"]
            tools.append(
                types.Tool(name=name, description=schema["description"], inputSchema=schema)
            )
        tools.append(
            types.Tool(
                name="plan",
                description="Plan converter changes (nothing changes): returns plan_id and "
                "the change list. Show it before `apply`.",
                inputSchema=PLAN_SCHEMA,
            )
        )
        if not read_only:
            tools.append(
                types.Tool(
                    name="apply",
                    description=f"Apply a plan made by `plan` (refused after "
                    f"{book.ttl / 60:g} minutes, or when the live state changed).",
                    inputSchema=APPLY_SCHEMA,
                )
            )
        return tools

    @server.call_tool()  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        result = await _dispatch(client, ops, book, name, dict(arguments or {}), read_only)
        text = orjson.dumps(result, default=str).decode()
        return [types.TextContent(type="text", text=text)]

    return server


async def _dispatch(
    client: aiodji.Client,
    ops: dict[str, Operation],
    book: PlanBook,
    name: str,
    arguments: dict[str, Any],
    read_only: bool,
) -> Any:
    if name == "plan":
        desired = _desired(arguments)
        plan = await client.fleet.plan(desired)
        plan_id = book.add(desired, plan)
        return {"plan_id": plan_id, "summary": plan.summary(), "changes": _changes(plan)}
    if name == "apply" and not read_only:
        desired, shown = book.take(str(arguments.get("plan_id", "")))
        now = await client.fleet.plan(desired)
        if not same_changes(shown, now):
            raise aiodji.InvalidArgumentError(
                "the live state changed since the plan was shown: make a new plan"
            )
        report = await client.fleet.apply(now)
        return {"type": "summary", **report.counts, "ok": report.ok}
    op = ops.get(name)
    if op is None:
        raise aiodji.InvalidArgumentError(f"no tool {name!r} here (read-only or not allowed)")
    target = client
    if op.project_scoped:
        target = client.project(str(arguments.pop("project_uuid", "")))
    return await call_operation(target, op, arguments)


async def serve(
    client: aiodji.Client,
    *,
    read_only: bool = False,
    allow_dangerous: bool = False,
    plan_ttl: float = DEFAULT_PLAN_TTL,
) -> None:
    """Serve over stdin/stdout until the client hangs up."""
    server = build_server(
        client, read_only=read_only, allow_dangerous=allow_dangerous, book=PlanBook(plan_ttl)
    )
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
