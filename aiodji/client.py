"""The async Client: one aiohttp pool + one limiter, namespaces, scoped views, raw responses."""

from __future__ import annotations

import functools
import inspect
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import aiohttp
import attrs

from aiodji._args import require_text
from aiodji.bulk import BulkOps
from aiodji.config import (
    ClientConfig,
    ConfigError,
    LimiterSource,
    RateLimit,
    Timeouts,
    check_call_settings,
    language_from,
    retries_from,
    timeouts_from,
)
from aiodji.errors import InvalidArgumentError, ResponseValidationError
from aiodji.hooks import Hooks, hooks_from
from aiodji.limiter import Limiter, LimiterStats
from aiodji.resources import (
    Annotations,
    Converters,
    Devices,
    Livestream,
    Models3D,
    OpenModels,
    Projects,
    System,
    Tasks,
    Waylines,
)
from aiodji.retry import RetryPolicy
from aiodji.serde import SerdeError
from aiodji.transport import RAW_SINK, CallOptions, RawResponse, Transport

if TYPE_CHECKING:
    from aiodji.fleet import Fleet

__all__ = ["APIResponse", "Client", "RawClientView", "RawResponseView"]

T = TypeVar("T")

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


class Client:
    """The FlightHub 2 OpenAPI client.

    ``async with aiodji.Client(token=..., region="cn") as dji: ...``. Every argument falls back
    to an environment variable (``AIODJI_TOKEN``, ``AIODJI_BASE_URL``, ``AIODJI_REGION``,
    ``AIODJI_PROJECT_UUID``). The Client may be built outside a running loop; its aiohttp
    session is created inside the loop on ``__aenter__`` or first use, and closed by
    ``__aexit__`` / :meth:`close`. A ``session=`` passed in is never closed by aiodji.

    Concurrency: any number of calls may be awaited at once (``asyncio.gather``); they queue in
    the Client's limiter (``max_connections`` at a time, ``rate_limit`` per second, a shared
    pause on 429), never in aiohttp's pool, so queued calls never time out.
    """

    _transport: Transport
    _options: CallOptions
    _owner: bool

    def __init__(
        self,
        token: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        project_uuid: str | None = None,
        language: str | None = None,
        timeout: float | Timeouts | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: float | RateLimit | LimiterSource | None = None,
        max_connections: int | None = None,
        session: aiohttp.ClientSession | None = None,
        ssl: ssl_module.SSLContext | bool | str | None = None,
        allow_insecure_http: bool = False,
        max_response_bytes: int | None = None,
        hooks: Hooks | Sequence[Hooks] | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        config = ClientConfig.build(
            token=token,
            region=region,
            base_url=base_url,
            project_uuid=project_uuid,
            language=language,
            timeouts=timeout,
            retry=retry,
            max_retries=max_retries,
            rate_limit=rate_limit,
            max_connections=max_connections,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_bytes,
            ssl=ssl,
        )
        # hooks: aiodji's call events (aiodji.hooks); trace_configs: aiohttp's own, passed
        # through to the session aiodji creates (OpenTelemetry's aiohttp instrumentation)
        self._transport = Transport(
            config, session, hooks=hooks_from(hooks), trace_configs=trace_configs
        )
        self._options = CallOptions(
            timeouts=config.timeouts,
            retry=config.retry,
            project_uuid=config.project_uuid,
            language=config.language,
        )
        self._owner = True

    @classmethod
    def _view(cls, transport: Transport, options: CallOptions) -> Client:
        view = cls.__new__(cls)
        view._transport = transport
        view._options = options
        view._owner = False
        return view

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> Client:
        self._transport.session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool (a view leaves the shared pool to its Client)."""
        if self._owner:
            await self._transport.close()

    @property
    def closed(self) -> bool:
        return self._transport.closed

    def __repr__(self) -> str:
        project = f", project_uuid={self.project_uuid!r}" if self.project_uuid else ""
        return f"<aiodji.Client base_url={self.base_url!r}{project}>"

    # -- configuration and views -----------------------------------------------------------
    @property
    def config(self) -> ClientConfig:
        return self._transport.config

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    @property
    def project_uuid(self) -> str | None:
        return self._options.project_uuid

    @property
    def limiter(self) -> Limiter:
        """The Client-wide limiter shared by every view (``.rate``, ``.stats``)."""
        return self._transport.limiter

    @property
    def limiter_stats(self) -> LimiterStats:
        """A read-only snapshot of the rate control: mode, rate, ceiling, in flight, queued,
        pauses, 429 / congestion events, queue wait (for the CLI, logs and metrics)."""
        return self._transport.limiter.stats

    def project(self, project_uuid: str) -> Client:
        """A view scoped to one project: sends ``X-Project-Uuid``; same pool and limiter."""
        require_text("project_uuid", project_uuid)
        return Client._view(self._transport, attrs.evolve(self._options, project_uuid=project_uuid))

    def with_options(
        self,
        *,
        timeout: float | Timeouts | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        project_uuid: str | None = None,
        language: str | None = None,
    ) -> Client:
        """A view with other per-call settings; it shares the pool and the limiter."""
        options = self._options
        new_timeouts = timeouts_from(timeout, default=options.timeouts)
        new_retry = retries_from(max_retries, retry or options.retry)
        check_call_settings(new_timeouts, new_retry)
        _check_view_budget(new_retry, self._transport.config.retry)
        language = language_from(language)
        if project_uuid is not None:
            require_text("project_uuid", project_uuid)
        return Client._view(
            self._transport,
            CallOptions(
                timeouts=new_timeouts,
                retry=new_retry,
                project_uuid=project_uuid or options.project_uuid,
                language=language or options.language,
            ),
        )

    @functools.cached_property
    def with_raw_response(self) -> RawClientView:
        """``await dji.with_raw_response.converters.list()`` → :class:`APIResponse`."""
        return RawClientView(self)

    # -- namespaces ------------------------------------------------------------------------
    @functools.cached_property
    def converters(self) -> Converters:
        """Stream converters (project-scoped); also ``dji.livestream.converters``."""
        return Converters(self)

    @functools.cached_property
    def livestream(self) -> Livestream:
        """Livestreams (``start``) and ``converters``."""
        return Livestream(self)

    @functools.cached_property
    def system(self) -> System:
        return System(self)

    @functools.cached_property
    def projects(self) -> Projects:
        return Projects(self)

    @functools.cached_property
    def devices(self) -> Devices:
        return Devices(self)

    @functools.cached_property
    def tasks(self) -> Tasks:
        return Tasks(self)

    @functools.cached_property
    def waylines(self) -> Waylines:
        return Waylines(self)

    @functools.cached_property
    def models3d(self) -> Models3D:
        """3D reconstruction models (``aiodji.models`` holds the attrs classes)."""
        return Models3D(self)

    @functools.cached_property
    def annotations(self) -> Annotations:
        return Annotations(self)

    @functools.cached_property
    def open_models(self) -> OpenModels:
        """Open modeling: reconstruct from your own uploaded images
        (docs/explanation/api-notes.md#open-modeling)."""
        return OpenModels(self)

    @functools.cached_property
    def bulk(self) -> BulkOps:
        """Bulk jobs with bounded workers and one result per item (``aiodji.bulk``)."""
        return BulkOps(self)

    @functools.cached_property
    def fleet(self) -> Fleet:
        """Converter state across projects: discover, plan, apply, resume (``aiodji.fleet``)."""
        # fleet builds on resources and bulk: loaded on first use; the reconcile loop is the
        # controller's (the layer above the fleet), handed in so the fleet never imports it
        from aiodji.controller.loop import reconcile
        from aiodji.fleet import Fleet

        return Fleet(self, reconcile_loop=reconcile)

    # -- calls -----------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        project_uuid: str | None = None,
    ) -> Any:
        """The low-level call for anything not wrapped: same headers, limiter, retries, errors.

        ``path`` is an API path such as ``/openapi/v0.1/system_status`` (the prefix is added when
        missing). Returns the envelope's ``data`` (None when absent).
        """
        if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
            raise InvalidArgumentError(
                f"method must be one of {sorted(HTTP_METHODS)}, got {method!r}"
            )
        if not isinstance(path, str) or not _is_wire_path(path):
            # the path goes on the wire as written: no room for request splitting
            raise InvalidArgumentError(
                f"path must be an ASCII API path without spaces (percent-encode the rest), "
                f"got {path!r}"
            )
        if params is not None and not isinstance(params, Mapping):
            raise InvalidArgumentError(f"params must be a mapping, got {type(params).__name__}")
        if project_uuid is not None:
            require_text("project_uuid", project_uuid)
        return await self._call(
            method, path, json=json, params=params, project_uuid=project_uuid, parse=_identity
        )

    def _project_for(self, project_uuid: str | None, area: str) -> str:
        """The project of a project-scoped call, or a clear error before any request."""
        if project_uuid is None and self._options.project_uuid:
            return self._options.project_uuid  # checked when the view was made
        project = project_uuid or self._options.project_uuid
        if not project:
            raise ConfigError(
                f"{area} are project-scoped: use dji.project(uuid).{area} or pass project_uuid="
            )
        return require_text("project_uuid", project)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[Any], T],
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        project_uuid: str | None = None,
        org_level: bool = False,
    ) -> T:
        """One API call through the transport; ``parse`` turns the envelope's data into the
        result. ``org_level`` calls (docs/explanation/api-notes.md#headers: system status, org
        projects, org devices)
        never send the view's ``X-Project-Uuid``."""
        raw = await self._transport.send(
            method,
            path,
            self._options,
            params=params,
            json=json,
            project_uuid=project_uuid,
            org_level=org_level,
        )
        sink = RAW_SINK.get()
        if sink is not None:
            sink.append(raw)
        try:
            return parse(raw.data)
        except SerdeError as exc:
            raise ResponseValidationError(
                f"the reply does not fit the expected shape: {type(exc).__name__}: {exc}",
                body=raw.body,
                status_code=raw.status,
                method=raw.method,
                path=raw.path,
                request_id=raw.request_id,
                attempts=raw.attempts,
            ) from None


def _check_view_budget(retry: RetryPolicy, client_retry: RetryPolicy) -> None:
    """The retry budget is one per Client (all its views spend it): a view's policy cannot
    change it, so asking for another one is an error rather than silently ignored."""
    for name in ("budget_ratio", "budget_reserve"):
        if getattr(retry, name) != getattr(client_retry, name):
            raise ConfigError(
                f"retry.{name} is Client-wide (one retry budget shared by every view): set it "
                f"on aiodji.Client(retry=...), not in with_options()"
            )


def _is_wire_path(path: str) -> bool:
    return bool(path.strip("/")) and path.isascii() and path.isprintable() and " " not in path


def _identity(data: Any) -> Any:
    return data


class APIResponse(Generic[T]):
    """A call's raw reply: ``status``, ``headers``, ``request_id``, ``attempts``, ``body``,
    and ``parse()`` for the model. ``responses`` lists every HTTP reply when a method made
    several (a multi-page ``list()``)."""

    def __init__(
        self,
        responses: list[RawResponse],
        result: T | None,
        error: ResponseValidationError | None,
    ) -> None:
        self.responses = responses
        self._result = result
        self._error = error
        last = responses[-1]
        self.status = last.status
        self.headers = last.headers
        self.request_id = last.request_id
        self.attempts = last.attempts
        self.body = last.body
        self.elapsed = last.elapsed

    def parse(self) -> T:
        """The structured result; raises ResponseValidationError if the reply did not fit."""
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (
            f"<APIResponse status={self.status} request_id={self.request_id} "
            f"attempts={self.attempts}>"
        )


V = TypeVar("V")


class RawResponseView(Generic[V]):
    """``dji.with_raw_response.<namespace>.<method>(...)`` → :class:`APIResponse`.

    ``iter()`` methods pass through unchanged: they yield items, which have no one reply.
    """

    def __init__(self, target: V) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:  # the wrapped methods' signatures vary
        attr = getattr(self._target, name)
        if inspect.isasyncgenfunction(attr):
            return attr
        if inspect.iscoroutinefunction(attr):
            return _raw_method(attr)
        if callable(attr):  # project(...), with_options(...): keep the raw view on the result
            return lambda *a, **kw: RawResponseView(attr(*a, **kw))
        if attr is None or isinstance(attr, str | int | float | bool):
            return attr
        return RawResponseView(attr)


class RawClientView(RawResponseView[Client]):
    """The Client's raw view: its namespaces and views typed (their methods give APIResponse)."""

    def project(self, project_uuid: str) -> RawClientView:
        return RawClientView(self._target.project(project_uuid))

    def with_options(self, **options: Any) -> RawClientView:
        return RawClientView(self._target.with_options(**options))

    async def request(self, method: str, path: str, **kwargs: Any) -> APIResponse[Any]:
        return await _raw_method(self._target.request)(method, path, **kwargs)

    @property
    def converters(self) -> RawResponseView[Converters]:
        return RawResponseView(self._target.converters)

    @property
    def livestream(self) -> RawResponseView[Livestream]:
        return RawResponseView(self._target.livestream)

    @property
    def system(self) -> RawResponseView[System]:
        return RawResponseView(self._target.system)

    @property
    def projects(self) -> RawResponseView[Projects]:
        return RawResponseView(self._target.projects)

    @property
    def devices(self) -> RawResponseView[Devices]:
        return RawResponseView(self._target.devices)

    @property
    def tasks(self) -> RawResponseView[Tasks]:
        return RawResponseView(self._target.tasks)

    @property
    def waylines(self) -> RawResponseView[Waylines]:
        return RawResponseView(self._target.waylines)

    @property
    def models3d(self) -> RawResponseView[Models3D]:
        return RawResponseView(self._target.models3d)

    @property
    def annotations(self) -> RawResponseView[Annotations]:
        return RawResponseView(self._target.annotations)


def _raw_method(
    method: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[APIResponse[Any]]]:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> APIResponse[Any]:
        sink: list[RawResponse] = []
        token = RAW_SINK.set(sink)
        error: ResponseValidationError | None = None
        result: Any = None
        try:
            result = await method(*args, **kwargs)
        except ResponseValidationError as exc:
            if not sink:
                raise
            error = exc
        finally:
            RAW_SINK.reset(token)
        if not sink:
            raise InvalidArgumentError(f"{method.__qualname__} made no API call")
        return APIResponse(sink, result, error)

    return call
