"""The aiohttp application of the simulator: the middlewares around the route modules.

Middlewares, outermost first: the simulator's own ``GET /_sim/stats`` → request stats →
unserved areas (HTTP 404, empty body) → faults → rate limit → auth/headers. The
envelope kit the routes and middlewares share lives in :mod:`aiodji.sim.envelope`.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from typing import TYPE_CHECKING, Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from .envelope import (
    CODE_BAD_REQUEST,
    CODE_KEY,
    CODE_METHOD,
    CODE_NOT_FOUND,
    CODE_RATE_LIMITED,
    CODE_SCOPE,
    CODE_TOKEN,
    JSON_TYPE,
    PROJECT_KEY,
    ApiError,
    Handler,
    fail,
    is_project_scoped,
)
from .routes import register_all

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["ABORTED_KEY", "SIM_STATS_PATH", "make_app", "retry_after_header"]

ABORTED_KEY: Final = web.ResponseKey("aiodji_sim_aborted", bool)

# The HTTP statuses of envelope codes when ``http_errors`` is on.
_HTTP_FOR_CODE: Final = {CODE_TOKEN: 401, CODE_SCOPE: 403, CODE_NOT_FOUND: 404}


def retry_after_header(style: str, wait: float) -> dict[str, str]:
    """``Retry-After`` for a 429 when a token frees up in ``wait`` seconds: whole seconds, at
    least 1 (FlightHub 2 never says less), an HTTP-date, or none."""
    if style == "none":
        return {}
    seconds = max(1, math.ceil(wait))
    if style == "date":
        return {"Retry-After": email.utils.formatdate(time.time() + seconds, usegmt=True)}
    return {"Retry-After": str(seconds)}


_HTML_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>FlightHub 2</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
)
_REASONS: Final = {500: "internal server error", 502: "bad gateway", 503: "service unavailable"}


def _abort(request: web.Request) -> web.Response:
    """Drop the connection; the returned response is never delivered (aiohttp swallows the
    ConnectionResetError raised when it tries to write to the closed transport)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    resp = web.Response(status=500)
    resp[ABORTED_KEY] = True
    return resp


SIM_STATS_PATH: Final = "/_sim/stats"


def _observing(sim: Simulator) -> tuple[Middleware, Middleware]:
    """``GET /_sim/stats`` and the request counters."""
    stats = sim.stats

    @web.middleware
    async def sim_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        # the simulator's own introspection: outside the API, so never counted, limited,
        # faulted or authenticated
        if request.path == SIM_STATS_PATH and request.method == "GET":
            return web.json_response(stats.to_wire())
        return await handler(request)

    @web.middleware
    async def stats_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            resp = await handler(request)
        except web.HTTPException as exc:  # safety net; routes answer envelopes themselves
            code = CODE_NOT_FOUND if exc.status == 404 else CODE_BAD_REQUEST
            resp = fail(code, exc.reason, exc.status)
        stats.total += 1
        resource = request.match_info.route.resource
        route = "<unmatched>" if resource is None else resource.canonical
        stats.by_route[(request.method, route)] += 1
        if resp.get(ABORTED_KEY):
            stats.by_status[0] += 1
        else:
            stats.by_status[resp.status] += 1
            sent_code = resp.get(CODE_KEY)
            if sent_code is not None:
                stats.by_code[sent_code] += 1
        return resp

    return sim_mw, stats_mw


def _faulting(sim: Simulator) -> Middleware:
    """The injected faults of ``sim.faults``."""
    stats = sim.stats

    @web.middleware
    async def faults_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = sim.faults
        if not faults.active or not faults.applies_to(request.method, request.path):
            return await handler(request)
        delay = faults.delay()
        if delay > 0:
            await asyncio.sleep(delay)
        kind = faults.draw()
        if kind is None:
            return await handler(request)
        stats.faults[kind] += 1
        rng = faults.rng
        # -- not applied ----------------------------------------------------------------------
        if kind == "error":
            status = rng.choice(faults.error_statuses) if faults.error_statuses else 500
            return fail(CODE_BAD_REQUEST, _REASONS.get(status, "server error"), status)
        if kind == "reset_before":
            return _abort(request)
        if kind == "html":
            return web.Response(body=_HTML_PAGE, status=200, content_type="text/html")
        if kind == "business_error":
            bcode = rng.choice(faults.business_codes) if faults.business_codes else 210500
            return fail(bcode, "simulated transient error")
        # -- applied --------------------------------------------------------------------------
        resp = await handler(request)
        if kind == "reset_after":
            return _abort(request)
        body = resp.body if isinstance(resp, web.Response) else None
        raw = bytes(body) if isinstance(body, bytes | bytearray) else b'{"code":0}'
        if kind == "reset_mid_body":
            partial = web.StreamResponse(status=resp.status)
            partial.content_type = JSON_TYPE
            partial.content_length = len(raw)
            partial[ABORTED_KEY] = True
            await partial.prepare(request)
            await partial.write(raw[: max(1, len(raw) // 2)])
            transport = request.transport
            if transport is not None:
                transport.abort()
            return partial
        if kind == "malformed":
            # A strict prefix of a JSON object is never valid JSON.
            bad = web.Response(
                body=raw[: max(1, len(raw) // 2)], status=200, content_type=JSON_TYPE
            )
            resp_code = resp.get(CODE_KEY)
            if resp_code is not None:
                bad[CODE_KEY] = resp_code
            return bad
        # slow
        await asyncio.sleep(faults.slow_seconds)
        return resp

    return faults_mw


def _rate_limiting(sim: Simulator) -> Middleware:
    """The organization's and the projects' token buckets, and rate-limit noise."""
    stats = sim.stats
    limiter = sim.limiter

    @web.middleware
    async def ratelimit_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("X-User-Token") != sim.token:
            return await handler(request)
        faults = sim.faults
        if faults.rate_limit_noise and faults.rng.random() < faults.rate_limit_noise:
            stats.faults["rate_limit_noise"] += 1
            stats.rate_limited += 1
            style = faults.rate_limit_noise_style
            if style == "mixed":
                style = faults.rng.choice(("http", "business"))
            if style == "business":
                return fail(CODE_RATE_LIMITED, "rate limited")
            return fail(CODE_RATE_LIMITED, "rate limited", 429, {"Retry-After": "0"})
        wait = limiter.acquire()
        if not wait:
            project = sim.project_limiter(request.headers.get("X-Project-Uuid", ""))
            wait = project.acquire() if project is not None else 0.0
        if not wait:
            return await handler(request)
        stats.rate_limited += 1
        if sim.rate_limit_style == "business":
            return fail(CODE_RATE_LIMITED, "rate limited")
        return fail(
            CODE_RATE_LIMITED, "rate limited", 429, retry_after_header(sim.retry_after, wait)
        )

    return ratelimit_mw


def _serving(sim: Simulator, area_of: dict[object, str]) -> tuple[Middleware, Middleware]:
    """Unserved areas (HTTP 404, empty body), then authentication, headers and project scope."""

    def error(code: int, message: str) -> web.Response:
        status = _HTTP_FOR_CODE.get(code, 200) if sim.http_errors else 200
        if code == CODE_TOKEN and sim.auth_style == "http":
            status = 401  # what a public gateway answers a bad or wrong-region key
        return fail(code, message, status)

    @web.middleware
    async def unserved_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        # a deployment without an area (stream forwarding on a public gateway) answers its
        # documented paths with HTTP 404 and an EMPTY body, before anything else
        if sim.unserved and area_of.get(request.match_info.route.resource) in sim.unserved:
            return web.Response(status=404, body=b"")
        return await handler(request)

    @web.middleware
    async def auth_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        match_info = request.match_info
        http_exc = match_info.http_exception
        if http_exc is not None:
            if http_exc.status == 405:  # RFC 9110: a 405 lists the allowed methods
                allow = {"Allow": http_exc.headers.get("Allow", "")}
                return fail(CODE_METHOD, "method not allowed", 405, allow)
            if http_exc.status == 404:
                return fail(CODE_NOT_FOUND, "not found", 404)
            return fail(CODE_BAD_REQUEST, http_exc.reason, http_exc.status)
        headers = request.headers
        if headers.get("X-User-Token") != sim.token:
            return error(CODE_TOKEN, "invalid or expired token")
        if not headers.get("X-Request-Id"):
            return error(CODE_BAD_REQUEST, "missing X-Request-Id")
        lang = headers.get("X-Language")
        if lang is not None and lang not in ("zh", "en"):
            return error(CODE_BAD_REQUEST, "invalid X-Language")
        if is_project_scoped(match_info.handler):
            project = headers.get("X-Project-Uuid")
            if not project:
                return error(CODE_BAD_REQUEST, "missing X-Project-Uuid")
            if project not in sim.state.projects:
                return error(CODE_SCOPE, "project out of scope")
            request[PROJECT_KEY] = project
        try:
            return await handler(request)
        except ApiError as exc:
            if exc.status != 200:
                return fail(exc.code, exc.message, exc.status)
            return error(exc.code, exc.message)

    return unserved_mw, auth_mw


def make_app(sim: Simulator) -> web.Application:
    area_of: dict[object, str] = {}
    sim_mw, stats_mw = _observing(sim)
    unserved_mw, auth_mw = _serving(sim, area_of)
    app = web.Application(
        middlewares=[
            sim_mw,
            stats_mw,
            unserved_mw,
            _faulting(sim),
            _rate_limiting(sim),
            auth_mw,
        ]
    )
    area_of.update(register_all(app, sim))  # filled once the routes exist
    return app
