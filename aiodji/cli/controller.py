"""``aiodji controller run`` (the reconcile loop as a service) and ``aiodji converters diff``
(exit 0 in sync, 1 on drift: for CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

import aiodji
from aiodji.controller.leader import DEFAULT_KEY, MISSING_EXTRA, LeaseTiming
from aiodji.controller.logs import setup_logging
from aiodji.controller.service import METRICS_EXTRA, ServiceOptions, run_service
from aiodji.crash import report_internal_error
from aiodji.fleet import Desired

from .exits import EXIT_FAILED, EXIT_USAGE, ExitCode
from .printing import emit_json, fail, stderr, stdout
from .running import run_async
from .settings import Settings

__all__ = ["controller", "converters_diff"]

_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)
pass_settings = click.make_pass_decorator(Settings)


def _load(path: Path) -> Desired:
    from aiodji.controller.source import DesiredRejected, read_desired

    try:
        return read_desired(path)
    except DesiredRejected as exc:
        raise click.BadParameter(exc.reason, param_hint="--file") from None


def _missing(message: str) -> None:
    """A missing extra: one line, the install hint intact (the consoles print literally)."""
    fail(message, EXIT_USAGE)


@click.group()
def controller() -> None:
    """Keep converters in a desired state, continuously (a reconcile loop)."""


@controller.command("run")
@click.option(
    "-f",
    "--file",
    "path",
    required=True,
    type=click.Path(path_type=Path),
    help="Desired-state TOML file (a file it cannot use is refused, not fatal).",
)
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(min=0.01))
@click.option("--once", is_flag=True, help="One cycle, then exit (cron / CI).")
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535), help="Serve /metrics, /healthz, /readyz."
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--journal", type=click.Path(path_type=Path), help="Journal file (JSON lines).")
@click.option("--full-relist-every", default=10, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--leader-elect",
    "leader_url",
    metavar="REDIS_URL",
    help="Elect one acting replica through a Redis lease (needs aiodji[scale]).",
)
@click.option("--leader-key", default=DEFAULT_KEY, show_default=True, help="The lease's key.")
@click.option("--lease-duration", default=15.0, show_default=True, type=click.FloatRange(min=0.01))
@click.option("--renew-deadline", default=10.0, show_default=True, type=click.FloatRange(min=0.01))
@click.option("--retry-period", default=2.0, show_default=True, type=click.FloatRange(min=0.01))
@pass_settings
def controller_run(
    settings: Settings,
    path: Path,
    interval: float,
    once: bool,
    metrics_port: int | None,
    metrics_host: str,
    log_format: str,
    journal: Path | None,
    full_relist_every: int,
    leader_url: str | None,
    leader_key: str,
    lease_duration: float,
    renew_deadline: float,
    retry_period: float,
) -> None:
    """Each cycle: list (cheaply between full relists), plan, apply the differences with a
    journal, sleep INTERVAL (+ jitter). SIGHUP re-reads the file; SIGTERM/SIGINT stop after
    the in-flight items. A desired file it cannot use is logged and refused (the last good
    one is kept); with --leader-elect one replica acts, the others stand by."""
    if once:
        _load(path)  # one cycle: a bad file is a usage error, before any request
    opts = ServiceOptions(
        path=path,
        interval=interval,
        once=once,
        full_relist_every=full_relist_every,
        journal=journal,
        concurrency=settings.concurrency,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        leader_url=_leader_url(leader_url, once),
        leader_key=leader_key,
        timing=_timing(lease_duration, renew_deadline, retry_period),
    )
    metrics_type = _metrics_type() if metrics_port is not None else None
    setup_logging(log_format)

    async def main() -> int:
        observer = metrics_type() if metrics_type is not None else None
        try:
            async with settings.client(hooks=observer.hooks if observer else None) as dji:
                stats = await run_service(dji, opts, observer, say)
        except (aiodji.DJIError, click.UsageError):
            raise  # known: one line and its exit code (run_async)
        except Exception as exc:  # the controller's error boundary: a bug of ours
            line = report_internal_error(exc, entry="controller")
            stderr.print(line, highlight=False, soft_wrap=True)
            return int(ExitCode.INTERNAL)
        last = stats.last
        if once:
            return 0 if last is not None and last.ok else EXIT_FAILED
        return 0 if last is None or last.ok else EXIT_FAILED

    run_async(main)


def say(text: str) -> None:
    stdout.print(text, highlight=False, soft_wrap=True)


def _leader_url(url: str | None, once: bool) -> str | None:
    if url is None:
        return None
    if once:
        raise click.BadParameter("one cycle (--once) elects no leader", param_hint="--leader-elect")
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise click.BadParameter(
            "want redis://host:port/db, rediss:// or unix://", param_hint="--leader-elect"
        )
    try:
        import redis.asyncio  # noqa: F401 - only to say which extra is missing, early
    except ImportError:
        _missing(MISSING_EXTRA)
    return url


def _timing(lease: float, renew: float, retry: float) -> LeaseTiming:
    try:
        return LeaseTiming(lease=lease, renew_deadline=renew, retry=retry)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _metrics_type() -> type[Any]:
    try:
        from aiodji.controller.metrics import Metrics
    except ImportError:
        _missing(METRICS_EXTRA)
    return Metrics


@click.command("diff")
@click.option("-f", "--file", "path", required=True, type=_FILE, help="Desired-state TOML file.")
@pass_settings
def converters_diff(settings: Settings, path: Path) -> None:
    """Show what differs from a desired-state file; exit 0 in sync, 1 on drift."""
    from .commands import _print_plan

    desired = _load(path)

    async def main() -> int:
        async with settings.client() as dji:
            plan = await dji.fleet.plan(desired)
        if plan.empty:
            if settings.json:
                emit_json({"type": "diff", "in_sync": True, "unchanged": plan.unchanged})
            else:
                stdout.print(f"in sync ({plan.unchanged} unchanged)")
            return 0
        _print_plan(plan, as_json=settings.json)
        return EXIT_FAILED

    run_async(main)
