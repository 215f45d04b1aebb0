"""The controller as a long-running service (what ``aiodji controller run`` starts): the
reconcile loop, its metrics endpoint, leader election and the signals, wired together.

Only SIGTERM/SIGINT end it; the desired file and the server's replies never do (the loop
refuses and retries). Setup problems are aiodji errors of the class that gives their exit code:
a busy metrics port is :class:`MetricsBindError` (a connection error, 7), a metrics host that
does not resolve an :class:`~aiodji.InvalidArgumentError` (2)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs

import aiodji
from aiodji.bulk import DEFAULT_CONCURRENCY
from aiodji.errors import APIConnectionError, InvalidArgumentError

from .leader import DEFAULT_KEY, LeaderElector, LeaseTiming
from .loop import Reconciler, ReconcileStats

__all__ = ["METRICS_EXTRA", "MetricsBindError", "ServiceOptions", "run_service"]

METRICS_EXTRA = "the metrics endpoint needs prometheus-client: pip install 'aiodji[controller]'"


class MetricsBindError(APIConnectionError):
    """The metrics endpoint could not listen on its port (in use, or not allowed)."""


@attrs.frozen
class ServiceOptions:
    path: Path
    interval: float = 30.0
    once: bool = False
    full_relist_every: int = 10
    journal: Path | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    leader_url: str | None = None
    leader_key: str = DEFAULT_KEY
    timing: LeaseTiming = attrs.field(factory=LeaseTiming)


def _install_signals(rec: Reconciler) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, rec.stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, rec.request_reload)


@contextlib.asynccontextmanager
async def _metrics_endpoint(
    observer: Any, opts: ServiceOptions, state: Callable[[], Any], say: Callable[[str], None]
) -> AsyncIterator[None]:
    from .health import serve_metrics

    try:
        runner, port = await serve_metrics(
            observer,
            opts.metrics_port or 0,
            host=opts.metrics_host,
            ready_within=3 * opts.interval + 60,
            state=state,
        )
    except socket.gaierror as exc:
        raise InvalidArgumentError(
            f"--metrics-host {opts.metrics_host!r} does not resolve: {exc.strerror}"
        ) from None
    except OSError as exc:
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise MetricsBindError(
            f"cannot serve metrics on {opts.metrics_host}:{opts.metrics_port}: {why}"
        ) from None
    say(f"metrics on http://{opts.metrics_host}:{port}/metrics")
    try:
        yield
    finally:
        await runner.cleanup()


async def run_service(
    dji: aiodji.Client, opts: ServiceOptions, observer: Any, say: Callable[[str], None]
) -> ReconcileStats:
    """Run until SIGTERM/SIGINT (or one cycle with ``once``); ``observer`` is the
    :class:`~aiodji.controller.metrics.Metrics` when ``metrics_port`` is set."""
    elector = (
        LeaderElector(opts.leader_url, key=opts.leader_key, timing=opts.timing)
        if opts.leader_url
        else None
    )
    rec = Reconciler(
        dji.fleet,
        opts.path,
        interval=opts.interval,
        full_relist_every=opts.full_relist_every,
        journal=opts.journal,
        concurrency=opts.concurrency,
        observer=observer,
        leader=elector,
    )

    def state() -> Any:
        from .health import Readiness

        source = rec.source
        return Readiness(
            rejection=source.rejection if source is not None else None,
            role=elector.describe() if elector is not None else None,
        )

    async with contextlib.AsyncExitStack() as stack:
        if observer is not None:
            observer.watch_limiter(dji.limiter)
            await stack.enter_async_context(_metrics_endpoint(observer, opts, state, say))
        if elector is not None:
            await stack.enter_async_context(elector)
        _install_signals(rec)
        return await rec.run(once=opts.once)
    raise AssertionError("unreachable")  # pragma: no cover - mypy: the stack may swallow
