"""The transport against real local HTTP servers (aiohttp TestServer): headers, retries,
errors, caps, redirects, timeouts, secrets."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import aiodji

pytestmark = pytest.mark.anyio

TOKEN = "eyJhbGciOi.secret-token-value.sig"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def envelope(data: Any = None, code: int = 0, message: str = "OK") -> web.Response:
    return web.Response(
        body=orjson.dumps({"code": code, "message": message, "data": data}),
        content_type="application/json",
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


def client(url: str, **kw: Any) -> aiodji.Client:
    kw.setdefault("retry", aiodji.RetryPolicy(backoff_base=0.01, backoff_max=0.02))
    return aiodji.Client(token=TOKEN, base_url=url, **kw)


async def test_content_type_only_with_a_json_body(serve: Any) -> None:
    # aiohttp adds no Content-Type of its own to aiodji's calls (no skip_auto_headers needed)
    seen: list[list[str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.getall("Content-Type", []))
        return envelope()

    url = await serve(handler)
    async with client(url) as dji:
        for method in ("GET", "POST", "PUT", "DELETE"):
            await dji.request(method, "/openapi/v0.1/x")
        await dji.request("PUT", "/openapi/v0.1/x", json={"a": 1})
    assert seen == [[], [], [], [], ["application/json"]]


async def test_headers_and_envelope(serve: Any) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append({k.title(): v for k, v in request.headers.items()})
        return envelope({"path": request.path, "q": dict(request.query)})

    url = await serve(handler)
    async with client(url, language="en") as dji:
        data = await dji.request("GET", "/openapi/v0.1/project", params={"page": 1, "x": None})
        await dji.project("p-1").request("GET", "system_status")
    assert data == {"path": "/openapi/v0.1/project", "q": {"page": "1"}}
    first, second = seen
    assert first["X-User-Token"] == TOKEN
    assert first["X-Language"] == "en"
    assert len(first["X-Request-Id"]) == 36
    assert "X-Project-Uuid" not in first
    assert second["X-Project-Uuid"] == "p-1"
    assert first["X-Request-Id"] != second["X-Request-Id"]


async def test_retries_keep_the_request_id(serve: Any) -> None:
    ids: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        ids.append(request.headers["X-Request-Id"])
        if len(ids) < 3:
            return web.Response(status=503, text="busy")
        return envelope({"ok": True})

    url = await serve(handler)
    async with client(url, max_retries=2) as dji:
        raw = await dji.with_raw_response.request("PUT", "/openapi/v0.1/x", json={"a": 1})
    assert raw.attempts == 3
    assert raw.parse() == {"ok": True}
    assert len(set(ids)) == 1 and raw.request_id == ids[0]


async def test_retries_exhausted_raise_with_attempts(serve: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=500, body=b'{"code":1,"message":"boom"}')

    url = await serve(handler)
    async with client(url, max_retries=1) as dji:
        with pytest.raises(aiodji.InternalServerError) as info:
            await dji.request("GET", "/openapi/v0.1/x")
    err = info.value
    assert err.attempts == 2 and err.status_code == 500 and err.method == "GET"
    assert err.path == "/openapi/v0.1/x" and err.request_id


async def test_post_is_not_retried_after_a_5xx(serve: Any) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=502)

    url = await serve(handler)
    async with client(url, max_retries=3) as dji:
        with pytest.raises(aiodji.InternalServerError):
            await dji.request("POST", "/openapi/v0.1/x", json={})
    assert calls == 1


async def test_429_pauses_and_retries_even_post(serve: Any) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.Response(
                status=429,
                headers={"Retry-After": "0"},
                body=b'{"code":210429,"message":"rate limited"}',
            )
        if calls == 2:
            return envelope(code=210429, message="rate limited")
        return envelope({"id": "x"})

    url = await serve(handler)
    async with client(url, max_retries=1) as dji:  # two 429 waits, not counted as retries
        assert await dji.request("POST", "/openapi/v0.1/x", json={}) == {"id": "x"}
        assert dji.limiter.stats.rate_limited == 2
    calls = 0
    async with client(url, max_retries=0) as dji:  # no retry at all: the first 429 raises
        with pytest.raises(aiodji.RateLimitError) as info:
            await dji.request("POST", "/openapi/v0.1/x", json={})
    assert info.value.retry_after == 0.0 and info.value.attempts == 1 and calls == 1


async def test_business_errors_and_status_like_codes(serve: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        code = int(request.query["code"])
        return envelope(code=code, message="server says no")

    url = await serve(handler)
    async with client(url) as dji:
        with pytest.raises(aiodji.APIBusinessError) as info:
            await dji.request("GET", "/openapi/v0.1/x", params={"code": 213025})
        assert info.value.code == 213025 and info.value.attempts == 1
        with pytest.raises(aiodji.AuthenticationError) as auth:
            await dji.request("GET", "/openapi/v0.1/x", params={"code": 200401})
        assert auth.value.code == 200401


async def test_redirects_are_not_followed(serve: Any) -> None:
    followed = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal followed
        if request.path == "/elsewhere":
            followed += 1
            return envelope()
        raise web.HTTPFound("/elsewhere")

    url = await serve(handler)
    async with client(url) as dji:
        with pytest.raises(aiodji.APIStatusError, match="redirect not followed"):
            await dji.request("GET", "/openapi/v0.1/x")
    assert followed == 0


async def test_html_page_means_wrong_base_url(serve: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>FlightHub 2</body></html>", content_type="text/html")

    url = await serve(handler)
    async with client(url) as dji:
        with pytest.raises(aiodji.ResponseValidationError, match="wrong base URL"):
            await dji.request("GET", "/openapi/v0.1/x")


async def test_reply_size_cap(serve: Any) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.query.get("chunked"):
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for _ in range(10):
                await resp.write(b"x" * 1000)
            await resp.write_eof()
            return resp
        return web.Response(body=b"x" * 5000)

    url = await serve(handler)
    async with client(url, max_response_bytes=2048) as dji:
        with pytest.raises(aiodji.ResponseTooLargeError):
            await dji.request("GET", "/openapi/v0.1/x")
        with pytest.raises(aiodji.ResponseTooLargeError):
            await dji.request("GET", "/openapi/v0.1/x", params={"chunked": 1})


async def test_read_timeout_is_a_timeout_error(serve: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return envelope()

    url = await serve(handler)
    async with client(url, timeout=aiodji.Timeouts(connect=1, read=0.1), max_retries=1) as dji:
        with pytest.raises(aiodji.APITimeoutError) as info:
            await dji.request("GET", "/openapi/v0.1/x")
    assert info.value.attempts == 2


async def test_connection_refused_names_the_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with client(f"http://127.0.0.1:{port}", max_retries=1) as dji:
        with pytest.raises(aiodji.APIConnectionError, match=f"127.0.0.1:{port}") as info:
            await dji.request("GET", "/openapi/v0.1/x")
    assert info.value.attempts == 2


async def test_retry_budget_fails_fast_when_server_is_down(serve: Any) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=503)

    url = await serve(handler)
    policy = aiodji.RetryPolicy(
        max_retries=5, backoff_base=0.001, backoff_max=0.001, budget_ratio=0.0, budget_reserve=4
    )
    async with client(url, retry=policy) as dji:
        for _ in range(5):
            with pytest.raises(aiodji.InternalServerError):
                await dji.request("GET", "/openapi/v0.1/x")
    assert calls == 5 + 4  # five first attempts, four retries in the whole budget


async def test_token_never_leaks(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=401, body=b'{"code":200401,"message":"bad token"}')

    url = await serve(handler)
    caplog.set_level(logging.DEBUG, logger="aiodji")
    dji = client(url)
    async with dji:
        with pytest.raises(aiodji.AuthenticationError) as info:
            await dji.request("GET", "/openapi/v0.1/x")
    texts = [
        repr(dji),
        str(dji.config),
        repr(dji.config),
        str(info.value),
        repr(info.value),
        caplog.text,
        repr(info.value.__dict__),
    ]
    assert caplog.text  # DEBUG logging did run
    for text in texts:
        assert TOKEN not in text


async def test_user_session_is_not_closed(serve: Any) -> None:
    import aiohttp

    async def handler(request: web.Request) -> web.Response:
        return envelope({"ok": 1})

    url = await serve(handler)
    async with aiohttp.ClientSession() as session:
        async with client(url, session=session) as dji:
            assert await dji.request("GET", "x") == {"ok": 1}
        assert not session.closed
        assert dji.closed


async def test_views_share_pool_and_limiter(serve: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return envelope()

    url = await serve(handler)
    async with client(url) as dji:
        view = dji.with_options(timeout=5, max_retries=0).project("p")
        assert view.limiter is dji.limiter
        assert view.project_uuid == "p" and dji.project_uuid is None
        await view.request("GET", "x")
        await view.close()  # a view leaves the pool to its Client
        await dji.request("GET", "x")


async def test_org_level_calls_never_send_the_views_project(serve: Any) -> None:
    """docs/explanation/api-notes.md#headers: system status, the org project list and the org
    device list carry no
    X-Project-Uuid, even from a project view or a Client with a default project."""
    seen: dict[str, str | None] = {}

    async def handler(request: web.Request) -> web.Response:
        seen[request.path] = request.headers.get("X-Project-Uuid")
        return envelope({"list": []})

    url = await serve(handler)
    async with client(url, project_uuid="P-DEFAULT") as dji:
        view = dji.project("P-VIEW")
        for api in (dji, view):
            await api.system.status()
            await api.projects.list()
            await api.devices.list()
        await view.converters.list()
    assert seen == {
        "/openapi/v0.1/system_status": None,
        "/openapi/v0.1/project": None,
        "/openapi/v0.1/device": None,
        "/openapi/v0.1/live-stream/converter": "P-VIEW",
    }


async def test_paging_ends_when_the_server_ignores_page(serve: Any) -> None:
    """A deployment without paging answers every page with the same full page: the walk
    stops at the first repeat instead of asking forever."""
    pages: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        pages.append(request.query["page"])
        return envelope({"list": [{"converter_id": "a"}, {"converter_id": "b"}]})

    url = await serve(handler)
    async with client(url) as dji:
        listed = await dji.project("p").converters.list(page_size=2)
    assert [c.converter_id for c in listed] == ["a", "b"]
    assert pages == ["1", "2"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": "5"},
        {"timeout": 0},
        {"max_retries": "2"},
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"rate_limit": "5"},
        {"max_connections": 0},
        {"max_connections": "8"},
        {"base_url": 5},
        {"token": 123},
    ],
)
def test_bad_client_options_are_config_errors(kwargs: dict[str, Any]) -> None:
    kwargs = {"token": TOKEN, "base_url": "http://127.0.0.1:1", **kwargs}
    with pytest.raises(aiodji.ConfigError):
        aiodji.Client(**kwargs)
    if set(kwargs) & {"timeout", "max_retries"}:
        view_kwargs = {k: v for k, v in kwargs.items() if k in ("timeout", "max_retries")}
        with pytest.raises(aiodji.ConfigError):
            aiodji.Client(token=TOKEN, base_url="http://127.0.0.1:1").with_options(**view_kwargs)


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("GE T", "/openapi/v0.1/x", {}),
        (None, "/openapi/v0.1/x", {}),
        ("GET", None, {}),
        ("GET", "/openapi/v0.1/x HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET /y", {}),
        ("GET", "/openapi/v0.1/x", {"params": [("a", 1)]}),
        ("GET", "/openapi/v0.1/x", {"project_uuid": "a\nb"}),
    ],
)
async def test_bad_request_arguments_fail_before_sending(
    serve: Any, method: Any, path: Any, extra: dict[str, Any]
) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return envelope()

    url = await serve(handler)
    async with client(url) as dji:
        with pytest.raises(aiodji.InvalidArgumentError):
            await dji.request(method, path, **extra)
    assert calls == 0


def test_a_number_timeout_bounds_the_whole_attempt() -> None:
    dji = aiodji.Client(token=TOKEN, base_url="http://127.0.0.1:1", timeout=3)
    assert dji.config.timeouts == aiodji.Timeouts(connect=3.0, read=3.0, total=3.0)
    view = dji.with_options(timeout=20)
    assert view._options.timeouts.total == 20.0


async def test_queued_calls_hold_no_built_request_and_a_bad_body_fails_at_once(
    serve: Any,
) -> None:
    # a gather of many calls waits in the limiter; each call's headers, URL and record are
    # built once it is admitted, so waiting calls leave fewer live objects for the GC to walk
    import gc

    from aiodji.transport import _Call

    release, both_in = asyncio.Event(), asyncio.Event()
    ids: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        ids.append(request.headers["X-Request-Id"])
        if len(ids) == 2:
            both_in.set()
        await release.wait()
        return envelope()

    url = await serve(handler)
    port = int(url.rsplit(":", 1)[1])
    async with client(url, max_connections=2) as dji:
        calls = [asyncio.ensure_future(dji.request("PUT", "x", json={"n": i})) for i in range(40)]
        await asyncio.wait_for(both_in.wait(), 10)
        gc.collect()  # earlier tests' calls: gone or at least not to this server
        built = sum(isinstance(o, _Call) and o.url.port == port for o in gc.get_objects())
        with pytest.raises(aiodji.InvalidArgumentError, match="not JSON-serializable"):
            await dji.request("PUT", "x", json={"n": object()})  # not queued behind the 40
        release.set()
        await asyncio.gather(*calls)
    assert built == 2 and dji.limiter_stats.admitted == 40
    assert len(set(ids)) == 40 and all(uuid.UUID(i).version == 4 for i in ids)
