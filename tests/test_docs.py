"""The documentation's structure holds: the README stays a front door, every page of the site's
nav exists, the generated reference covers every command, option and operation, and every
public name has a docstring (the Python API page is generated from them)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import click
import pytest

from aiodji.cli import cli
from aiodji.operations import OPERATIONS

ROOT = Path(__file__).resolve().parent.parent
GENERATED = {
    "reference/cli-commands.md",
    "reference/operations.md",
    "reference/metrics.md",
    "changelog.md",
}
PUBLIC_MODULES = (
    "aiodji",
    "aiodji.bulk",
    "aiodji.fleet",
    "aiodji.hooks",
    "aiodji.redact",
    "aiodji.operations",
    "aiodji.errors",
    "aiodji.sim",
    "aiodji.controller",
)


def _docs_gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_gen", ROOT / "scripts" / "docs_gen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for heading in ("## Quickstart", "## Features", "## Performance", "## Documentation"):
        assert heading in readme
    assert "make demo" in readme and "make test" in readme


def test_every_nav_page_exists() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    pages = re.findall(r":\s+(\S+\.md)\s*$", nav, re.MULTILINE)
    assert len(pages) >= 20
    missing = [p for p in pages if p not in GENERATED and not (ROOT / "docs" / p).is_file()]
    assert not missing, missing
    assert set(GENERATED) <= set(pages)


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
    return found


def test_the_cli_reference_lists_every_command_and_option() -> None:
    page = _docs_gen().cli_reference()
    assert isinstance(cli, click.Group)
    commands = _commands(cli, "aiodji")
    assert len(commands) > 40
    for path, command in commands:
        assert f"## `{path}`" in page, path
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert any(f"`{opt}" in page or f", {opt}" in page for opt in param.opts), (
                    path,
                    param.opts,
                )


def test_the_operation_table_has_every_operation_once() -> None:
    page = _docs_gen().operations_table()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(OPERATIONS) == 42
    for op in OPERATIONS:
        assert sum(f"| `{op.name}` |" in row for row in rows) == 1
        assert f"`dji.{op.sdk_method}`" in page


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module_name: str) -> None:
    module = importlib.import_module(module_name)
    undocumented = []
    for name in getattr(module, "__all__", []):
        value = getattr(module, name)
        is_code = inspect.isclass(value) or inspect.isfunction(value)
        if is_code and not (value.__doc__ or "").strip():
            undocumented.append(name)
    assert not undocumented, f"{module_name}: {undocumented}"
