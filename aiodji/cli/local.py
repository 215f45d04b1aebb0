"""Commands that only read local files: ``config show``, ``journal list|show``."""

from __future__ import annotations

import collections
import contextlib
import os
from pathlib import Path
from typing import Any

import click
import orjson

import aiodji
from aiodji.bulk import ItemState
from aiodji.crash import state_dir
from aiodji.fleet.journal import read_journal

from .printing import emit_json
from .profiles import config_path
from .settings import Settings

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
    folder = state_dir()
    return sorted(folder.glob("journal-*.jsonl")) if folder.is_dir() else []


def journal_records(path: Path) -> tuple[dict[str, ItemState], list[dict[str, Any]]]:
    """The final state of each change and every record of a journal. The fleet's reader
    decides what is a journal (a cut last line is tolerated); a file with no record at all is
    not one either. Any problem is one InvalidArgumentError (exit 2)."""
    states = read_journal(path)
    records: list[dict[str, Any]] = []
    for line in path.read_bytes().splitlines():
        with contextlib.suppress(orjson.JSONDecodeError):  # the cut last line
            record = orjson.loads(line)
            if isinstance(record, dict) and record.get("type") in ("run", "item"):
                records.append(record)
    if not records:
        raise aiodji.InvalidArgumentError(f"{path} is not a journal: no complete record in it")
    return states, records


def journal_row(path: Path) -> dict[str, Any]:
    """One line of ``journal list``: when, what, and how many changes ended in each state
    (the last record of a change counts, so a resumed journal is not counted twice)."""
    try:
        states, records = journal_records(path)
    except aiodji.InvalidArgumentError as exc:
        return {"path": str(path), "error": str(exc)}
    # "action" since journal version 2, "kind" before
    kinds = sorted(
        {str(r.get("action") or r.get("kind")) for r in records if r.get("type") == "item"}
    )
    runs = [r for r in records if r.get("type") == "run"]
    counts = collections.Counter(state.value for state in states.values())
    return {
        "started_at": records[0].get("ts"),
        "command": (runs[-1].get("command") if runs else None) or ",".join(kinds) or None,
        "path": str(path),
        "runs": len(runs),
        **{state.value: counts.get(state.value, 0) for state in ItemState},
    }


JOURNAL_COLUMNS = (
    "started_at",
    "command",
    "succeeded",
    "failed",
    "not_attempted",
    "unknown",
    "runs",
    "path",
    "error",
)


JOURNAL_TABLE = ("started_at", "command", "succeeded", "failed", "not_attempted", "unknown", "path")


@journal.command("list")
@pass_settings
def journal_list(settings: Settings) -> None:
    """Every journal, oldest first: when, what, and its changes by final state."""
    rows = [journal_row(path) for path in _journals()]
    if not rows and settings.format == "table":
        click.echo(f"no journals in {state_dir()}", err=True)
        return
    settings.rows("journal", f"{len(rows)} journals", rows, JOURNAL_COLUMNS, JOURNAL_TABLE)


@journal.command("show")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@pass_settings
def journal_show(settings: Settings, path: Path) -> None:
    """The items of one journal (no secrets are ever written to one)."""
    _, records = journal_records(path)
    # "action" since journal version 2, "kind" before
    rows = [
        {"action": r.get("action") or r.get("kind"), **r}
        for r in records
        if r.get("type") == "item"
    ]
    columns = ("action", "state", "converter_name", "converter_id", "project_uuid", "error")
    settings.rows("journal_item", str(path), rows, columns)


def register(root: click.Group) -> None:
    root.add_command(config)
    root.add_command(journal)
