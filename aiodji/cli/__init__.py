"""``aiodji``: the FlightHub 2 fleet command line (click + rich).

The token is never a flag: it comes from ``AIODJI_TOKEN`` or a hidden prompt, and is never
printed. Exit codes: 0 every item succeeded, 1 something failed (or some item was not done),
2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from . import scale
from ._common import Settings
from .commands import converters, devices, doctor, projects, sim

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--base-url",
    envvar="AIODJI_BASE_URL",
    help="API access point, e.g. https://host:30812 (env AIODJI_BASE_URL).",
)
@click.option(
    "--region",
    envvar="AIODJI_REGION",
    type=click.Choice(["cn", "us", "eu"]),
    help="Public access point es-flight-api-<region>.djigate.com (env AIODJI_REGION).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine output: one JSON object per line.")
@click.option(
    "--concurrency",
    default=32,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Items worked on at once in bulk commands.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    help="Requests per second at most (default: adapt to the server's 429s).",
)
@click.version_option(package_name="aiodji")
@click.pass_context
def cli(
    ctx: click.Context,
    base_url: str | None,
    region: str | None,
    as_json: bool,
    concurrency: int,
    rate: float | None,
) -> None:
    """Operate DJI FlightHub 2 stream converters across projects, safely.

    The organization key is read from AIODJI_TOKEN (or asked for, hidden); it is never shown.
    """
    ctx.obj = Settings(
        base_url=base_url, region=region, json=as_json, concurrency=concurrency, rate=rate
    )


cli.add_command(doctor)
cli.add_command(projects)
cli.add_command(devices)
cli.add_command(converters)
cli.add_command(sim)
cli.add_command(scale.worker)
cli.add_command(scale.runs)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script ``aiodji``."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="aiodji")
