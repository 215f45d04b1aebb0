"""The controller's HTTP endpoint: ``/metrics`` (Prometheus text), ``/healthz`` (the process
answers), ``/readyz`` (the last successful cycle is recent)."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import Metrics

__all__ = ["is_ready", "metrics_app", "serve_metrics"]


def is_ready(last_success: float | None, now: float, max_age: float) -> bool:
    """Ready when a cycle succeeded within ``max_age`` seconds."""
    return last_success is not None and now - last_success <= max_age


def metrics_app(metrics: Metrics, *, ready_within: float) -> web.Application:
    async def scrape(request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        if is_ready(metrics.last_success_time, time.time(), ready_within):
            return web.Response(text="ready\n")
        return web.Response(status=503, text="no successful cycle recently\n")

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def serve_metrics(
    metrics: Metrics, port: int, *, host: str = "127.0.0.1", ready_within: float = 300.0
) -> tuple[web.AppRunner, int]:
    """Start the endpoint; returns the runner (``await runner.cleanup()``) and the bound port
    (``port=0`` lets the OS choose)."""
    runner = web.AppRunner(metrics_app(metrics, ready_within=ready_within), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound: int = runner.addresses[0][1]
    return runner, bound
