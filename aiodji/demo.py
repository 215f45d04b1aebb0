"""``make demo``: the headline job against the embedded simulator, no token or network needed.

Starts a FlightHub 2 simulator on loopback (20 projects, 200 docks, 400 converters, a server
rate limit), lists the projects, disables every converter of every project concurrently with a
progress bar, re-enables them, and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import aiodji
from aiodji.models import Converter
from aiodji.sim import Simulator


async def _toggle(
    dji: aiodji.Client, converters: Sequence[Converter], enabled: bool, progress: Progress
) -> tuple[int, int, float]:
    """Set every converter's state concurrently; return (items, failures, seconds)."""
    verb = "enabling" if enabled else "disabling"
    task = progress.add_task(f"{verb} converters", total=len(converters))
    failures = 0

    async def one(c: Converter) -> None:
        nonlocal failures
        try:
            await dji.project(c.project_uuid or "").converters.set_enabled(c.converter_id, enabled)
        except aiodji.DJIError as exc:
            failures += 1
            progress.console.print(f"[red]{c.converter_name}: {exc}")
        finally:
            progress.advance(task)

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in converters))
    return len(converters), failures, time.perf_counter() - started


async def run(args: argparse.Namespace) -> int:
    console = Console()
    sim = Simulator(
        projects=args.projects,
        docks_per_project=args.docks,
        converters_per_project=args.converters,
        converter_limit=args.converter_limit,
        rate_limit=args.server_rate,
    )
    async with (
        sim,
        aiodji.Client(
            token=sim.token,
            base_url=sim.url,
            rate_limit=args.rate,
            max_connections=args.connections,
        ) as dji,
    ):
        console.print(
            f"[bold]FlightHub 2 simulator[/] at {sim.url} — server rate limit "
            f"{args.server_rate:g} req/s, client rate {args.rate:g} req/s, "
            f"{args.connections} connections"
        )
        console.print(
            f"[yellow]converter_limit raised to {args.converter_limit}[/] (FlightHub 2 documents "
            "20 per organization; a private deployment may allow more)"
        )
        projects = await dji.request("GET", "/openapi/v0.1/project", params={"page_size": 100})
        project_ids = [p["uuid"] for p in projects["list"]]
        pages = await asyncio.gather(*(dji.project(p).converters.list() for p in project_ids))
        converters = [c for page in pages for c in page]
        console.print(f"{len(project_ids)} projects, {len(converters)} converters")

        rows = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            for enabled in (False, True):
                rows.append((enabled, *await _toggle(dji, converters, enabled, progress)))

        table = Table(title="aiodji demo summary")
        for column in ("step", "items", "failures", "seconds", "req/s"):
            table.add_column(column, justify="right" if column != "step" else "left")
        failed = 0
        for enabled, items, failures, seconds in rows:
            failed += failures
            table.add_row(
                "enable" if enabled else "disable",
                str(items),
                str(failures),
                f"{seconds:.2f}",
                f"{items / seconds:.0f}" if seconds else "-",
            )
        console.print(table)
        stats = dji.limiter.stats
        console.print(
            f"requests admitted {stats.admitted}, answered 429 {stats.rate_limited}; "
            f"server counted {sim.stats.total} requests"
        )
        return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aiodji.demo", description=__doc__)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--docks", type=int, default=10, help="docks per project")
    parser.add_argument("--converters", type=int, default=20, help="converters per project")
    parser.add_argument("--converter-limit", type=int, default=1000)
    parser.add_argument("--server-rate", type=float, default=400.0, help="simulator req/s limit")
    parser.add_argument("--rate", type=float, default=380.0, help="aiodji req/s")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
