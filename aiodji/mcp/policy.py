"""Which operations the MCP server offers, and what its tool results look like (pure).

By default an agent reads, plans and applies: the converter writes the fleet plans
(``converters_create``, ``converters_set_enabled``, ``converters_delete``) are direct tools only
with ``allow_direct_writes``; ``dangerous`` operations need ``allow_dangerous``; ``secret`` ones
(their reply carries credentials) need ``allow_secrets``. ``read_only`` offers reads and ``plan``
and nothing else, whatever else is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import orjson

from aiodji._args import require_text
from aiodji.errors import InvalidArgumentError
from aiodji.operations import OPERATIONS, Operation
from aiodji.redact import mask_mapping

__all__ = ["PLANNED_WRITES", "ToolPolicy", "project_arg", "structured", "tool_name"]

# converter writes that `plan` → `apply` makes, with a plan the agent has shown
PLANNED_WRITES = frozenset({"converters.create", "converters.set_enabled", "converters.delete"})


def tool_name(op: Operation) -> str:
    return op.name.replace(".", "_")


@attrs.frozen
class ToolPolicy:
    """What the operator allowed (``aiodji mcp serve`` flags)."""

    read_only: bool = False
    allow_dangerous: bool = False
    allow_direct_writes: bool = False
    allow_secrets: bool = False

    def offers(self, op: Operation) -> bool:
        if op.risk == "read":
            return True
        if self.read_only:
            return False
        if op.name in PLANNED_WRITES and not self.allow_direct_writes:
            return False
        if op.risk == "secret":
            return self.allow_secrets
        return op.risk == "write" or (op.risk == "dangerous" and self.allow_dangerous)

    def hidden_because(self, op: Operation) -> str:
        """Why ``op`` is not a tool here: the flag that would offer it."""
        if self.read_only:
            return "the server is --read-only"
        if op.name in PLANNED_WRITES and not self.allow_direct_writes:
            return "use plan, then apply (or serve with --allow-direct-writes)"
        # worded so that redact_text's "secret: value" rule leaves the message alone
        if op.risk == "secret":
            return "its reply carries credentials (serve with --allow-secrets)"
        if op.risk == "dangerous":
            return "it is dangerous (serve with --allow-dangerous)"
        return "not allowed"

    def tools(self, operations: Iterable[Operation] = OPERATIONS) -> dict[str, Operation]:
        return {tool_name(op): op for op in operations if self.offers(op)}


def _masked(value: Any) -> Any:
    """Secrets masked at every depth (mask_mapping does mappings; lists hold mappings too)."""
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, Mapping):
        return mask_mapping({k: _masked(v) for k, v in value.items()})
    return value


def structured(value: Any, *, reveal: bool = False) -> dict[str, Any]:
    """A tool's structured content: a JSON object of JSON types (a list is ``{"items": [...]}``,
    anything else ``{"result": ...}``), its secrets masked unless ``reveal``."""
    plain = orjson.loads(orjson.dumps(value, default=str))
    if not reveal:
        plain = _masked(plain)
    if isinstance(plain, dict):
        return plain
    if isinstance(plain, list):
        return {"items": plain}
    return {"result": plain}


def project_arg(value: object) -> str:
    """A ``project_uuid`` argument: it travels in a header, where any control character is
    refused by the HTTP stack (a ValueError deep in aiohttp, not a clear error)."""
    text = require_text("project_uuid", value)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidArgumentError("project_uuid must not contain control characters")
    return text
