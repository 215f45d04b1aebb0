"""``make demo``: the headline job against the embedded simulator, no token or network needed.

Starts a FlightHub 2 simulator on loopback (20 projects, 200 docks, 400 converters, the
converter limit raised above FlightHub 2's documented 20, a server rate limit), lists the
projects, then disables every converter of every project with ``dji.fleet`` (the path the
``aiodji converters disable`` command takes: plan, bulk engine, journal, progress bar),
re-enables them, and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

import aiodji
from aiodji.bulk import DEFAULT_CONCURRENCY, ItemResult
from aiodji.cli.printing import make_progress, stdout
from aiodji.fleet import FleetReport
from aiodji.sim import Simulator
from aiodji.sim.options import count, positive_count, rate


async def _set_all(
    dji: aiodji.Client, enabled: bool, concurrency: int, journal: Path
) -> tuple[FleetReport, int]:
    """Every converter of every project to ``enabled``; returns the report and requests made."""
    plan = await dji.fleet.plan(aiodji.fleet.Desired.enabled(enabled))
    # the plan holds only the changes: converters already in that state are "unchanged"
    stdout.print(f"{'enable' if enabled else 'disable'} every converter: {plan.summary()}")
    before = dji.limiter.stats.admitted
    with make_progress() as progress:
        bar = progress.add_task("enabling" if enabled else "disabling", total=len(plan))

        def advance(result: ItemResult[Any, Any]) -> None:
            progress.advance(bar)

        report = await dji.fleet.apply(
            plan, journal=journal, concurrency=concurrency, progress=advance
        )
    return report, dji.limiter.stats.admitted - before


async def run(args: argparse.Namespace) -> int:
    sim = Simulator(
        projects=args.projects,
        docks_per_project=args.docks,
        converters_per_project=args.converters,
        converter_limit=args.converter_limit,
        rate_limit=args.server_rate,
    )
    async with (
        sim,
        aiodji.Client(token=sim.token, base_url=sim.url, rate_limit=args.rate) as dji,
    ):
        stdout.print(
            f"[bold]FlightHub 2 simulator[/] at {sim.url}: server rate limit "
            f"{args.server_rate:g} req/s; aiodji rate {args.rate:g} req/s, "
            f"{args.concurrency} workers",
            markup=True,
        )
        stdout.print(
            f"[yellow]converter_limit raised to {args.converter_limit}[/] (FlightHub 2 documents "
            "20 per organization; a private deployment may allow more)",
            markup=True,
        )
        projects = [p async for p in dji.projects.iter()]
        stdout.print(
            f"{len(projects)} projects: "
            + ", ".join(p.name or p.uuid for p in projects[:5])
            + (", …" if len(projects) > 5 else "")
        )
        rows = []
        with tempfile.TemporaryDirectory(prefix="aiodji-demo-") as tmp:
            for enabled in (False, True):
                journal = Path(tmp) / f"journal-{'enable' if enabled else 'disable'}.jsonl"
                report, requests = await _set_all(dji, enabled, args.concurrency, journal)
                rows.append(("enable" if enabled else "disable", report, requests))

        table = Table(title="aiodji demo summary", title_justify="left")
        for column in ("step", "items", "failures", "seconds", "items/s", "req/s"):
            table.add_column(column, justify="left" if column == "step" else "right")
        ok = True
        for step, report, requests in rows:
            ok = ok and report.ok
            table.add_row(
                step,
                str(report.accounted),
                str(report.failed + report.unknown + report.not_attempted),
                f"{report.seconds:.2f}",
                f"{report.rate:,.0f}",
                f"{requests / report.seconds:,.0f}" if report.seconds else "-",
            )
        stdout.print(table)
        stats = dji.limiter.stats
        stdout.print(
            f"requests admitted {stats.admitted}, answered 429 {stats.rate_limited}; "
            f"the simulator counted {sim.stats.total} requests; "
            f"{sum(c.auto_push_stream for c in sim.state.converters.values())} of "
            f"{len(sim.state.converters)} converters enabled at the end"
        )
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aiodji.demo", description=__doc__)
    parser.add_argument("--projects", type=count, default=20)
    parser.add_argument("--docks", type=count, default=10, help="docks per project")
    parser.add_argument("--converters", type=count, default=20, help="converters per project")
    parser.add_argument("--converter-limit", type=count, default=1000)
    parser.add_argument("--server-rate", type=rate, default=400.0, help="simulator req/s limit")
    parser.add_argument("--rate", type=rate, default=380.0, help="aiodji req/s")
    parser.add_argument(
        "--concurrency", type=positive_count, default=DEFAULT_CONCURRENCY, help="bulk workers"
    )
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
