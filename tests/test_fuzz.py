"""Hypothesis fuzz of replies: whatever a server answers — any status,
headers, body, envelope or ``data`` shape, even a broken HTTP stream — the client returns or
raises an aiodji error (never KeyError/TypeError/ValueError from inside), and never hangs.

Every public method of every namespace is driven through its parse path (``CALLS`` below; a
test checks that none is missing), plus the transport itself and a raw-socket server.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import attrs
import pytest
from _servers import LocalServers
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiodji
from aiodji import models
from aiodji.models import Geometry, Member, UploadedFile
from aiodji.transport import MAX_RATE_LIMIT_WAITS

pytestmark = pytest.mark.anyio

HANG_GUARD = 20  # seconds per call; a guard against hangs, never an expectation
FUZZ_POLICY = aiodji.RetryPolicy(
    max_retries=2, backoff_base=0.001, backoff_max=0.002, retry_after_max=0.01
)
FUZZ_TIMEOUTS = aiodji.Timeouts(connect=2.0, read=0.1)
# a fixed rate: the adaptive limiter would (rightly) slow to 1 request/s against a server that
# answers nothing but 429s, which only makes the fuzz slow
FUZZ_RATE = aiodji.RateLimit(rate=100_000.0)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- strategies -------------------------------------------------------------------------------


def _model_field_names() -> list[str]:
    """Every wire name of every model: random dicts use them so they reach the structuring."""
    names = {"list", "pagination", "total", "page", "page_size", "data", "code", "message"}
    for obj in vars(models).values():
        if isinstance(obj, type) and attrs.has(obj):
            for field in attrs.fields(obj):
                names.add(field.metadata.get("wire", field.name))
    return sorted(names)


KEYS = st.sampled_from(_model_field_names()) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "rtmp://h/live/k", "running", "2024-01-01T00:00:00Z", "1700000000"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=25,
)
ITEM = st.dictionaries(KEYS, JSON_VALUES, max_size=8)
DATA = (
    JSON_VALUES
    | st.fixed_dictionaries(
        {"list": st.lists(ITEM | JSON_VALUES, max_size=4)},
        optional={
            "pagination": JSON_VALUES
            | st.fixed_dictionaries(
                {"page": JSON_VALUES, "page_size": JSON_VALUES, "total": JSON_VALUES}
            ),
            "total": JSON_VALUES,
        },
    )
    | ITEM
)


def dumps(value: Any) -> bytes:
    """Standard-library JSON: allows what orjson refuses to write (NaN, ints > 64 bits)."""
    return json.dumps(value).encode()


@attrs.frozen
class Reply:
    status: int = 200
    headers: dict[str, str] = attrs.Factory(dict)
    body: bytes = b""
    stall: bool = False  # send the headers, then nothing until the client gives up


ENVELOPE = st.builds(
    lambda code, message, data, omit: dumps(
        {"code": code, "message": message}
        if omit
        else {"code": code, "message": message, "data": data}
    ),
    code=st.just(0) | st.integers(-(2**40), 2**40) | JSON_VALUES,
    message=st.text(max_size=20) | JSON_VALUES,
    data=DATA,
    omit=st.booleans(),
)
BODIES = (
    ENVELOPE
    | JSON_VALUES.map(dumps)
    | st.binary(max_size=200)
    | st.just(b"")
    | st.just(b"<!DOCTYPE html><html><body>gateway</body></html>")
    | ENVELOPE.flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n]))  # cut JSON
)
STATUSES = (
    st.just(200)
    | st.sampled_from(
        (201, 202, 204, 299, 301, 302, 304, 307, 400, 401, 403, 404, 405, 408, 409, 413, 418, 429)
    )
    | st.integers(430, 599)
)
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "text/html", "text/plain", "application/octet-stream", "json"]
        )
        | HEADER_VALUES,
        "Retry-After": st.sampled_from(["0", "1", "-5", "1e9", "nan", "inf", "Wed, 21 Oct 2015"])
        | st.integers(-10, 10**12).map(str)
        | HEADER_VALUES,
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "x-bogus"]),
        "Location": st.sampled_from(["http://elsewhere.invalid/", "/openapi/v0.1/x"]),
        "X-Anything": HEADER_VALUES,
    },
)
REPLIES = st.builds(
    Reply,
    status=STATUSES,
    headers=HEADERS,
    body=BODIES,
    stall=st.sampled_from([False] * 29 + [True]),
)


# -- the fuzz server ----------------------------------------------------------------------------


class FuzzServer:
    """Answers every request with ``self.reply`` and counts the requests."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.requests = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        reply = self.reply
        resp = web.StreamResponse(status=reply.status)
        for name, value in reply.headers.items():
            resp.headers[name] = value
        if reply.status in (204, 304) or 100 <= reply.status < 200:
            await resp.prepare(request)
            return resp
        resp.content_length = len(reply.body)
        await resp.prepare(request)
        if reply.stall:
            await asyncio.sleep(
                0.5
            )  # longer than the read timeout; cancelled when the client leaves
        await resp.write(reply.body)
        await resp.write_eof()
        return resp


@pytest.fixture
async def fuzz_server() -> AsyncIterator[tuple[FuzzServer, str]]:
    server = FuzzServer()
    async with LocalServers() as servers:
        yield server, await servers.add(server.handle)


def fuzz_client(url: str) -> aiodji.Client:
    return aiodji.Client(token="fuzz-token", base_url=url, retry=FUZZ_POLICY, timeout=FUZZ_TIMEOUTS)


async def outcome(call: Awaitable[Any]) -> Any:
    """The call's result or its aiodji error; anything else fails the test (and so does a hang)."""
    try:
        with anyio.fail_after(HANG_GUARD):
            return await call
    except aiodji.DJIError as exc:
        return exc


# -- the transport ------------------------------------------------------------------------------


@fuzz(250)
@given(reply=REPLIES, method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]))
async def test_any_reply_gives_data_or_an_aiodji_error(
    fuzz_server: tuple[FuzzServer, str], reply: Reply, method: str
) -> None:
    server, url = fuzz_server
    server.reply = reply
    async with fuzz_client(url) as dji:
        result = await outcome(dji.request(method, "/openapi/v0.1/x", json={"a": 1}))
        if isinstance(result, aiodji.APIError):
            assert result.method == method and result.path == "/openapi/v0.1/x"
            assert result.attempts >= 1
        # whatever happened, the Client is still usable and gave its limiter slots back
        assert dji.limiter.in_flight == 0


# -- every resource's parse path ----------------------------------------------------------------

Call = Callable[[aiodji.Client], Awaitable[Any]]


async def drain(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


CALLS: dict[str, Call] = {
    "system.status": lambda d: d.system.status(),
    "projects.list": lambda d: d.projects.list(),
    "projects.list_page": lambda d: d.projects.list_page(2, page_size=5),
    "projects.iter": lambda d: drain(d.projects.iter()),
    "projects.devices": lambda d: d.projects.devices(),
    "projects.devices_page": lambda d: d.projects.devices_page(2, page_size=5),
    "projects.iter_devices": lambda d: drain(d.projects.iter_devices()),
    "projects.sts_token": lambda d: d.projects.sts_token(),
    "projects.add_member": lambda d: d.projects.add_member("user-1"),
    "projects.add_members": lambda d: d.projects.add_members([Member(user_id="user-1")]),
    "devices.list": lambda d: d.devices.list(),
    "devices.list_page": lambda d: d.devices.list_page(2, page_size=5),
    "devices.iter": lambda d: drain(d.devices.iter()),
    "devices.state": lambda d: d.devices.state("SN1"),
    "devices.hms": lambda d: d.devices.hms(["SN1", "SN2"]),
    "devices.command": lambda d: d.devices.command("SN1", "return_home"),
    "devices.change_camera": lambda d: d.devices.change_camera("SN1", "165-0-7", "indoor"),
    "devices.change_lens": lambda d: d.devices.change_lens("SN1", "81-0-0", "wide"),
    "devices.acquire_control": lambda d: d.devices.acquire_control("SN1", "81-0-0"),
    "devices.release_control": lambda d: d.devices.release_control("SN1", ["81-0-0"]),
    "devices.set_video_quality": lambda d: d.devices.set_video_quality("SN1", "81-0-0", "smooth"),
    "devices.rtk_calibration": lambda d: d.devices.rtk_calibration(
        "SN1", host="rtk.example", port=2101, account="a", password="p", mount_point="m"
    ),
    "livestream.start": lambda d: d.livestream.start("SN1", "81-0-0"),
    "converters.list": lambda d: d.converters.list(),
    "converters.list_page": lambda d: d.converters.list_page(2, page_size=10),
    "converters.iter": lambda d: drain(d.converters.iter(page_size=5)),
    "converters.create": lambda d: d.converters.create(
        name="n", sn="SN1", camera_index="81-0-0", url="rtmp://h/live/k"
    ),
    "converters.set_enabled": lambda d: d.converters.set_enabled("c-1", True),
    "converters.enable": lambda d: d.converters.enable("c-1"),
    "converters.disable": lambda d: d.converters.disable("c-1"),
    "converters.delete": lambda d: d.converters.delete("c-1"),
    "tasks.create": lambda d: d.tasks.create(
        name="t", wayline_uuid="w-1", sn="SN1", task_type="immediate"
    ),
    "tasks.get": lambda d: d.tasks.get("t-1"),
    "tasks.list": lambda d: d.tasks.list(sn="SN1", begin_at=1_700_000_000, end_at=1_700_086_400),
    "tasks.list_page": lambda d: d.tasks.list_page(
        2, sn="SN1", begin_at=1_700_000_000, end_at=1_700_086_400
    ),
    "tasks.iter": lambda d: drain(
        d.tasks.iter(sn="SN1", begin_at=1_700_000_000, end_at=1_700_086_400, page_size=5)
    ),
    "tasks.media": lambda d: d.tasks.media("t-1"),
    "tasks.track": lambda d: d.tasks.track("t-1"),
    "tasks.suspend": lambda d: d.tasks.suspend("t-1"),
    "tasks.restore": lambda d: d.tasks.restore("t-1"),
    "tasks.update_status": lambda d: d.tasks.update_status("t-1", "suspended"),
    "waylines.finish_upload": lambda d: d.waylines.finish_upload(name="w", object_key="k/w.kmz"),
    "waylines.get": lambda d: d.waylines.get("w-1"),
    "waylines.list": lambda d: d.waylines.list(),
    "waylines.list_page": lambda d: d.waylines.list_page(2, page_size=5),
    "waylines.iter": lambda d: drain(d.waylines.iter(page_size=5)),
    "models3d.create": lambda d: d.models3d.create(name="m", reconstruction_type=["2d"]),
    "models3d.get": lambda d: d.models3d.get("m-1"),
    "models3d.list": lambda d: d.models3d.list(),
    "models3d.list_page": lambda d: d.models3d.list_page(2, page_size=5),
    "models3d.iter": lambda d: drain(d.models3d.iter(page_size=5)),
    "annotations.create": lambda d: d.annotations.create(
        name="a", geometry=Geometry.point(113.9, 22.5)
    ),
    "annotations.create_point": lambda d: d.annotations.create_point("a", 113.9, 22.5),
    "annotations.create_line": lambda d: d.annotations.create_line("l", [[0, 0], [1, 1]]),
    "annotations.create_polygon": lambda d: d.annotations.create_polygon(
        "g", [[0, 0], [1, 0], [1, 1]]
    ),
    "open_models.obtain_token": lambda d: d.open_models.obtain_token(),
    "open_models.upload_callback": lambda d: d.open_models.upload_callback(
        resource_uuid="r1", callback_param="cb", files=[UploadedFile("a.jpg", "e1")]
    ),
    "open_models.get_resource": lambda d: d.open_models.get_resource("r1"),
    "open_models.delete_resource": lambda d: d.open_models.delete_resource("r1"),
    "open_models.start": lambda d: d.open_models.start(
        resource_uuid="r1", parameters={"parameter_3d": "{}"}
    ),
    "open_models.stop": lambda d: d.open_models.stop("m1"),
    "open_models.get": lambda d: d.open_models.get("m1"),
    "open_models.delete": lambda d: d.open_models.delete("m1"),
    "open_models.running": lambda d: d.open_models.running(),
}
NAMESPACES = sorted({name.split(".")[0] for name in CALLS})


def test_every_public_method_is_fuzzed() -> None:
    dji = aiodji.Client(token="t", base_url="http://127.0.0.1:1")
    public = set()
    for ns in NAMESPACES:
        for name, member in inspect.getmembers(getattr(dji, ns)):
            if not name.startswith("_") and (
                inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member)
            ):
                public.add(f"{ns}.{name}")
    assert public - set(CALLS) == set(), "add the new methods to CALLS"


@fuzz(400)
@given(name=st.sampled_from(sorted(CALLS)), body=ENVELOPE | BODIES)
async def test_any_reply_through_every_resource_parse_path(
    fuzz_server: tuple[FuzzServer, str], name: str, body: bytes
) -> None:
    server, url = fuzz_server
    server.reply = Reply(body=body, headers={"Content-Type": "application/json"})
    server.requests = 0
    async with fuzz_client(url) as dji:
        result = await outcome(CALLS[name](dji.project("proj-1")))
    assert not isinstance(result, aiodji.InvalidArgumentError), f"fix the CALLS entry: {result}"
    assert server.requests >= 1  # the parse path was reached, not an argument check
    # a paging iterator over a server repeating itself stops: short page, total, a repeated
    # page, or an error; a rate-limited reply is waited for up to MAX_RATE_LIMIT_WAITS times
    assert server.requests <= 3 * (FUZZ_POLICY.max_retries + 1 + MAX_RATE_LIMIT_WAITS)


@fuzz(150)
@given(name=st.sampled_from(sorted(CALLS)), data=DATA)
async def test_any_data_in_a_good_envelope(
    fuzz_server: tuple[FuzzServer, str], name: str, data: Any
) -> None:
    """The most likely drift: a valid ``{code: 0}`` envelope whose ``data`` changed shape."""
    server, url = fuzz_server
    server.reply = Reply(body=dumps({"code": 0, "message": "OK", "data": data}))
    async with fuzz_client(url) as dji:
        result = await outcome(CALLS[name](dji.project("proj-1")))
    if isinstance(result, aiodji.DJIError):
        assert isinstance(result, aiodji.ResponseValidationError), repr(result)
        assert result.body  # keeps the raw reply for the bug report


# -- a raw socket: broken HTTP ------------------------------------------------------------------

RAW_REPLIES = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda status, reason, headers, body: (
            f"HTTP/1.1 {status} {reason}\r\n".encode()
            + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)
            + b"\r\n"
            + body
        ),
        status=st.integers(0, 1000),
        reason=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10),
        headers=st.lists(
            st.tuples(
                st.sampled_from(
                    ["Content-Length", "Transfer-Encoding", "Content-Type", "Retry-After", "X"]
                ),
                st.sampled_from(["0", "5", "-1", "99999", "chunked", "application/json", "x y"])
                | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10),
            ),
            max_size=5,
        ),
        body=ENVELOPE | st.binary(max_size=100),
    ),
)


@fuzz(150)
@given(raw=RAW_REPLIES)
async def test_broken_http_from_a_raw_socket(raw: bytes) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(raw)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with fuzz_client(f"http://127.0.0.1:{port}") as dji:
            await outcome(dji.request("GET", "system_status"))
    finally:
        server.close()
        await server.wait_closed()


# -- paging never runs away ---------------------------------------------------------------------


async def test_iterators_stop_on_a_short_page_whatever_total_says(
    fuzz_server: tuple[FuzzServer, str],
) -> None:
    """docs/explanation/api-notes.md#pagination: stop on a short (or over-long) page. A server that
    keeps
    claiming ``total: 10**9`` with one item per page must not drive 100,000 requests."""
    server, url = fuzz_server
    item = {"converter_id": "c-1", "uuid": "u-1", "name": "n", "id": "i-1"}
    for data in (
        {"list": [item], "pagination": {"page": 1, "page_size": 100, "total": 10**9}},
        {"list": [item], "total": 10**9},
        {"list": [item] * 7, "pagination": {"total": 10**9}},  # longer than page_size=5
    ):
        server.reply = Reply(body=dumps({"code": 0, "message": "OK", "data": data}))
        async with fuzz_client(url) as dji:
            p = dji.project("proj-1")
            for name in ("converters.iter", "projects.iter", "waylines.iter", "models3d.iter"):
                server.requests = 0
                result = await outcome(CALLS[name](p))
                assert isinstance(result, list | aiodji.DJIError), result
                assert server.requests == 1, (name, data)
