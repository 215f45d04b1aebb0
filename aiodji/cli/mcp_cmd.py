"""``aiodji mcp serve``: the MCP server over stdio (needs the extra ``aiodji[mcp]``)."""

from __future__ import annotations

import click

from .running import run_async
from .settings import Settings

__all__ = ["mcp", "register"]

pass_settings = click.make_pass_decorator(Settings)


@click.group()
def mcp() -> None:
    """Model Context Protocol server: every operation as a tool, plus fleet plan/apply."""


@mcp.command("serve")
@click.option("--read-only", is_flag=True, help="Only read operations and `plan`.")
@click.option("--allow-dangerous", is_flag=True, help="Also list dangerous operations.")
@click.option(
    "--allow-direct-writes",
    is_flag=True,
    help="Also list converters_create/set_enabled/delete (else: plan, then apply).",
)
@click.option(
    "--allow-secrets",
    is_flag=True,
    help="Also list operations whose reply carries credentials (projects_sts_token).",
)
@click.option(
    "--plan-ttl", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
    help="Minutes a plan may be applied after it was made.",
)  # fmt: skip
@pass_settings
def serve(settings: Settings, /, plan_ttl: float, **allowed: bool) -> None:
    """Serve MCP over stdin/stdout (nothing else is written to stdout)."""
    try:
        from aiodji.mcp import ToolPolicy
        from aiodji.mcp import serve as serve_mcp
    except ImportError:
        raise click.UsageError(
            "the MCP server needs the mcp package: pip install 'aiodji[mcp]'"
        ) from None

    async def main() -> int:
        async with settings.client() as dji:
            await serve_mcp(dji, policy=ToolPolicy(**allowed), plan_ttl=plan_ttl * 60)
        return 0

    run_async(main)


def register(root: click.Group) -> None:
    root.add_command(mcp)
