"""Call any operation of :mod:`aiodji.operations` by name, with arguments checked against a
JSON Schema derived from its SDK method's signature — what ``aiodji call``, ``aiodji schema``,
the generated CLI commands and the MCP server share.

The schema comes from the method, not from a second hand-written table: a new SDK argument shows
up everywhere at once. ``project_uuid`` is not an argument here: callers scope the Client.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import enum
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import orjson

from aiodji.errors import InvalidArgumentError
from aiodji.operations import OPERATIONS, Operation, operation
from aiodji.resources._base import filter_keys
from aiodji.serde import SerdeError, structure, unstructure

__all__ = [
    "NotInThisSDK",
    "argument_schema",
    "call_operation",
    "coerce_arguments",
    "find_operation",
    "sdk_callable",
]

SKIPPED_PARAMETERS = frozenset({"self", "project_uuid"})


class NotInThisSDK(InvalidArgumentError):
    """The operation is in the table but this SDK version has no method for it."""


def find_operation(name: str) -> Operation:
    """An operation by name (``converters.create``; ``converters-create`` works too)."""
    try:
        return operation(name.replace("-", "_"))
    except KeyError:
        names = [op.name for op in OPERATIONS]
        close = difflib.get_close_matches(name.replace("-", "_"), names, n=5, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InvalidArgumentError(f"unknown operation {name!r}{hint}") from None


def sdk_callable(client: Any, op: Operation) -> Callable[..., Any]:
    """The bound SDK method for ``op`` on ``client`` (a Client or the Client class's view)."""
    target = client
    for part in op.sdk_method.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise NotInThisSDK(f"{op.name}: this aiodji has no {op.sdk_method}()")
    return typing.cast(Callable[..., Any], target)


def _parameters(method: Callable[..., Any]) -> list[tuple[inspect.Parameter, Any]]:
    try:
        hints = typing.get_type_hints(method)
    except (NameError, TypeError):
        hints = {}
    out: list[tuple[inspect.Parameter, Any]] = []
    for p in inspect.signature(method).parameters.values():
        if p.name in SKIPPED_PARAMETERS or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            out.extend(_unpacked(hints.get(p.name)))
        else:
            out.append((p, hints.get(p.name, Any)))
    return out


def _unpacked(hint: Any) -> list[tuple[inspect.Parameter, Any]]:
    """``**filters: Unpack[SomeTypedDict]`` as one keyword parameter per key (required keys
    without a default), so a schema keeps a resource's filters; a bare ``**kw`` adds none."""
    if typing.get_origin(hint) is not typing.Unpack:
        return []
    (spec,) = typing.get_args(hint)
    _, required = filter_keys(spec)
    return [
        (
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if name in required else None,
            ),
            key_hint,
        )
        for name, key_hint in typing.get_type_hints(spec).items()
    ]


def type_schema(hint: Any) -> dict[str, Any]:
    """A JSON Schema for a Python annotation (enough for a tool caller; unknowns are open)."""
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        if len(args) == 1:
            return type_schema(args[0])
        return {"anyOf": [type_schema(a) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str:
        return {"type": "string"}
    if hint is datetime.datetime:
        return {"type": "string", "format": "date-time"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [str(m.value) for m in hint]}
    if isinstance(hint, type) and attrs.has(hint):
        return {"type": "object", "description": hint.__name__}
    if origin is not None and isinstance(origin, type):
        if issubclass(origin, Mapping):
            return {"type": "object"}
        if issubclass(origin, Sequence) and not issubclass(origin, str):
            return {"type": "array", "items": type_schema(args[0]) if args else {}}
    return {}


def argument_schema(op: Operation, client: Any = None) -> dict[str, Any]:
    """The JSON Schema of ``op``'s arguments (an object; ``required`` = no default)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    try:
        params = _parameters(sdk_callable(client if client is not None else _Probe(), op))
    except NotInThisSDK:
        params = []
        for name in op.path_params:
            properties[name] = {"type": "string"}
            required.append(name)
    for param, hint in params:
        schema = type_schema(hint)
        if param.default is not param.empty and param.default is not None:
            default = unstructure(param.default)
            if isinstance(default, str | int | float | bool):
                schema["default"] = default
        properties[param.name] = schema
        if param.default is param.empty:
            required.append(param.name)
    return {
        "type": "object",
        "title": op.name,
        "description": f"{op.summary} ({op.method} {op.full_path}; risk: {op.risk})",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _probe_client() -> Any:
    from aiodji.client import Client

    return Client(token="schema-probe", base_url="http://127.0.0.1:9")


class _Probe:
    """A lazily built Client used only to read method signatures (never sends anything)."""

    _client: Any = None

    def __getattr__(self, name: str) -> Any:
        if _Probe._client is None:
            _Probe._client = _probe_client()
        return getattr(_Probe._client, name)


def _coerce(name: str, schema: Mapping[str, Any], value: Any) -> Any:
    """A command-line string to the schema's type; JSON values pass through."""
    if not isinstance(value, str):
        return value
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            if value.lower() in ("true", "1", "yes", "on"):
                return True
            if value.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError(value)
        if "anyOf" in schema and value[:1] not in ("{", "["):
            return _coerce_any_of(schema["anyOf"], value)
        if kind in ("object", "array") or "anyOf" in schema:
            if value[:1] in ("{", "["):
                return orjson.loads(value)
            if kind == "array":
                items = schema.get("items", {})
                return [_coerce(name, items, v) for v in value.split(",") if v]
            if {"type": "integer"} in schema.get("anyOf", ()) and value.lstrip("-").isdigit():
                return int(value)  # unix seconds where a time may also be RFC 3339 text
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidArgumentError(f"{name}: {value!r} is not a valid {kind}") from None
    return value


def _coerce_any_of(choices: Sequence[Mapping[str, Any]], value: str) -> Any:
    """The first alternative a command-line string fits: ``1700000000`` is the integer of
    ``int | datetime``, ``2026-01-01T00:00:00Z`` its date-time; else the string itself."""
    for choice in choices:
        with contextlib.suppress(ValueError):
            if choice.get("type") == "integer":
                return int(value)
            if choice.get("type") == "number":
                return float(value)
            if choice.get("format") == "date-time":
                return datetime.datetime.fromisoformat(value)
    return value


def coerce_arguments(op: Operation, raw: Mapping[str, Any], client: Any = None) -> dict[str, Any]:
    """Check names and required arguments, convert strings; a mistake is InvalidArgumentError."""
    schema = argument_schema(op, client)
    props: dict[str, Any] = schema["properties"]
    unknown = sorted(set(raw) - set(props))
    if unknown:
        raise InvalidArgumentError(
            f"{op.name}: unknown argument {', '.join(unknown)} "
            f"(arguments: {', '.join(props) or 'none'})"
        )
    missing = [name for name in schema["required"] if name not in raw]
    if missing:
        raise InvalidArgumentError(f"{op.name}: missing argument {', '.join(missing)}")
    return {name: _coerce(name, props[name], value) for name, value in raw.items()}


async def call_operation(client: Any, op: Operation, arguments: Mapping[str, Any]) -> Any:
    """Call ``op`` through the SDK and return the result as JSON-ready data."""
    method = sdk_callable(client, op)
    hints = dict(_parameters(method))
    kwargs: dict[str, Any] = {}
    for name, value in coerce_arguments(op, arguments, client).items():
        hint = next((h for p, h in hints.items() if p.name == name), Any)
        kwargs[name] = _structured(name, hint, value)
    result = method(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, list) and type(result) is not list:
        result = list(result)  # a Page: cattrs leaves a list subclass as is (reprs in JSON)
    return unstructure(result)


def _structured(name: str, hint: Any, value: Any) -> Any:
    """An attrs model argument given as a JSON object is built into the model (a list of them
    too); one that does not fit is an InvalidArgumentError, not a TypeError deep in the SDK."""
    for candidate in [hint, *typing.get_args(hint)]:
        if isinstance(candidate, type) and attrs.has(candidate) and isinstance(value, Mapping):
            try:
                return structure(value, candidate)
            except SerdeError as exc:
                raise InvalidArgumentError(
                    f"{name}: not a valid {candidate.__name__} ({exc})"
                ) from None
        origin, args = typing.get_origin(candidate), typing.get_args(candidate)
        if origin in (list, tuple, Sequence) and len(args) == 1 and isinstance(value, list):
            return [_structured(name, args[0], item) for item in value]
    return value
