"""``aiodji``: the FlightHub 2 command line (click + rich).

The token is never a flag: it comes from a profile's token source, ``AIODJI_TOKEN`` or a hidden
prompt, and is never printed. Exit codes: one table by error class, :mod:`aiodji.cli.exits`.

Other modules add their commands with ``cli.add_command(...)`` / ``converters.add_command(...)``
(see :func:`register`): the root group and the converters group are open for extension.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

import click

from aiodji.bulk import DEFAULT_CONCURRENCY
from aiodji.errors import DJIError

from .exits import ExitCode
from .output import FORMATS, resolve_format
from .params import BASE_URL, FiniteFloat
from .printing import report_error, report_internal, stderr
from .profiles import load_profile
from .settings import Settings

__all__ = ["GLOBAL_OPTIONS", "cli", "hoist_global_options", "main"]

# Global options and whether they take a value: accepted after the subcommand too.
GLOBAL_OPTIONS: dict[str, bool] = {
    "--base-url": True,
    "--region": True,
    "--profile": True,
    "-o": True,
    "--output": True,
    "--json": False,
    "--columns": True,
    "--wide": False,
    "--concurrency": True,
    "--rate": True,
}
# Commands that hand their arguments to another parser: nothing after them is hoisted.
PASS_THROUGH = frozenset({"sim"})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--base-url",
    type=BASE_URL,
    help="API access point, e.g. https://host:30812 (env AIODJI_BASE_URL).",
)
@click.option(
    "--region",
    type=click.Choice(["cn", "us", "eu"]),
    help="Public access point es-flight-api-<region>.djigate.com (env AIODJI_REGION).",
)
@click.option("--profile", help="Profile of ~/.config/aiodji/config.toml (env AIODJI_PROFILE).")
@click.option(
    "-o",
    "--output",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="table | json | jsonl | csv | tsv; auto: table at a terminal, JSON lines in a pipe.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as -o jsonl.")
@click.option("--columns", help="Comma-separated columns to show, in this order.")
@click.option("--wide", is_flag=True, help="Tables: never truncate a cell.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    help=f"Items worked on at once in bulk commands (default {DEFAULT_CONCURRENCY}).",
)
@click.option(
    "--rate",
    type=FiniteFloat(min=0.1),
    help="Requests per second at most (default: adapt to the server's 429s).",
)
@click.version_option(package_name="aiodji")
@click.pass_context
def cli(
    ctx: click.Context,
    base_url: str | None,
    region: str | None,
    profile: str | None,
    output: str,
    as_json: bool,
    columns: str | None,
    wide: bool,
    concurrency: int | None,
    rate: float | None,
) -> None:
    """Operate DJI FlightHub 2 from the shell: every API operation, fleets of converters, safely.

    The organization key comes from a profile, AIODJI_TOKEN, or a hidden prompt; never shown.
    """
    if base_url and region:
        raise click.UsageError("give --base-url or --region, not both")
    chosen = load_profile(profile)
    ctx.obj = Settings(
        base_url=base_url,
        region=region,
        output="jsonl" if as_json else output,
        concurrency=concurrency or (chosen.concurrency if chosen else None) or DEFAULT_CONCURRENCY,
        rate=rate if rate is not None else (chosen.rate if chosen else None),
        columns=tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else None,
        wide=wide,
        profile=chosen,
    )


def register() -> None:
    """Attach every command group (imported here so ``aiodji.cli`` stays cheap to import)."""
    from .commands import converters, devices, doctor, projects, sim
    from .controller import controller, converters_diff
    from .scale import runs, worker

    for command in (doctor, projects, devices, converters, sim, controller, worker, runs):
        cli.add_command(command)
    converters.add_command(converters_diff)
    from . import calls, local, mcp_cmd

    local.register(cli)
    mcp_cmd.register(cli)
    calls.register(cli)  # after the hand-written groups: their commands win


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move global options written after the subcommand to the front, so that
    ``aiodji converters list --json`` means ``aiodji --json converters list``."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    seen_command = False
    while i < len(argv):
        arg = argv[i]
        if arg == "--" or (seen_command and rest and rest[0] in PASS_THROUGH):
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            takes_value = GLOBAL_OPTIONS[name] and "=" not in arg
            front.extend(argv[i : i + 1 + takes_value])
            i += 1 + takes_value
            continue
        if not arg.startswith("-"):
            seen_command = True
        rest.append(arg)
        i += 1
    return front + rest


register()


def output_format(args: Sequence[str]) -> str:
    """The ``-o`` / ``--json`` of a command line, read before click parses it (a usage error
    must come out in the format asked for): the last one wins, ``auto`` by default."""
    fmt = "auto"
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--json":
            fmt = "jsonl"
        elif arg in ("-o", "--output") and i + 1 < len(args):
            fmt = args[i + 1]
        elif arg.startswith("--output="):
            fmt = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--"):
            fmt = arg[2:]
    return fmt if fmt in FORMATS else "auto"


def wants_machine_output(args: Sequence[str], *, isatty: bool = False) -> bool:
    """Whether errors should be a ``{"type": "error"}`` JSON line: ``--json``, ``-o json…``,
    or ``-o auto`` with stdout not a terminal (the same rule as the commands' output)."""
    return resolve_format(output_format(args), isatty=isatty) != "table"


def main(argv: Sequence[str] | None = None) -> None:
    """The console script ``aiodji``: the one error boundary of the command line.

    Every known error is one line (or one JSON error line in a machine format) and the exit
    code of the table (``aiodji.cli.exits``); anything else is an internal error: one line,
    the traceback in a crash file, exit 70. Ctrl-C anywhere is 130."""
    # Ctrl-C must work whatever SIGINT disposition was inherited: a shell that starts a job
    # in the background without job control (CI runners, `cmd &` in a script) leaves SIGINT
    # ignored, and the token prompt would then never see it (the event loop sets its own)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    machine = Settings(output="jsonl") if wants_machine_output(args, isatty=_isatty()) else None
    try:
        code = cli.main(args=args, prog_name="aiodji", standalone_mode=False)
    except SystemExit as exc:  # the commands end with their exit code
        code = exc.code
    except (KeyboardInterrupt, click.Abort):
        stderr.print("interrupted", style="red")
        code = ExitCode.INTERRUPTED
    except click.ClickException as exc:
        code = _usage_error(exc, machine)
    except DJIError as exc:  # e.g. a bad profile, read while parsing the global options
        code = report_error(exc, machine)
    except Exception as exc:  # a bug of ours: one line, the traceback in a crash file
        code = report_internal(exc, machine)
    raise SystemExit(code if isinstance(code, int) else 0)


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdout
        return False


def _usage_error(exc: click.ClickException, machine: Settings | None) -> int:
    if machine is not None:
        return report_error(exc, machine)
    exc.show()
    return exc.exit_code
