"""The controller's HTTP endpoint: ``/metrics`` (Prometheus text), ``/healthz`` (the process
answers), ``/readyz`` (the last successful cycle is recent; with leader election, leader or
standby; not ready while the desired file is rejected and there is no good one)."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import Metrics

__all__ = ["Readiness", "is_ready", "metrics_app", "readiness", "serve_metrics"]


def is_ready(last_success: float | None, now: float, max_age: float) -> bool:
    """Ready when a cycle succeeded within ``max_age`` seconds."""
    return last_success is not None and now - last_success <= max_age


@attrs.frozen
class Readiness:
    """What /readyz looks at besides the last success: the desired file's rejection (None: in
    use) and, with leader election, this replica's role (None: no election)."""

    rejection: str | None = None
    role: str | None = None


def readiness(
    last_success: float | None, now: float, max_age: float, state: Readiness
) -> tuple[bool, str]:
    """(ready, the one line /readyz answers). A standby is ready (it can take over) unless it
    cannot reach Redis; a leader, as a lone controller, when a cycle succeeded recently."""
    if state.role is not None and not state.role.startswith("leader"):
        return state.role == "standby", state.role
    prefix = f"{state.role}: " if state.role else ""
    if state.rejection is not None and last_success is None:
        return False, f"{prefix}no valid desired file: {state.rejection}"
    if is_ready(last_success, now, max_age):
        return True, f"{prefix}ready"
    return False, f"{prefix}no successful cycle recently"


def metrics_app(
    metrics: Metrics,
    *,
    ready_within: float,
    state: Callable[[], Readiness] = Readiness,
) -> web.Application:
    async def scrape(request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        ok, text = readiness(metrics.last_success_time, time.time(), ready_within, state())
        return web.Response(status=200 if ok else 503, text=text + "\n")

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def serve_metrics(
    metrics: Metrics,
    port: int,
    *,
    host: str = "127.0.0.1",
    ready_within: float = 300.0,
    state: Callable[[], Readiness] = Readiness,
) -> tuple[web.AppRunner, int]:
    """Start the endpoint; returns the runner (``await runner.cleanup()``) and the bound port
    (``port=0`` lets the OS choose). A busy port or a host that does not resolve raises
    ``OSError`` (the runner is cleaned up first)."""
    app = metrics_app(metrics, ready_within=ready_within, state=state)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound: int = runner.addresses[0][1]
    return runner, bound
