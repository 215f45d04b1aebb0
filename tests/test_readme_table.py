"""The endpoint table (docs/reference/endpoints.md) lists every endpoint, only real methods."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import aiodji
from aiodji.operations import OPERATIONS

README = Path(__file__).resolve().parents[1] / "docs" / "reference" / "endpoints.md"

# every (method, path) under /openapi/v0.1: the operation table (itself checked against the spec
# in test_operations.py), so the README, the table and the spec cannot drift apart
API_ENDPOINTS = {(op.method, op.path) for op in OPERATIONS}
# docs/explanation/api-notes.md#not-found rows whose path was not found: listed, pointing at
# dji.request.
NOT_FOUND = ("relay pairing mode", "relay pairing result")
# docs/explanation/api-notes.md#live: a doc table of WKT strings
NOT_ENDPOINTS = ("coordinate systems",)

ENDPOINT = re.compile(r"^`(GET|POST|PUT|DELETE) (/[^`\s]*)`$")
METHOD_NAME = re.compile(r"`(dji(?:\.[a-z_][a-z0-9_]*)+)\(")


def endpoint_rows() -> list[tuple[str, str]]:
    """(endpoint cell, method cell) of each row of the table under "## Endpoints"."""
    text = README.read_text(encoding="utf-8")
    start = text.index("# Endpoints\n")
    end = text.find("\n#", start + 1)
    rows = []
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and not set(cells[0]) <= {"-"}:
            rows.append((cells[0], cells[1]))
    return rows[1:]  # without the header row


def test_every_api_endpoint_is_listed_once() -> None:
    listed = []
    for endpoint, _ in endpoint_rows():
        match = ENDPOINT.match(endpoint)
        if match:
            listed.append((match[1], match[2]))
    assert sorted(listed) == sorted(API_ENDPOINTS)


def test_rows_without_a_path_point_to_the_low_level_call() -> None:
    rows = endpoint_rows()
    for name in NOT_FOUND:
        hits = [method for endpoint, method in rows if name in endpoint]
        assert hits, f"no row for {name!r}"
        assert all("not found" in m and "dji.request(" in m for m in hits)
    for endpoint, method in rows:
        doc_only = any(name in endpoint for name in NOT_ENDPOINTS) and "not an endpoint" in method
        assert ENDPOINT.match(endpoint) or "not found" in method or doc_only, endpoint


def resolve(client: aiodji.Client, dotted: str) -> Any:
    target: Any = client
    for part in dotted.split(".")[1:]:
        target = getattr(target, part)
    return target


def test_every_method_named_exists_on_the_client() -> None:
    names = [n for _, method in endpoint_rows() for n in METHOD_NAME.findall(method)]
    assert len(names) >= len(API_ENDPOINTS)
    client = aiodji.Client(token="t", base_url="http://127.0.0.1:1")
    missing = []
    for name in names:
        try:
            fn = resolve(client, name)
        except AttributeError:
            missing.append(name)
            continue
        assert inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn), name
    assert not missing, f"README names methods the Client lacks: {missing}"


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_pattern_rejects_a_bad_row(method: str) -> None:
    # guard: the parser must not accept what it is meant to catch
    assert ENDPOINT.match(f"`{method} /wayline`")
    assert not ENDPOINT.match(f"{method} /wayline")
    assert not ENDPOINT.match(f"`{method} wayline`")
