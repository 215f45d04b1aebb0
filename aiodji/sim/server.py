"""``Simulator``: an in-memory FlightHub 2 OpenAPI server on a local port."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from types import TracebackType
from typing import Literal

import orjson
from aiohttp import web

from .app import make_app
from .faults import Faults, RateLimiter, SimStats
from .routes import AREA_NAMES
from .state import SimState

__all__ = ["AuthStyle", "RateLimitStyle", "RetryAfterStyle", "Simulator", "make_token"]

RateLimitStyle = Literal["http", "business"]
AuthStyle = Literal["http", "envelope"]
RetryAfterStyle = Literal["seconds", "none", "date"]
_FAR_FUTURE = 4_102_444_800  # 2100-01-01


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_token(org_uuid: str, *, seed: int = 0, account: str = "sim-admin") -> str:
    """A JWT-shaped organization key (HS256 over a fixed local key; nobody verifies it)."""
    header = _b64url(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    claims = {
        "account": account,
        "exp": _FAR_FUTURE,
        "nbf": 1_700_000_000,
        "organization_uuid": org_uuid,
        "project_uuid": "",
        "sub": "fh2",
        "user_id": f"sim-user-{seed}",
    }
    payload = _b64url(orjson.dumps(claims, option=orjson.OPT_SORT_KEYS))
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = hmac.new(b"aiodji-sim-not-a-secret", signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


class Simulator:
    """A FlightHub 2 simulator serving on ``host:port`` (port 0 picks a free one).

    ``async with Simulator() as sim:`` then use ``sim.url`` / ``sim.token`` / ``sim.state``.
    Knobs that may change at runtime: ``sim.faults.*``, ``sim.set_rate_limit()``,
    ``sim.set_project_rate_limit()``, ``sim.rate_limit_style``, ``sim.retry_after``,
    ``sim.http_errors``, ``sim.auth_style``, ``sim.unserved``, ``sim.token``,
    ``sim.state.converter_limit``.

    Rate limits: one token bucket for the organization (``rate_limit``/``rate_burst``, or a
    ``rate_schedule`` such as ``[(0, 40), (6, 200)]``; ``tenant_share`` of it consumed by another
    tenant) and optionally one per project (``project_rate_limit``, keyed by X-Project-Uuid).
    ``retry_after``: the 429's header as whole seconds (at least 1, as FlightHub 2), absent, or an
    HTTP-date. Random rate-limit noise: ``faults.rate_limit_noise`` (probability per request).

    Deployments: ``auth_style="http"`` (default) answers a bad token with HTTP 401, as public
    gateways do; ``"envelope"`` with HTTP 200 and code 200401. ``unserved`` names areas (route
    modules: ``converters``, ``open_models``, ...) this deployment does not serve: their paths
    answer HTTP 404 with an empty body, as stream forwarding on the public EU gateway.
    """

    def __init__(
        self,
        projects: int = 3,
        docks_per_project: int = 2,
        converters_per_project: int = 2,
        converter_limit: int = 20,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
        rate_limit_style: RateLimitStyle = "http",
        token: str | None = None,
        seed: int = 0,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        http_errors: bool = False,
        state: SimState | None = None,
        shutdown_timeout: float = 1.0,
        rate_schedule: Sequence[tuple[float, float]] | None = None,
        tenant_share: float = 0.0,
        project_rate_limit: float | None = None,
        project_rate_burst: float | None = None,
        retry_after: RetryAfterStyle = "seconds",
        auth_style: AuthStyle = "http",
        unserved: Sequence[str] = (),
    ) -> None:
        if rate_limit_style not in ("http", "business"):
            raise ValueError("rate_limit_style must be 'http' or 'business'")
        self.state: SimState = (
            state
            if state is not None
            else SimState.seeded(
                projects=projects,
                docks_per_project=docks_per_project,
                converters_per_project=converters_per_project,
                seed=seed,
                converter_limit=converter_limit,
            )
        )
        self.token: str = token if token is not None else make_token(self.state.org_uuid, seed=seed)
        self.faults: Faults = faults if faults is not None else Faults(seed=seed)
        self.stats: SimStats = SimStats()
        self.limiter: RateLimiter = RateLimiter(
            rate_limit, rate_burst, schedule=rate_schedule, tenant_share=tenant_share
        )
        self.project_limiters: dict[str, RateLimiter] = {}
        self._project_limit: tuple[float | None, float | None] = (None, None)
        self.set_project_rate_limit(project_rate_limit, project_rate_burst)
        if retry_after not in ("seconds", "none", "date"):
            raise ValueError("retry_after must be 'seconds', 'none' or 'date'")
        self.retry_after: RetryAfterStyle = retry_after
        self.rate_limit_style: RateLimitStyle = rate_limit_style
        self.http_errors: bool = http_errors
        if auth_style not in ("http", "envelope"):
            raise ValueError("auth_style must be 'http' or 'envelope'")
        self.auth_style: AuthStyle = auth_style
        unknown = sorted(set(unserved) - set(AREA_NAMES))
        if unknown:
            raise ValueError(f"unknown area {', '.join(unknown)} (areas: {', '.join(AREA_NAMES)})")
        self.unserved: frozenset[str] = frozenset(unserved)
        self.host = host
        self.port = port
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ---- knobs --------------------------------------------------------------------------------

    @property
    def rate_limit(self) -> float | None:
        return self.limiter.rate

    @property
    def rate_burst(self) -> float:
        return self.limiter.burst

    def set_rate_limit(
        self,
        rate: float | None,
        burst: float | None = None,
        *,
        style: RateLimitStyle | None = None,
        schedule: Sequence[tuple[float, float]] | None = None,
        tenant_share: float | None = None,
    ) -> None:
        """Change the organization's token bucket (``rate=None`` and no ``schedule`` turn it
        off); the bucket restarts full, a schedule from its start."""
        self.limiter.configure(rate, burst, schedule=schedule, tenant_share=tenant_share)
        if style is not None:
            if style not in ("http", "business"):
                raise ValueError("style must be 'http' or 'business'")
            self.rate_limit_style = style

    def set_project_rate_limit(self, rate: float | None, burst: float | None = None) -> None:
        """A token bucket per project (X-Project-Uuid; org-level calls share the "" one), on
        top of the organization's. ``rate=None`` turns it off."""
        if rate is not None and rate <= 0:
            raise ValueError("rate must be > 0 or None")
        self._project_limit = (rate, burst)
        self.project_limiters.clear()

    def project_limiter(self, project_uuid: str) -> RateLimiter | None:
        rate, burst = self._project_limit
        if rate is None:
            return None
        limiter = self.project_limiters.get(project_uuid)
        if limiter is None:
            limiter = self.project_limiters[project_uuid] = RateLimiter(rate, burst)
        return limiter

    # ---- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash); only once started."""
        if self._url is None:
            raise RuntimeError("Simulator is not started")
        return self._url

    @property
    def started(self) -> bool:
        return self._runner is not None

    def make_app(self) -> web.Application:
        return make_app(self)

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("Simulator already started")
        runner = web.AppRunner(
            make_app(self),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        addr = runner.addresses[0]
        self.port = int(addr[1])
        host = self.host if ":" not in self.host else f"[{self.host}]"
        self._url = f"http://{host}:{self.port}"
        self.limiter.restart()  # the bucket (and its schedule) start with the server

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        where = self._url or "not started"
        return f"<Simulator {where} projects={len(self.state.projects)}>"
