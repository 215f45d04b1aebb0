"""``aiodji controller run`` (the reconcile loop as a service) and ``aiodji converters diff``
(exit 0 in sync, 1 on drift: for CI)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import click

import aiodji
from aiodji.fleet import Desired

from ._common import EXIT_FAILED, Settings, emit_json, run_async, stdout

__all__ = ["controller", "converters_diff"]

_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)
pass_settings = click.make_pass_decorator(Settings)


def _load(path: Path) -> Desired:
    try:
        return Desired.from_toml(path)
    except aiodji.InvalidArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="--file") from None


@click.group()
def controller() -> None:
    """Keep converters in a desired state, continuously (a reconcile loop)."""


@controller.command("run")
@click.option("-f", "--file", "path", required=True, type=_FILE, help="Desired-state TOML file.")
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
) -> None:
    """Each cycle: list (cheaply between full relists), plan, apply the differences with a
    journal, sleep INTERVAL (+ jitter). SIGHUP re-reads the file; SIGTERM/SIGINT stop after
    the in-flight items."""
    from aiodji.controller.logs import setup_logging
    from aiodji.controller.loop import Reconciler

    _load(path)  # a bad first file is a usage error, before any request
    setup_logging(log_format)

    async def main() -> int:
        observer = None
        runner = None
        if metrics_port is not None:
            from aiodji.controller.health import serve_metrics
            from aiodji.controller.metrics import Metrics

            observer = Metrics()
            hooks = observer.hooks
        else:
            hooks = None
        async with settings.client(hooks=hooks) as dji:
            if observer is not None:
                observer.watch_limiter(dji.limiter)
                runner, port = await serve_metrics(
                    observer, metrics_port or 0, host=metrics_host, ready_within=3 * interval + 60
                )
                stdout.print(f"metrics on http://{metrics_host}:{port}/metrics", highlight=False)
            rec = Reconciler(
                dji.fleet,
                path,
                interval=interval,
                full_relist_every=full_relist_every,
                journal=journal,
                concurrency=settings.concurrency,
                observer=observer,
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, rec.stop.set)
            with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
                loop.add_signal_handler(signal.SIGHUP, rec.request_reload)
            try:
                stats = await rec.run(once=once)
            finally:
                if runner is not None:
                    await runner.cleanup()
        last = stats.last
        return 0 if last is not None and last.ok else EXIT_FAILED

    run_async(main)


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
