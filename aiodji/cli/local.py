"""Commands that only read local files: ``config show``, ``journal list|show``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import orjson

from ._common import Settings, default_journal, emit_json
from .profiles import config_path

__all__ = ["config", "journal", "register"]

pass_settings = click.make_pass_decorator(Settings)


@click.group()
def config() -> None:
    """Profiles of ~/.config/aiodji/config.toml."""


@config.command("show")
@pass_settings
def config_show(settings: Settings) -> None:
    """The settings in force (profile, access point, token source); never the token."""
    shown: dict[str, Any] = settings.profile.shown() if settings.profile else {"profile": None}
    shown.setdefault("file", str(config_path()))
    shown["base_url_flag"] = settings.base_url
    shown["region_flag"] = settings.region
    shown["env"] = {
        k: ("***" if k == "AIODJI_TOKEN" else v)
        for k, v in os.environ.items()
        if k.startswith("AIODJI_")
    }
    emit_json({"type": "config", **shown})


@click.group()
def journal() -> None:
    """Journals of earlier runs ($XDG_STATE_HOME/aiodji)."""


def _journals() -> list[Path]:
    folder = default_journal().parent
    return sorted(folder.glob("journal-*.jsonl")) if folder.exists() else []


@journal.command("list")
@pass_settings
def journal_list(settings: Settings) -> None:
    """Every journal, oldest first, with its item counts by state."""
    rows = []
    for path in _journals():
        counts: dict[str, int] = {}
        for line in path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if record.get("type") == "item":
                counts[record["state"]] = counts.get(record["state"], 0) + 1
        rows.append({"path": str(path), **counts})
    columns = ("path", "succeeded", "failed", "not_attempted", "unknown")
    settings.rows("journal", f"{len(rows)} journals", rows, columns)


@journal.command("show")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@pass_settings
def journal_show(settings: Settings, path: Path) -> None:
    """The items of one journal (no secrets are ever written to one)."""
    rows = [
        r
        for r in (orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip())
        if r.get("type") == "item"
    ]
    columns = ("kind", "state", "converter_name", "converter_id", "project_uuid", "error")
    settings.rows("journal_item", str(path), rows, columns)


def register(root: click.Group) -> None:
    root.add_command(config)
    root.add_command(journal)
