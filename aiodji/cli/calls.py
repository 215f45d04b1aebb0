"""``aiodji call OPERATION``, ``aiodji schema [OPERATION]``: every row of the operation table
from the shell, arguments checked against the schema of the SDK method.

Rails from the table's risk: ``--dry-run`` on any call shows the request and sends nothing;
``dangerous`` operations need ``--yes``.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson
from click.shell_completion import CompletionItem

import aiodji
from aiodji.operation_calls import (
    argument_schema,
    call_operation,
    coerce_arguments,
    find_operation,
)
from aiodji.operations import OPERATIONS, Operation
from aiodji.redact import mask_mapping
from aiodji.serde import unstructure

from .printing import emit_json, stderr, stdout
from .running import run_async
from .settings import Settings, one_project

__all__ = ["call", "register", "schema"]

pass_settings = click.make_pass_decorator(Settings)


def _parse_args(pairs: tuple[str, ...], json_args: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if json_args:
        try:
            loaded = orjson.loads(json_args)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--json-args") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--json-args")
        args.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not k=v", param_hint="--arg")
        args[key.replace("-", "_")] = value
    return args


def run_operation(
    settings: Settings,
    op: Operation,
    args: dict[str, Any],
    *,
    project: str | None,
    dry_run: bool,
    yes: bool,
) -> None:
    if op.risk == "dangerous" and not (yes or dry_run):
        raise click.UsageError(f"{op.name} is dangerous ({op.summary}): add --yes to call it")
    if op.project_scoped and not project and not settings.default_projects:
        raise click.UsageError(f"{op.name} works in a project: give --project UUID|NAME")
    try:
        checked = coerce_arguments(op, args)
    except aiodji.InvalidArgumentError as exc:
        raise click.UsageError(str(exc)) from None
    if dry_run:
        emit_json(
            {
                "type": "dry_run",
                "operation": op.name,
                "method": op.method,
                "path": op.full_path,
                "risk": op.risk,
                "arguments": checked,
            }
        )
        raise SystemExit(0)

    async def main() -> int:
        async with settings.client() as dji:
            client = dji
            if op.project_scoped:
                wanted = project or settings.default_projects[0]
                client = dji.project((await one_project(dji, wanted)).uuid)
            result = await call_operation(client, op, checked)
        _print_result(settings, op, result, checked)
        return 0

    run_async(main)


def _print_result(settings: Settings, op: Operation, result: Any, args: dict[str, Any]) -> None:
    if result is None:  # a write that answers nothing (delete, set_enabled): say what was done
        masked = mask_mapping(args) or {}
        if settings.json:
            emit_json({"type": "done", "operation": op.name, "arguments": masked})
        else:
            shown = " ".join(f"{k}={v}" for k, v in masked.items())
            stdout.print(f"done: {op.name} {shown}".rstrip())
        return
    if isinstance(result, list | tuple):
        result = [unstructure(item) for item in result]  # models inside a Page: JSON, not repr
        if not result:
            stderr.print(f"no {op.name.split('.', 1)[0].replace('_', ' ')}: the list is empty")
    if settings.format == "jsonl" and isinstance(result, list):
        for item in result:
            emit_json({"type": op.name, **item} if isinstance(item, dict) else {"value": item})
        return
    text = orjson.dumps(result, default=str, option=orjson.OPT_INDENT_2).decode()
    sys.stdout.write(text + "\n")


def _call_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--project", help="Project uuid or exact name (project operations)."),
            click.option("--arg", "pairs", multiple=True, help="An argument, k=v; repeatable."),
            click.option("--json-args", help='Arguments as a JSON object: \'{"sn": "..."}\'.'),
            click.option("--dry-run", is_flag=True, help="Show the request, send nothing."),
            click.option("--yes", is_flag=True, help="Confirm a dangerous operation."),
        ]
    ):
        func = option(func)
    return func


def _complete_operation(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``aiodji call <TAB>``: the operation names (``_AIODJI_COMPLETE=bash_source aiodji``)."""
    wanted = incomplete.replace("-", "_")
    return [
        CompletionItem(op.name, help=op.summary) for op in OPERATIONS if op.name.startswith(wanted)
    ]


@click.command("call")
@click.argument("operation", shell_complete=_complete_operation)
@_call_options
@pass_settings
def call(
    settings: Settings,
    operation: str,
    project: str | None,
    pairs: tuple[str, ...],
    json_args: str | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Call any API operation by name (see `aiodji schema`), e.g.
    `aiodji call devices.state --project P --arg sn=1581F...`."""
    try:
        op = find_operation(operation)
    except aiodji.InvalidArgumentError as exc:
        raise click.UsageError(str(exc)) from None
    run_operation(
        settings, op, _parse_args(pairs, json_args), project=project, dry_run=dry_run, yes=yes
    )


@click.command("schema")
@click.argument("operation", required=False, shell_complete=_complete_operation)
def schema(operation: str | None) -> None:
    """The JSON Schema of an operation's arguments; without one, every operation's."""
    if operation is None:
        everything = {
            op.name: {"risk": op.risk, "project_scoped": op.project_scoped, **argument_schema(op)}
            for op in OPERATIONS
        }
        sys.stdout.write(orjson.dumps(everything, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    try:
        op = find_operation(operation)
    except aiodji.InvalidArgumentError as exc:
        raise click.UsageError(str(exc)) from None
    sys.stdout.write(orjson.dumps(argument_schema(op), option=orjson.OPT_INDENT_2).decode() + "\n")


def _generated(op: Operation) -> click.Command:
    verb = op.name.split(".", 1)[1].replace("_", "-")

    @click.command(verb, help=f"{op.summary} ({op.method} {op.path}; {op.risk}).")
    @_call_options
    @pass_settings
    def command(
        settings: Settings,
        project: str | None,
        pairs: tuple[str, ...],
        json_args: str | None,
        dry_run: bool,
        yes: bool,
    ) -> None:
        run_operation(
            settings, op, _parse_args(pairs, json_args), project=project, dry_run=dry_run, yes=yes
        )

    return command


def register(root: click.Group) -> None:
    """``call``, ``schema``, and one command per operation under its area's group (areas and
    verbs that have a hand-written command keep it)."""
    root.add_command(call)
    root.add_command(schema)
    for op in OPERATIONS:
        area = op.name.split(".", 1)[0].replace("_", "-")
        group = root.commands.get(area)
        if group is None:
            group = click.Group(area, help=f"{area} operations (from the operation table).")
            root.add_command(group)
        if not isinstance(group, click.Group):
            continue
        command = _generated(op)
        if command.name not in group.commands:
            group.add_command(command)
