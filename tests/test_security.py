"""Security guarantees, each checked from the outside.

- the token never shows in logs (DEBUG, every logger), reprs, exception texts and chains;
- stream URLs (stream keys, passwords) are masked in reprs and logs;
- redirects are never followed and the token reaches only the configured host (nor a proxy
  from the environment);
- TLS verification is on by default; a CA bundle or an SSLContext is accepted;
- plain http only to loopback unless ``allow_insecure_http=True``;
- path parameters cannot reach another path (checked on the server side).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from _servers import LocalServers, TestCA, envelope, first_project, unused_port
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiodji
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

FAST = aiodji.RetryPolicy(max_retries=2, backoff_base=0.001, backoff_max=0.002)
CONVERTER_PREFIX = "/openapi/v0.1/live-stream/converter/"
STREAM_KEY = "sk-9f8e7d6c5b4a-streamkey"
PASSWORD = "gb-pass-31415926"


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__]


def renderings(*objects: Any) -> Iterator[str]:
    """Every way a user (or a log call) could turn these objects into text."""
    for obj in objects:
        yield str(obj)
        yield repr(obj)
        if isinstance(obj, BaseException):
            yield "".join(traceback.format_exception(obj))
            for item in exception_chain(obj):
                yield str(item)
                yield repr(item)
                yield repr(item.args)
                yield repr(getattr(item, "__dict__", {}))


def assert_secret_absent(secret: str, *objects: Any) -> None:
    for text in renderings(*objects):
        assert secret not in text, text


# -- the token ------------------------------------------------------------------------------


async def test_token_absent_from_logs_reprs_and_every_error(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Drive every kind of failure at DEBUG level, then search everything for the token."""
    caplog.set_level(logging.DEBUG)  # the root logger: aiodji, aiohttp, asyncio, everything
    project = first_project(sim)
    errors: list[BaseException] = []
    things: list[Any] = []

    async def collect(call: Any) -> None:
        try:
            things.append(await call)
        except aiodji.DJIError as exc:
            errors.append(exc)

    async with aiodji.Client(token=sim.token, base_url=sim.url, retry=FAST) as dji:
        p = dji.project(project)
        things += [dji, p, dji.config, dji.limiter, p.converters, dji.with_options(timeout=3)]
        await collect(p.converters.list())
        await collect(dji.with_raw_response.project(project).converters.list())
        await collect(p.converters.set_enabled("no-such-id", True))
        await collect(dji.project("not-a-project").converters.list())
        for knob in (
            "error_rate",
            "reset_before_rate",
            "reset_after_rate",
            "reset_mid_body_rate",
            "malformed_rate",
            "html_rate",
            "business_error_rate",
        ):
            setattr(sim.faults, knob, 1.0)
            await collect(p.converters.list())
            setattr(sim.faults, knob, 0.0)
        sim.faults.slow_rate, sim.faults.slow_seconds = 1.0, 0.5
        await collect(p.with_options(timeout=0.1, max_retries=0).converters.list())
        sim.faults.slow_rate = 0.0
        sim.http_errors = True
        await collect(dji.request("GET", "/openapi/v0.1/no/such/endpoint"))
    async with aiodji.Client(token=sim.token + "x", base_url=sim.url, retry=FAST) as wrong:
        await collect(wrong.project(project).converters.list())
        things.append(wrong)
    async with aiodji.Client(
        token=sim.token, base_url=f"http://127.0.0.1:{unused_port()}", retry=FAST
    ) as down:
        await collect(down.request("GET", "system_status"))
    assert len(errors) >= 10  # the scenario really failed in many ways
    assert "aiodji" in caplog.text  # DEBUG logging did run
    assert_secret_absent(sim.token, *errors, *things, caplog.text)


async def test_token_absent_from_config_errors() -> None:
    token = "eyJ.config-secret.sig"
    with pytest.raises(aiodji.ConfigError) as info:
        aiodji.Client(token=token, base_url="http://example.com")
    assert_secret_absent(token, info.value, aiodji.ClientConfig.build(token=token, region="us"))


# -- stream URLs ----------------------------------------------------------------------------


async def test_stream_keys_and_passwords_masked_in_reprs_and_logs(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    project = first_project(sim)
    pair = sim.state.device_pairs(project)[0]
    camera = pair.drone.camera_list[0]["camera_index"]
    url = f"rtmp://pusher:{PASSWORD}@media.example/live/{STREAM_KEY}?sign=s3cr3t-sign"
    async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        p = dji.project(project)
        created = await p.converters.create(
            name="secret-stream", sn=pair.drone.sn, camera_index=camera, url=url
        )
        assert created.url == url  # the value itself stays usable
        sim.state.add_converter(
            project,
            converter_name="gb-stream",
            sn=pair.drone.sn,
            camera_index=camera,
            schema="gb28181",
            schema_option={"server_ip": "10.0.0.1", "device_password": PASSWORD},
        )
        listed = await p.converters.list()
        with pytest.raises(aiodji.APIBusinessError) as dup:  # 213054 duplicate push URL
            await p.converters.create(
                name="secret-stream-2", sn=pair.drone.sn, camera_index=camera, url=url
            )
    assert dup.value.code == 213054
    by_name = {c.converter_name: c for c in listed}
    assert by_name["secret-stream"].url == url
    assert (by_name["gb-stream"].bypass_option or {})["device_password"] == PASSWORD
    shown = [created, listed, by_name["secret-stream"], by_name["gb-stream"], dup.value]
    for secret in (STREAM_KEY, PASSWORD, "s3cr3t-sign"):
        assert_secret_absent(secret, *shown, caplog.text)
    assert "media.example" in repr(created)  # masked, not hidden: the host still helps


# -- where the token goes ------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_to_another_server_never_delivers_the_token(status: int) -> None:
    reached: list[dict[str, str]] = []

    async def elsewhere(request: web.Request) -> web.Response:
        reached.append(dict(request.headers))
        return envelope({"stolen": True})

    async with LocalServers() as servers:
        thief = await servers.add(elsewhere)

        async def redirecting(request: web.Request) -> web.Response:
            return web.Response(status=status, headers={"Location": thief + request.path_qs})

        origin = await servers.add(redirecting)
        token = "eyJ.redirect-secret.sig"
        async with aiodji.Client(token=token, base_url=origin, retry=FAST) as dji:
            for method in ("GET", "PUT", "POST", "DELETE"):
                with pytest.raises(aiodji.APIStatusError, match="redirect not followed") as info:
                    await dji.request(method, "/openapi/v0.1/x", json={"a": 1})
                assert info.value.status_code == status
                assert info.value.attempts == 1  # a redirect is never retried either
    assert reached == []


async def test_proxy_settings_from_the_environment_never_see_the_token(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-User-Token", ""))
        return envelope()

    async with LocalServers() as servers:
        proxy_url = await servers.add(proxy)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
            await dji.project(first_project(sim)).converters.list()
    assert seen == []


# -- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    pytest.importorskip("cryptography")
    return TestCA(tmp_path_factory.mktemp("tls"))


async def test_tls_is_verified_by_default_and_custom_cas_are_accepted(test_ca: TestCA) -> None:
    handled = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal handled
        handled += 1
        return envelope({"secure": request.secure})

    async with LocalServers() as servers:
        url = await servers.add(handler, ssl_context=test_ca.server_context())
        assert url.startswith("https://127.0.0.1:")
        host = url.split("://", 1)[1]
        assert aiodji.ClientConfig.build(token="t", base_url=url).ssl is True
        async with aiodji.Client(token="t", base_url=url, retry=FAST) as dji:
            with pytest.raises(aiodji.APIConnectionError, match="TLS") as info:
                await dji.request("GET", "system_status")
        assert host in str(info.value)
        assert info.value.attempts == 1  # a certificate will not fix itself on retry
        assert handled == 0  # the request (and its token) never left the handshake
        for ssl_option in (str(test_ca.ca_path), test_ca.client_context()):
            async with aiodji.Client(token="t", base_url=url, ssl=ssl_option) as dji:
                assert await dji.request("GET", "system_status") == {"secure": True}
        localhost = url.replace("127.0.0.1", "localhost")
        async with aiodji.Client(token="t", base_url=localhost, ssl=str(test_ca.ca_path)) as dji:
            assert await dji.request("GET", "system_status") == {"secure": True}
    assert handled == 3


async def test_tls_name_mismatch_is_refused(test_ca: TestCA) -> None:
    """The certificate is for 127.0.0.1/localhost: reaching it as 127.0.0.2 must fail."""

    async def handler(request: web.Request) -> web.Response:
        return envelope()

    async with LocalServers() as servers:
        url = await servers.add(handler, ssl_context=test_ca.server_context())
        other = url.replace("127.0.0.1", "127.0.0.2")
        async with aiodji.Client(
            token="t", base_url=other, ssl=test_ca.client_context(), retry=FAST
        ) as dji:
            try:
                await dji.request("GET", "system_status")
            except aiodji.APIConnectionError as exc:
                assert "127.0.0.2" in str(exc)
            else:  # pragma: no cover - the loopback alias must exist for this to mean anything
                pytest.fail("a certificate for another name was accepted")


def test_tls_settings_validated(tmp_path: Path) -> None:
    with pytest.raises(aiodji.ConfigError, match="CA bundle"):
        aiodji.Client(token="t", base_url="https://h.example", ssl=str(tmp_path / "none.pem"))
    with pytest.raises(aiodji.ConfigError, match="verification"):
        aiodji.Client(token="t", base_url="https://h.example", ssl=False)
    ctx = ssl.create_default_context()
    assert aiodji.ClientConfig.build(token="t", base_url="https://h.example", ssl=ctx).ssl is ctx


@pytest.mark.parametrize(
    ("base_url", "allowed"),
    [
        ("http://example.com", False),
        ("http://10.0.0.5:30812", False),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("https://example.com", True),
    ],
)
def test_plain_http_only_to_loopback(
    base_url: str, allowed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if allowed:
        assert aiodji.Client(token="t", base_url=base_url).base_url == base_url
    else:
        with pytest.raises(aiodji.ConfigError, match="allow_insecure_http"):
            aiodji.Client(token="t", base_url=base_url)
        monkeypatch.setenv("AIODJI_BASE_URL", base_url)
        with pytest.raises(aiodji.ConfigError):
            aiodji.Client(token="t")
    assert aiodji.Client(token="t", base_url=base_url, allow_insecure_http=True).base_url


# -- path parameters ------------------------------------------------------------------------

NASTY_IDS = ["..", ".", "../..", "a/b", "../project", "x?y=1", "#frag", "%2F", "%", "a%zz", " x "]


async def test_path_parameters_reach_only_their_route_on_the_simulator(sim: Simulator) -> None:
    project = first_project(sim)
    before = {cid: c.auto_push_stream for cid, c in sim.state.converters.items()}
    route = CONVERTER_PREFIX + "{converter_id}"
    async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=0) as dji:
        p = dji.project(project)
        for i, bad in enumerate(NASTY_IDS, start=1):
            for call in (p.converters.set_enabled(bad, True), p.converters.delete(bad)):
                with pytest.raises(aiodji.APIBusinessError) as info:
                    await call
                assert info.value.code == 213029  # the converter route ran, found nothing
            assert sim.stats.count("PUT", route) == i
            assert sim.stats.count("DELETE", route) == i
    assert sim.stats.total == 2 * len(NASTY_IDS)
    assert {cid: c.auto_push_stream for cid, c in sim.state.converters.items()} == before


@pytest.fixture
async def recorder() -> Any:
    seen: list[tuple[str, str, dict[str, str]]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.raw_path, dict(request.query)))
        return envelope()

    async with LocalServers() as servers:
        yield await servers.add(handler), seen


ids = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"), min_size=1
).filter(lambda s: s.strip())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(converter_id=ids)
async def test_any_id_stays_one_path_segment(recorder: Any, converter_id: str) -> None:
    url, seen = recorder
    seen.clear()
    async with aiodji.Client(token="t", base_url=url, max_retries=0) as dji:
        p = dji.project("proj")
        await p.converters.set_enabled(converter_id, False)
        await p.converters.delete(converter_id)
    assert [method for method, _, _ in seen] == ["PUT", "DELETE"]
    for _, raw_path, query in seen:
        assert raw_path.startswith(CONVERTER_PREFIX)
        segment = raw_path[len(CONVERTER_PREFIX) :]
        assert "/" not in segment and "?" not in segment and "#" not in segment
        assert unquote(segment) == converter_id
        assert query == {}


# -- CLI output and the journal ------------------------------------------------------------

CLI = [sys.executable, "-c", "from aiodji.cli import main; main()"]


async def run_cli(
    sim: Simulator, *args: str, token: str | None = None, debug: bool = True
) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(
        AIODJI_TOKEN=token or sim.token, AIODJI_BASE_URL=sim.url, NO_COLOR="1", COLUMNS="200"
    )
    if debug:
        env["AIODJI_LOG"] = "debug"
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_cli_output_and_journal_never_show_the_token_or_stream_keys(
    sim: Simulator, tmp_path: Path
) -> None:
    """Every command, table and JSON output, failures and DEBUG logs included; and the
    journal of an apply. The token and the stream keys are searched for in all of it."""
    project = first_project(sim)
    pair = sim.state.device_pairs(project)[0]
    camera = pair.drone.camera_list[0]["camera_index"]
    url = f"rtmp://pusher:{PASSWORD}@media.example/live/{STREAM_KEY}"
    sim.state.add_converter(
        project,
        converter_name="cli-secret",
        sn=pair.drone.sn,
        camera_index=camera,
        schema="rtmp",
        schema_option={"url": url},
    )
    journal = tmp_path / "apply.journal.jsonl"
    desired = tmp_path / "desired.toml"
    desired.write_text(
        "[[converters]]\nprojects = 'all'\nenabled = true\n"
        f"[[create]]\nproject = '{project}'\nname = 'cli-new'\nsn = '{pair.drone.sn}'\n"
        f"camera_index = '{camera}'\nurl = 'rtmp://media.example/live/{STREAM_KEY}-2'\n"
    )
    runs = [
        ("doctor",),
        ("projects", "list"),
        ("devices", "list"),
        ("converters", "list", "--all-projects"),
        ("--json", "converters", "list", "--all-projects"),
        ("converters", "list", "--project", "no-such-project"),
        ("converters", "apply", "-f", str(desired), "--dry-run"),
        ("converters", "apply", "-f", str(desired), "--journal", str(journal)),
        ("--json", "converters", "disable", "--all-projects"),
    ]
    outputs = []
    for args in runs:
        _, out = await run_cli(sim, *args)
        outputs.append(out)
        assert sim.token not in out, args
        for secret in (STREAM_KEY, PASSWORD):
            assert secret not in out, (args, out)
    everything = "\n".join(outputs)
    assert "cli-secret" in everything and "media.example" in everything  # the rows were shown
    assert journal.exists()
    text = journal.read_text()
    assert "cli-new" in text
    for secret in (sim.token, STREAM_KEY, PASSWORD):
        assert secret not in text
    sim.http_errors = True  # a rejected token, as HTTP 401 this time
    wrong = sim.token + "x"
    code, out = await run_cli(sim, "converters", "list", "--all-projects", token=wrong)
    assert code != 0 and "token" in out.lower()
    assert wrong not in out and sim.token not in out
    async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        names = {c.converter_name for c in await dji.project(project).converters.list()}
    assert "cli-new" in names  # the apply really ran
