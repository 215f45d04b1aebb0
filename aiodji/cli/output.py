"""Listing output: ``-o table|json|jsonl|csv|tsv|auto`` over rows of plain dicts.

Machine formats carry the raw values (ids whole, epochs as numbers); only ``table`` shortens:
it never wraps a cell (ids stay greppable) and truncates with ``…`` unless ``--wide``.
"""

from __future__ import annotations

import csv
import datetime
import io
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "FORMATS",
    "choose_columns",
    "format_cell",
    "render_rows",
    "resolve_format",
]

FORMATS = ("auto", "table", "json", "jsonl", "csv", "tsv")
# Columns holding times: shown as UTC in tables (FlightHub 2 mixes epoch seconds and ms).
TIME_SUFFIXES = ("_at", "_time", "_ts")


def resolve_format(fmt: str, *, isatty: bool) -> str:
    """``auto``: a table for a person at a terminal, JSON lines for a pipe or a file."""
    if fmt == "auto":
        return "table" if isatty else "jsonl"
    return fmt


def choose_columns(available: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """``--columns a,b``: those, in that order; an unknown name is a usage error."""
    if not wanted:
        return list(available)
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise click.UsageError(
            f"unknown column {', '.join(unknown)}: choose from {', '.join(available)}"
        )
    return list(wanted)


def format_cell(column: str, value: Any) -> str:
    """A table cell: times as UTC, None as blank, booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column.endswith(TIME_SUFFIXES) and isinstance(value, int | float) and value > 0:
        seconds = value / 1000 if value > 1e11 else value  # epoch ms or s
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
    if isinstance(value, list | tuple):
        return ",".join(format_cell("", v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value)


def _table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    width: int | None,
    *,
    may_drop: bool = True,
) -> Table:
    # Text, not str: rich reads markup in str cells (`cam[wide]`, `x[/]y` are data here)
    table = Table(title=Text(title), title_justify="left")
    cells = [[format_cell(c, row.get(c)) for c in columns] for row in rows]
    natural = [max((len(r[i]) for r in cells), default=0) for i in range(len(columns))]
    natural = [max(n, len(c)) for n, c in zip(natural, columns, strict=True)]
    ids = [is_id_column(c) for c in columns]
    kept = list(range(len(columns)))
    if width is not None and may_drop:
        kept = columns_that_fit(natural, ids, width)
    widths = column_widths([natural[k] for k in kept], [ids[k] for k in kept], width)
    for k, w in zip(kept, widths, strict=True):
        # ids are never shortened (copy, grep); other cells end in … when space is short
        table.add_column(
            Text(columns[k]),
            overflow="ellipsis",
            no_wrap=True,
            min_width=w if ids[k] else None,
            max_width=w,
        )
    for row_cells in cells:
        table.add_row(*(Text(row_cells[k]) for k in kept))
    return table


READABLE = 12  # a name cut shorter than this is no longer recognisable


def columns_that_fit(natural: Sequence[int], ids: Sequence[bool], width: int) -> list[int]:
    """The columns to show at ``width``: while a kept column would be cut below a readable
    width, drop the last droppable one (columns are listed most valuable first; the first
    two and the ids stay)."""
    kept = list(range(len(natural)))
    while True:
        widths = column_widths([natural[k] for k in kept], [ids[k] for k in kept], width)
        cut = any(w < min(natural[k], READABLE) for k, w in zip(kept, widths, strict=True))
        droppable = [k for k in kept[2:] if not ids[k]]
        if not cut or not droppable:
            return kept
        kept.remove(droppable[-1])


def column_widths(natural: Sequence[int], ids: Sequence[bool], width: int | None) -> list[int]:
    """Cell widths that fit a ``width``-column terminal (None: no limit): ids whole, the other
    columns share what is left (narrow ones keep their width, the widest are cut first, never
    below 3)."""
    if width is None:
        return list(natural)
    budget = width - (3 * len(natural) + 1) - sum(n for n, i in zip(natural, ids, strict=True) if i)
    out = list(natural)
    others = sorted((n, k) for k, (n, i) in enumerate(zip(natural, ids, strict=True)) if not i)
    for left, (n, k) in zip(range(len(others), 0, -1), others, strict=True):
        share = max(3, budget // left)
        out[k] = min(n, share)
        budget -= out[k]
    return out


def is_id_column(column: str) -> bool:
    return column in ("uuid", "id") or column.endswith(("_id", "_uuid"))


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    fmt: str,
    kind: str,
    title: str = "",
    wide: bool = False,
    may_drop: bool = True,
    out: TextIO | None = None,
) -> None:
    """Write ``rows`` (only ``columns``) in format ``fmt`` (already resolved, not auto); a
    narrow table drops its last columns before it cuts names (``may_drop``)."""
    out = out or sys.stdout
    if fmt == "table":
        console = Console(
            file=out, soft_wrap=wide, width=100_000 if wide else None, markup=False, highlight=False
        )
        width = None if wide else console.width
        console.print(_table(title, columns, rows, width, may_drop=may_drop))
    elif fmt == "json":
        picked = [{c: row.get(c) for c in columns} for row in rows]
        options = orjson.OPT_INDENT_2 | JSON_OPTIONS
        out.write(orjson.dumps(picked, default=str, option=options).decode() + "\n")
    elif fmt == "jsonl":
        for row in rows:
            record = {"type": kind, **{c: row.get(c) for c in columns}}
            out.write(orjson.dumps(record, default=str, option=JSON_OPTIONS).decode() + "\n")
    elif fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _plain(row.get(c)) for c in columns])
        out.write(buffer.getvalue())
    else:  # pragma: no cover - click.Choice keeps others out
        raise click.UsageError(f"unknown output format {fmt!r}")
    out.flush()


# every machine format writes a time one way: RFC 3339 in UTC with a Z (epochs stay numbers)
JSON_OPTIONS = orjson.OPT_UTC_Z


def _plain(value: Any) -> str:
    """A CSV cell: booleans ``true``/``false`` and times as in the JSON formats."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return orjson.dumps(value, default=str, option=JSON_OPTIONS).decode()
    if isinstance(value, datetime.datetime | datetime.date):
        return str(orjson.dumps(value, option=JSON_OPTIONS).decode().strip('"'))
    return str(value)
