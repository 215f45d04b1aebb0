"""The Transport: owns the aiohttp session, sends one call with retries, reads the envelope.

One call = one ``X-Request-Id`` kept across its attempts. Each attempt is admitted by the
Limiter, its reply read as bytes (capped), then judged by :mod:`aiodji.envelope`; the retry
decision and delays come from :mod:`aiodji.retry`. aiohttp exceptions never escape: they map
to :class:`APIConnectionError` / :class:`APITimeoutError`; cancellation passes through untouched.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import orjson
from attrs import define, field, frozen
from yarl import URL

from aiodji._version import __version__
from aiodji.config import API_PREFIX, REGION_BASE_URLS, ClientConfig, RateLimit, Timeouts
from aiodji.envelope import AttemptFailed, judge_reply
from aiodji.errors import (
    APIConnectionError,
    APITimeoutError,
    DJIError,
    InvalidArgumentError,
    RateLimitError,
    ResponseTooLargeError,
)
from aiodji.hooks import (
    Hooks,
    RateLimitedEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    emit,
    route_template,
)
from aiodji.limiter import Limiter
from aiodji.ratecontrol import RateSignal
from aiodji.retry import (
    MAX_RATE_LIMIT_WAITS,
    Decision,
    Failure,
    RetryBudget,
    RetryPolicy,
    decide,
)

__all__ = ["MAX_RATE_LIMIT_WAITS", "RAW_SINK", "RawResponse", "Transport"]

log = logging.getLogger("aiodji")

_NO_CONTENT_TYPE = ("Content-Type",)


# Set around one method call (``with_raw_response``) or one bulk item (its attempts): the
# Client appends each finished call's RawResponse to it.
RAW_SINK: contextvars.ContextVar[list[RawResponse] | None] = contextvars.ContextVar(
    "aiodji_raw_sink", default=None
)


@define(slots=True)  # not frozen: one per call on the hot path, frozen init costs ~2 µs
class RawResponse:
    """One finished call: the last attempt's status, headers and body, and the envelope's data."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    request_id: str
    attempts: int
    elapsed: float
    data: Any


@define(slots=True)
class _Call:
    """One call as :meth:`Transport._prepare` built it (once), and its attempt counts."""

    method: str
    path: str
    url: URL
    query: dict[str, str] | None
    headers: dict[str, str]
    body: bytes | None
    request_id: str
    started: float  # time.monotonic() when the call began (before its first admission)
    attempt: int = 0
    retries: int = 0  # retries that count against max_retries and the budget
    waits: int = 0  # rate-limit waits

    @property
    def route(self) -> str:
        return route_template(self.path)


@frozen
class CallOptions:
    """Per-view settings (``with_options``/``project``) applied to each call."""

    timeouts: Timeouts
    retry: RetryPolicy
    project_uuid: str | None
    language: str | None
    # derived once per view, not per call
    client_timeout: aiohttp.ClientTimeout = field(init=False, eq=False, repr=False)
    deadline: float = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "client_timeout", _client_timeout(self.timeouts))
        object.__setattr__(self, "deadline", _attempt_deadline(self.timeouts))


class Transport:
    """Shared by a Client and all its views: one session, one connector, one limiter."""

    def __init__(
        self,
        config: ClientConfig,
        session: aiohttp.ClientSession | None = None,
        *,
        hooks: Hooks | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        self.config = config
        self.hooks = hooks  # None = the fast path: no event is built
        self._trace_configs = list(trace_configs) if trace_configs else None
        # a public access point (not a private deployment): a 401 there may be a region mix-up
        self._public_gateway = config.base_url.rstrip("/") in REGION_BASE_URLS.values()
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._limiter: Limiter | None = None
        self.budget = RetryBudget(config.retry.budget_ratio, config.retry.budget_reserve)
        self._rng = random.Random()
        self._base_headers = {
            "X-User-Token": config.token,
            "User-Agent": f"aiodji/{__version__}",
            "Accept": "application/json",
        }
        if config.language:
            self._base_headers["X-Language"] = config.language

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def limiter(self) -> Limiter:
        if self._limiter is None:
            rl = self.config.rate_limit
            if isinstance(rl, RateLimit):
                self._limiter = Limiter(
                    self.config.max_connections, rl.rate, rl.burst, adaptive=rl.adaptive
                )
            else:  # a shared budget (aiodji.RedisRateLimit) builds its own
                self._limiter = rl.build_limiter(self.config.max_connections, self.config.token)
        return self._limiter

    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session, created on first use inside the running loop."""
        if self._closed:
            raise DJIError("this Client is closed")
        if self._session is None:
            asyncio.get_running_loop()  # fail clearly when called outside a loop
            connector = aiohttp.TCPConnector(
                limit=self.config.max_connections,
                limit_per_host=0,
                ssl=self.config.ssl,
                enable_cleanup_closed=False,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                json_serialize=lambda o: orjson.dumps(o).decode(),
                trust_env=False,  # no proxy from the environment sees the token by surprise
                trace_configs=self._trace_configs,  # e.g. opentelemetry-instrumentation-aiohttp
            )
        return self._session

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close the session if aiodji created it. A session passed in is left open."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()
        aclose = getattr(self._limiter, "aclose", None)  # a shared budget's connections
        if aclose is not None:
            await aclose()

    # -- one call --------------------------------------------------------------------------
    async def send(
        self,
        method: str,
        path: str,
        options: CallOptions,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        project_uuid: str | None = None,
        org_level: bool = False,
    ) -> RawResponse:
        """Send one API call with retries; return its reply or raise an aiodji error.

        ``X-Project-Uuid`` is ``project_uuid`` or the view's project, except for ``org_level``
        calls, which send only an explicit ``project_uuid``. The steps: :meth:`_prepare` (once
        per call), then per attempt admission by the limiter, :meth:`_attempt`, the envelope's
        judgement, and :meth:`_succeeded` or :meth:`_on_failure` (which raises or waits).
        """
        project = project_uuid if org_level else (project_uuid or options.project_uuid)
        body = None if json is None else _json_body(json)  # a bad body fails before any wait
        call: _Call | None = None
        started = time.monotonic()  # elapsed covers the wait for admission too
        session = self._session
        if session is None or self._closed:
            session = self.session()
        limiter = self._limiter or self.limiter
        hooks = self.hooks
        self.budget.deposit()
        while True:
            asked = _now() if hooks is not None else 0.0
            sent_at = limiter.admit_now()
            if sent_at is None:
                sent_at = await limiter.admit()
            failed: AttemptFailed | None = None
            try:
                if call is None:
                    # built once admitted: the calls of a large gather wait without their
                    # headers, URL and record (fewer live objects for the GC to walk)
                    call = self._prepare(method, path, options, project, params, body, started)
                call.attempt += 1
                if hooks is not None and hooks.on_request:
                    event = RequestEvent(
                        call.method, call.route, call.attempt, call.request_id, sent_at - asked
                    )
                    emit(hooks.on_request, event)
                status, headers, raw = await self._attempt(session, call, options)
            except AttemptFailed as exc:
                failed = exc
            finally:
                limiter.release()
            assert call is not None  # built in the try above, or it raised
            if failed is None:
                try:
                    data = judge_reply(status, headers, raw, public_gateway=self._public_gateway)
                except AttemptFailed as exc:
                    failed = exc
                else:
                    limiter.on_success()
                    return self._succeeded(call, status, headers, raw, data)
            await self._on_failure(call, failed, options.retry, sent_at)

    def _prepare(
        self,
        method: str,
        path: str,
        options: CallOptions,
        project: str | None,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        started: float,
    ) -> _Call:
        """Everything every attempt sends alike: URL, query, headers, body, request id."""
        method = method.upper()
        if not path.startswith(API_PREFIX + "/"):
            path = API_PREFIX + "/" + path.lstrip("/")
        request_id = _request_id()
        headers = dict(self._base_headers)
        headers["X-Request-Id"] = request_id
        if options.language:
            headers["X-Language"] = options.language
        if project:
            headers["X-Project-Uuid"] = project
        if body is not None:
            headers["Content-Type"] = "application/json"
        # encoded=True: resources percent-encode path parameters; yarl must not re-normalize
        # them (it would turn %2E%2E back into ".." and drop a segment)
        url = URL(self.config.base_url + path, encoded=True)
        query = _clean_params(params) if params else None
        return _Call(method, path, url, query, headers, body, request_id, started)

    async def _attempt(
        self, session: aiohttp.ClientSession, call: _Call, options: CallOptions
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One HTTP exchange, bounded by the attempt deadline: status, headers, body (capped).
        A transport failure comes back as :class:`AttemptFailed`, never as aiohttp's error."""
        try:
            async with (
                asyncio.timeout(options.deadline),
                session.request(
                    call.method,
                    call.url,
                    params=call.query,
                    data=call.body,
                    headers=call.headers,
                    allow_redirects=False,
                    timeout=options.client_timeout,
                    # aiohttp would label a bodiless POST/PUT octet-stream; asked per call (not
                    # on the session) so a call with a body skips the per-request skip work
                    skip_auto_headers=_NO_CONTENT_TYPE if call.body is None else None,
                ) as resp,
            ):
                length = resp.content_length
                if length is not None and length <= self.config.max_response_bytes:
                    raw = await resp.read()  # the usual case, without another coroutine
                else:
                    raw = await self._read_capped(resp, length)
                return resp.status, resp.headers, raw
        except (ResponseTooLargeError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _attempt_failed(exc, self._host) from None

    def _succeeded(
        self, call: _Call, status: int, headers: Mapping[str, str], raw: bytes, data: Any
    ) -> RawResponse:
        """The reply of a call that succeeded: hooks, debug log, the RawResponse."""
        elapsed = time.monotonic() - call.started
        hooks = self.hooks
        if hooks is not None and hooks.on_response:
            event = ResponseEvent(
                call.method, call.route, status, 0, call.attempt, call.request_id, elapsed
            )
            emit(hooks.on_response, event)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d in %.3fs (attempts=%d, request_id=%s)",
                call.method,
                call.path,
                status,
                elapsed,
                call.attempt,
                call.request_id,
            )
        return RawResponse(
            method=call.method,
            path=call.path,
            status=status,
            headers=headers,
            body=raw,
            request_id=call.request_id,
            attempts=call.attempt,
            elapsed=elapsed,
            data=data,
        )

    async def _on_failure(
        self, call: _Call, failed: AttemptFailed, policy: RetryPolicy, sent_at: float
    ) -> None:
        """A failed attempt: stamp its error, decide, tell the hooks and the log; then raise
        the error, or wait for the retry (the attempt's limiter slot is already released)."""
        error = failed.error
        decision = self._decide(call.method, failed, policy, call.retries, call.waits, sent_at)
        _stamp(error, call.method, call.path, call.request_id, call.attempt)
        if self.hooks is not None:
            self._observe_failure(error, decision.retry, decision.delay, call.started)
        log.debug(
            "%s %s failed (attempt %d, request_id=%s): %s%s",
            call.method,
            call.path,
            call.attempt,
            call.request_id,
            type(error).__name__,
            ", retrying" if decision.retry else "",
        )
        if not decision.retry:
            raise error
        if decision.spends:
            call.retries += 1
            self.budget.try_spend()
        else:
            call.waits += 1
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)

    def _observe_failure(
        self, error: DJIError, retrying: bool, delay: float, started: float
    ) -> None:
        """The hook events of a failed attempt (only called when hooks are set)."""
        hooks = self.hooks
        assert hooks is not None
        method, path = getattr(error, "method", ""), getattr(error, "path", "")
        route = route_template(path)
        attempt: int = getattr(error, "attempts", 0)
        request_id: str = getattr(error, "request_id", "")
        status: int | None = getattr(error, "status_code", None)
        code: int | None = getattr(error, "code", None)
        elapsed = time.monotonic() - started
        if isinstance(error, RateLimitError) and hooks.on_rate_limited:
            emit(
                hooks.on_rate_limited,
                RateLimitedEvent(method, route, attempt, request_id, elapsed, error.retry_after),
            )
        name = type(error).__name__
        if retrying:
            if hooks.on_retry:
                event = RetryEvent(
                    method, route, status, code, attempt, request_id, elapsed, delay, name
                )
                emit(hooks.on_retry, event)
        elif hooks.on_response:
            emit(
                hooks.on_response,
                ResponseEvent(method, route, status, code, attempt, request_id, elapsed, name),
            )

    def _decide(
        self,
        method: str,
        failed: AttemptFailed,
        policy: RetryPolicy,
        retries: int,
        waits: int,
        sent_at: float,
    ) -> Decision:
        """The one place a failure meets the limiter: feedback, then :func:`retry.decide`."""
        error = failed.error
        signal: RateSignal | None = None
        retry_after: float | None = None
        rate_limited = isinstance(error, RateLimitError)
        if isinstance(error, RateLimitError):
            retry_after = error.retry_after
            signal = self.limiter.on_rate_limited(sent_at)
        decision = decide(
            method,
            failed.failure,
            policy,
            retries=retries,
            waits=waits,
            budget_left=self.budget.tokens >= 1.0,
            retryable=failed.retryable,
            status=getattr(error, "status_code", None),
            code=getattr(error, "code", None),
            rate_limited=rate_limited,
            retry_after=retry_after,
            signal=signal,
            rng=self._rng,
        )
        if decision.pause > 0:
            self.limiter.pause(decision.pause)
        return decision

    @property
    def _host(self) -> str:
        return self.config.base_url.split("://", 1)[-1]

    async def _read_capped(self, resp: aiohttp.ClientResponse, length: int | None) -> bytes:
        """A body of unknown length read chunk by chunk up to the cap, or a too-large one."""
        cap = self.config.max_response_bytes
        if length is not None:
            raise ResponseTooLargeError(f"reply of {length} bytes is over max_response_bytes={cap}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > cap:
                raise ResponseTooLargeError(f"reply is over max_response_bytes={cap}")
            chunks.append(chunk)
        return b"".join(chunks)


@functools.lru_cache(maxsize=64)
def _client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """aiohttp's part of the timeouts: only ``sock_connect`` (a new connection's TCP + TLS).

    The whole attempt is bounded by one ``asyncio.timeout`` instead (see ``_attempt_deadline``):
    aiohttp's ``connect``/``sock_read``/``total`` timers cost ~0.1-0.2x throughput at high
    concurrency (measured against raw aiohttp), and a whole-attempt bound is exact here because
    the limiter keeps requests out of aiohttp's pool queue (docs/explanation/design.md#one-pool).
    """
    return aiohttp.ClientTimeout(sock_connect=timeouts.connect)


def _attempt_deadline(timeouts: Timeouts) -> float:
    """Seconds one attempt may take once admitted: ``total``, else ``connect + read``."""
    return timeouts.total if timeouts.total is not None else timeouts.connect + timeouts.read


def _now() -> float:
    return asyncio.get_running_loop().time()


def _attempt_failed(exc: BaseException, host: str) -> AttemptFailed:
    """An aiohttp / socket / timeout failure of one attempt as aiodji's error."""
    if isinstance(exc, ResponseTooLargeError):
        return AttemptFailed(exc, Failure.STATUS, retryable=False)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return AttemptFailed(APITimeoutError(f"connecting to {host} timed out"), Failure.CONNECT)
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError):
        return AttemptFailed(
            APIConnectionError(f"TLS failure talking to {host}: {exc}"),
            Failure.CONNECT,
            retryable=False,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return AttemptFailed(
            APIConnectionError(f"cannot connect to {host}: {exc.os_error}"), Failure.CONNECT
        )
    if isinstance(exc, aiohttp.SocketTimeoutError | TimeoutError):
        return AttemptFailed(
            APITimeoutError(f"reading the reply from {host} timed out"), Failure.IO
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return AttemptFailed(
            APIConnectionError(f"invalid URL: {exc}"), Failure.CONNECT, retryable=False
        )
    return AttemptFailed(
        APIConnectionError(f"connection to {host} failed: {type(exc).__name__}: {exc}"),
        Failure.IO,
    )


def _request_id() -> str:
    """A random (version 4) UUID as text, without building a ``uuid.UUID`` (half the CPU)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


# the UUID's variant digit (RFC 4122: binary 10xx) from any random hex digit
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _json_body(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError as exc:  # orjson.JSONEncodeError: a value JSON cannot carry
        raise InvalidArgumentError(f"the request body is not JSON-serializable: {exc}") from None


def _stamp(error: DJIError, method: str, path: str, request_id: str, attempts: int) -> None:
    """Fill in where an error happened (APIError fields); errors are built before that is known."""
    for name, value in (
        ("method", method),
        ("path", path),
        ("request_id", request_id),
        ("attempts", attempts),
    ):
        setattr(error, name, value)


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Query parameters as strings: None dropped, bools as true/false, lists comma-joined."""
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out or None
