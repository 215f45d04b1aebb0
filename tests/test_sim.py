"""The FlightHub 2 simulator, over raw HTTP."""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from _servers import first_project

from aiodji.sim import Faults, SimState, SimStats, Simulator

pytestmark = pytest.mark.anyio

API = "/openapi/v0.1"
CONV = f"{API}/live-stream/converter"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # force_close: no keep-alive, so aiohttp never silently retries on a reused connection.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        yield s


def hdrs(sim: Simulator, project: str | None = None, **extra: str) -> dict[str, str]:
    h = {"X-User-Token": sim.token, "X-Request-Id": str(uuid.uuid4()), "X-Language": "en"}
    if project is not None:
        h["X-Project-Uuid"] = project
    h.update(extra)
    return h


async def call(
    session: aiohttp.ClientSession,
    sim: Simulator,
    method: str,
    path: str,
    *,
    project: str | None = None,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: bytes | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    h = headers if headers is not None else hdrs(sim, project)
    body = orjson.dumps(json) if json is not None else data
    if body is not None:
        h = {**h, "Content-Type": "application/json"}
    async with session.request(method, sim.url + path, headers=h, data=body, params=params) as r:
        assert r.content_type == "application/json"
        return r.status, orjson.loads(await r.read())


def new_converter(sim: Simulator, project: str, name: str, n: int, **over: Any) -> dict[str, Any]:
    drone = sim.state.pairs[project][0].drone
    assert drone is not None
    body: dict[str, Any] = {
        "converter_name": name,
        "sn": drone.sn,
        "camera_index": "81-0-0",
        "schema": "rtmp",
        "schema_option": {"url": f"rtmp://10.0.0.1/live/new-{n}"},
    }
    body.update(over)
    return body


# ---- seeding, token -------------------------------------------------------------------------


def test_seeded_state_is_deterministic() -> None:
    a = SimState.seeded(seed=7)
    b = SimState.seeded(seed=7)
    assert a.org_uuid == b.org_uuid
    assert list(a.projects) == list(b.projects)
    assert list(a.converters) == list(b.converters)
    assert len(a.projects) == 3
    assert [p.name for p in a.projects.values()] == ["Project 01", "Project 02", "Project 03"]
    assert len(a.converters) == 6
    names = [c.converter_name for c in a.converters.values()]
    assert names[0] == "dock-0101-wide"
    assert len(set(names)) == len(names)
    states = {c.auto_push_stream: c.state for c in a.converters.values()}
    assert states == {True: "running", False: "stopped"}
    assert SimState.seeded(seed=8).org_uuid != a.org_uuid


def test_seeded_many_converters_unique() -> None:
    st = SimState.seeded(projects=2, docks_per_project=3, converters_per_project=20)
    names = [c.converter_name for c in st.converters.values()]
    urls = [c.url for c in st.converters.values()]
    assert len(set(names)) == len(names) == 40
    assert len(set(urls)) == 40


async def test_token_is_jwt_shaped(sim: Simulator) -> None:
    parts = sim.token.split(".")
    assert len(parts) == 3
    payload = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    assert payload["organization_uuid"] == sim.state.org_uuid
    assert payload["sub"] == "fh2"
    assert payload["project_uuid"] == ""
    assert payload["exp"] > time.time() + 10 * 365 * 86400
    assert {"account", "nbf", "user_id"} <= payload.keys()
    assert sim.url.startswith("http://127.0.0.1:") and not sim.url.endswith("/")


# ---- envelope, headers, auth ----------------------------------------------------------------


async def test_system_status(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, sim, "GET", f"{API}/system_status")
    assert (status, body) == (200, {"code": 0, "message": ""})


async def test_project_list(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, sim, "GET", f"{API}/project")
    assert status == 200 and body["code"] == 0 and body["message"] == "OK"
    assert set(body["data"]) == {"list"}
    items = body["data"]["list"]
    assert len(items) == 3
    assert set(items[0]) == {
        "name",
        "introduction",
        "uuid",
        "org_uuid",
        "project_work_center_point",
        "created_at",
        "updated_at",
    }
    assert set(items[0]["project_work_center_point"]) == {"latitude", "longitude"}
    _, body = await call(session, sim, "GET", f"{API}/project", params={"q": "02"})
    assert [p["name"] for p in body["data"]["list"]] == ["Project 02"]
    _, body = await call(
        session, sim, "GET", f"{API}/project", params={"page": "2", "page_size": "2"}
    )
    assert [p["name"] for p in body["data"]["list"]] == ["Project 03"]


async def test_device_lists(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, body = await call(session, sim, "GET", f"{API}/device")
    pairs = body["data"]["list"]
    assert len(pairs) == 6
    gw, drone = pairs[0]["gateway"], pairs[0]["drone"]
    for dev in (gw, drone):
        assert set(dev) == {
            "sn",
            "callsign",
            "device_model",
            "device_online_status",
            "mode_code",
            "camera_list",
        }
        assert set(dev["device_model"]) == {"key", "domain", "type", "sub_type", "name", "class"}
    assert gw["camera_list"][0]["camera_index"] == "165-0-7"
    assert gw["camera_list"][0]["camera_position"] in ("indoor", "outdoor")
    assert drone["camera_list"][0]["camera_index"] == "81-0-0"
    assert drone["camera_list"][0]["lens_list"][0]["lens_type"] == "wide"
    project = first_project(sim)
    _, body = await call(session, sim, "GET", f"{API}/project/device", project=project)
    sns = {p["gateway"]["sn"] for p in body["data"]["list"]}
    assert sns == {p.gateway.sn for p in sim.state.pairs[project]}
    _, body = await call(
        session,
        sim,
        "GET",
        f"{API}/project/device",
        project=project,
        params={"page": "2", "page_size": "1"},
    )
    assert len(body["data"]["list"]) == 1


@pytest.mark.parametrize(
    ("headers", "code", "message"),
    [
        ({}, 200401, "invalid or expired token"),
        ({"X-User-Token": "nope", "X-Request-Id": "1"}, 200401, "invalid or expired token"),
        ({"X-User-Token": "TOKEN"}, 200500, "missing X-Request-Id"),
        ({"X-User-Token": "TOKEN", "X-Request-Id": "1", "X-Language": "fr"}, 200500, None),
    ],
)
async def test_header_errors(
    sim: Simulator,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    code: int,
    message: str | None,
) -> None:
    headers = {k: (sim.token if v == "TOKEN" else v) for k, v in headers.items()}
    status, body = await call(session, sim, "GET", f"{API}/project", headers=headers)
    assert status == (401 if code == 200401 else 200)  # a bad token: HTTP 401, as live
    assert body["code"] == code and body["data"] is None
    if message is not None:
        assert body["message"] == message


async def test_auth_style_envelope_answers_a_bad_token_with_http_200(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    sim.auth_style = "envelope"  # the style some private deployments use
    status, body = await call(session, sim, "GET", f"{API}/project", headers={})
    assert (status, body["code"]) == (200, 200401)


async def test_http_errors_knob(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.http_errors = True
    status, body = await call(session, sim, "GET", f"{API}/project", headers={})
    assert (status, body["code"]) == (401, 200401)
    status, body = await call(session, sim, "GET", CONV, project="not-a-project")
    assert (status, body["code"]) == (403, 200403)


async def test_project_scope(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, sim, "GET", CONV)
    assert (status, body["code"], body["message"]) == (200, 200500, "missing X-Project-Uuid")
    status, body = await call(session, sim, "GET", CONV, project=str(uuid.uuid4()))
    assert (status, body["code"], body["message"]) == (200, 200403, "project out of scope")
    # org-level routes ignore the header
    status, body = await call(session, sim, "GET", f"{API}/device")
    assert body["code"] == 0


async def test_unknown_path_and_method(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, sim, "GET", f"{API}/nope")
    assert (status, body["code"]) == (404, 200404)
    status, body = await call(session, sim, "PATCH", f"{API}/project")
    assert status == 405 and body["code"] != 0 and "message" in body


# ---- converters -----------------------------------------------------------------------------


async def test_converter_lifecycle(sim: Simulator, session: aiohttp.ClientSession) -> None:
    project = first_project(sim)
    body = new_converter(sim, project, "new-1", 1)
    status, reply = await call(session, sim, "POST", CONV, project=project, json=body)
    assert status == 200 and reply["code"] == 0 and reply["message"] == "OK"
    assert set(reply["data"]) == {"converter_id"}
    cid = reply["data"]["converter_id"]
    assert uuid.UUID(cid).version == 4
    conv = sim.state.converters[cid]
    assert (conv.state, conv.auto_push_stream, conv.bypass_option) == (
        "initialized",
        False,
        body["schema_option"],
    )
    assert sim.state.create_counts["new-1"] == 1

    status, reply = await call(
        session, sim, "PUT", f"{CONV}/{cid}", project=project, json={"auto_push_stream": True}
    )
    assert (status, reply) == (200, {"code": 0, "message": "OK"})
    assert (conv.state, conv.auto_push_stream) == ("running", True)
    ts = conv.update_ts
    assert ts.isdigit()

    _, reply = await call(session, sim, "GET", CONV, project=project)
    item = next(i for i in reply["data"]["list"] if i["converter_id"] == cid)
    assert set(item) == {
        "converter_id",
        "converter_name",
        "sn",
        "camera",
        "video",
        "video_type",
        "schema",
        "bypass_option",
        "state",
        "code",
        "auto_push_stream",
        "device_online_status",
        "device_callsign",
        "update_ts",
    }
    assert item["state"] == "running" and item["auto_push_stream"] is True
    assert isinstance(item["update_ts"], str)

    _, reply = await call(
        session, sim, "PUT", f"{CONV}/{cid}", project=project, json={"auto_push_stream": False}
    )
    assert reply["code"] == 0 and conv.state == "stopped"

    # device offline: enabling does not make it run
    sim.state.set_device_online(conv.sn, False)
    await call(
        session, sim, "PUT", f"{CONV}/{cid}", project=project, json={"auto_push_stream": True}
    )
    assert conv.state == "stopped" and conv.device_online_status is False
    sim.state.set_device_online(conv.sn, True)
    assert conv.state == "running"

    status, reply = await call(session, sim, "DELETE", f"{CONV}/{cid}", project=project)
    assert (status, reply) == (200, {"code": 0, "message": "OK", "data": None})
    assert cid not in sim.state.converters
    _, reply = await call(session, sim, "DELETE", f"{CONV}/{cid}", project=project)
    assert reply["code"] == 213029


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"converter_name": "dock-0101-wide"}, 213025),
        ({"sn": "NOPE"}, 213014),
        ({"camera_index": "99-0-0"}, 213014),
        ({"schema_option": {"url": "http://x/live"}}, 213024),
        ({"schema_option": {}}, 213024),
        ({"schema_option": {"url": "rtmp://127.0.0.1/live/1"}}, 213054),
        ({"schema": "hls"}, 200500),
        ({"schema_option": "rtmp://x"}, 200500),
        ({"converter_name": ""}, 200500),
        ({"converter_name": 5}, 200500),
        ({"sn": None}, 200500),
    ],
)
async def test_create_rules(
    sim: Simulator, session: aiohttp.ClientSession, over: dict[str, Any], code: int
) -> None:
    project = first_project(sim)
    before = len(sim.state.converters)
    body = new_converter(sim, project, "rule", 1, **over)
    status, reply = await call(session, sim, "POST", CONV, project=project, json=body)
    assert (status, reply["code"], reply["data"]) == (200, code, None)
    assert len(sim.state.converters) == before


async def test_create_sn_of_other_project(sim: Simulator, session: aiohttp.ClientSession) -> None:
    p1, p2 = list(sim.state.projects)[:2]
    drone = sim.state.pairs[p2][0].drone
    assert drone is not None
    body = new_converter(sim, p1, "other", 1, sn=drone.sn)
    _, reply = await call(session, sim, "POST", CONV, project=p1, json=body)
    assert reply["code"] == 213014


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b'"x"'])
async def test_bad_json(sim: Simulator, session: aiohttp.ClientSession, raw: bytes) -> None:
    project = first_project(sim)
    status, reply = await call(session, sim, "POST", CONV, project=project, data=raw)
    assert (status, reply["code"]) == (200, 200500)
    cid = next(iter(sim.state.converters))
    status, reply = await call(session, sim, "PUT", f"{CONV}/{cid}", project=project, data=raw)
    assert (status, reply["code"]) == (200, 200500)


async def test_converter_limit(sim: Simulator, session: aiohttp.ClientSession) -> None:
    project = first_project(sim)
    assert sim.state.converter_limit == 20
    seeded = len(sim.state.converters)
    for n in range(20 - seeded):
        body = new_converter(sim, project, f"fill-{n}", n)
        _, reply = await call(session, sim, "POST", CONV, project=project, json=body)
        assert reply["code"] == 0, reply
    assert len(sim.state.converters) == 20
    _, reply = await call(
        session, sim, "POST", CONV, project=project, json=new_converter(sim, project, "21st", 99)
    )
    assert reply["code"] == 233317
    sim.state.converter_limit = 21
    _, reply = await call(
        session, sim, "POST", CONV, project=project, json=new_converter(sim, project, "21st", 99)
    )
    assert reply["code"] == 0
    assert sim.state.create_counts["21st"] == 2  # both attempts were seen


async def test_put_errors(sim: Simulator, session: aiohttp.ClientSession) -> None:
    p1, p2 = list(sim.state.projects)[:2]
    other = sim.state.converters_of(p2)[0].converter_id
    for cid in (other, "no-such-id"):
        _, reply = await call(
            session, sim, "PUT", f"{CONV}/{cid}", project=p1, json={"auto_push_stream": True}
        )
        assert reply["code"] == 213029
    mine = sim.state.converters_of(p1)[0].converter_id
    for bad in ({}, {"auto_push_stream": "true"}, {"auto_push_stream": 1}):
        _, reply = await call(session, sim, "PUT", f"{CONV}/{mine}", project=p1, json=bad)
        assert reply["code"] == 200500
    sim.state.destroy_converter(mine)
    _, reply = await call(
        session, sim, "PUT", f"{CONV}/{mine}", project=p1, json={"auto_push_stream": True}
    )
    assert reply["code"] == 213029


async def test_list_pagination_and_filters(session: aiohttp.ClientSession) -> None:
    async with Simulator(
        projects=1, docks_per_project=3, converters_per_project=130, converter_limit=1000
    ) as sim:
        project = first_project(sim)
        seen: list[str] = []
        page = 1
        while True:
            _, reply = await call(
                session,
                sim,
                "GET",
                CONV,
                project=project,
                params={"page": str(page), "page_size": "50"},
            )
            data = reply["data"]
            assert data["pagination"] == {"page": page, "page_size": 50, "total": 130}
            seen += [i["converter_id"] for i in data["list"]]
            if len(data["list"]) < 50:
                break
            page += 1
        assert seen == [c.converter_id for c in sim.state.converters_of(project)]
        _, reply = await call(
            session, sim, "GET", CONV, project=project, params={"page_size": "500"}
        )
        assert reply["data"]["pagination"]["page_size"] == 100
        assert len(reply["data"]["list"]) == 100
        _, reply = await call(session, sim, "GET", CONV, project=project)
        assert reply["data"]["pagination"] == {"page": 1, "page_size": 50, "total": 130}
        sn = sim.state.pairs[project][1].drone.sn  # type: ignore[union-attr]
        _, reply = await call(
            session, sim, "GET", CONV, project=project, params={"device_sn": sn, "page_size": "100"}
        )
        assert reply["data"]["pagination"]["total"] == 43
        assert {i["sn"] for i in reply["data"]["list"]} == {sn}
        _, reply = await call(session, sim, "GET", CONV, project=project, params={"page": "0"})
        assert reply["code"] == 200500


# ---- rate limit -----------------------------------------------------------------------------


async def test_rate_limit_http(session: aiohttp.ClientSession) -> None:
    async with Simulator(rate_limit=0.5, rate_burst=2) as sim:
        codes = []
        for _ in range(3):
            async with session.get(sim.url + f"{API}/project", headers=hdrs(sim)) as r:
                codes.append(r.status)
                last_headers = r.headers
                last = orjson.loads(await r.read())
        assert codes == [200, 200, 429]
        assert last == {"code": 210429, "message": "rate limited", "data": None}
        assert int(last_headers["Retry-After"]) >= 1
        assert sim.stats.rate_limited == 1
        # unauthenticated requests are not counted against the bucket
        _, body = await call(session, sim, "GET", f"{API}/project", headers={})
        assert body["code"] == 200401
        sim.set_rate_limit(0.5, 1, style="business")
        s1, _ = await call(session, sim, "GET", f"{API}/project")
        s2, b2 = await call(session, sim, "GET", f"{API}/project")
        assert (s1, s2, b2["code"]) == (200, 200, 210429)
        sim.set_rate_limit(None)
        for _ in range(5):
            _, body = await call(session, sim, "GET", f"{API}/project")
            assert body["code"] == 0


async def test_rate_limit_retry_after_styles_noise_and_project_buckets(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator(rate_limit=0.5, rate_burst=1, retry_after="date") as sim:
        project = first_project(sim)

        async def get(p: str | None = None) -> aiohttp.ClientResponse:
            async with session.get(sim.url + f"{API}/project", headers=hdrs(sim, p)) as r:
                await r.read()
                return r

        assert (await get()).status == 200
        limited = await get()
        assert limited.status == 429
        assert limited.headers["Retry-After"].endswith("GMT")  # an HTTP-date
        sim.retry_after = "none"
        assert "Retry-After" not in (await get()).headers
        # a schedule: a very low rate first, then none to speak of
        sim.set_rate_limit(None, 1, schedule=[(0, 0.5), (0.05, 10_000)])
        assert (await get()).status == 200
        await asyncio.sleep(0.06)
        assert [(await get()).status for _ in range(5)] == [200] * 5
        # per-project buckets on top of the organization's
        sim.set_rate_limit(None)
        sim.set_project_rate_limit(0.5, 1)
        assert (await get(project)).status == 200
        assert (await get(project)).status == 429
        assert (await get("other-project")).status == 200
        sim.set_project_rate_limit(None)
        # random noise, in both shapes
        sim.faults.rate_limit_noise = 1.0
        noisy = await get()
        assert noisy.status == 429 and noisy.headers["Retry-After"] == "0"
        sim.faults.rate_limit_noise_style = "business"
        _, body = await call(session, sim, "GET", f"{API}/project")
        assert body["code"] == 210429
        assert sim.stats.faults["rate_limit_noise"] == 2
        sim.faults.reset()
        assert (await get()).status == 200


def test_sim_cli_parses_the_rate_flags() -> None:
    from aiodji.sim.__main__ import build_parser

    args = build_parser().parse_args(
        ["--rate-schedule", "0:40,6:200", "--noise-rate", "0.03", "--noise-style", "mixed"]
    )
    assert args.rate_schedule == [(0.0, 40.0), (6.0, 200.0)] and args.noise_style == "mixed"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--rate-schedule", "fast"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--projects", "-3"],
        ["--projects", "1.5"],
        ["--docks-per-project", "-1"],
        ["--converter-limit", "-20"],
        ["--port", "70000"],
        ["--port", "-1"],
        ["--rate-limit", "nan"],
        ["--rate-limit", "0"],
        ["--rate-burst", "inf"],
        ["--project-rate-limit", "-5"],
        ["--tenant-share", "1.5"],
        ["--noise-rate", "nan"],
        ["--rate-schedule", "0:nan"],
        ["--rate-schedule", "inf:40"],
    ],
)
def test_sim_cli_refuses_numbers_out_of_range(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from aiodji.sim.__main__ import build_parser

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("python -m aiodji.sim: error: argument " + argv[0]), err


# ---- faults ---------------------------------------------------------------------------------


async def _toggle(
    session: aiohttp.ClientSession, sim: Simulator, cid: str, project: str, on: bool
) -> aiohttp.ClientResponse:
    h = hdrs(sim, project, **{"Content-Type": "application/json"})
    return await session.put(
        f"{sim.url}{CONV}/{cid}", headers=h, data=orjson.dumps({"auto_push_stream": on})
    )


def _disabled(sim: Simulator) -> tuple[str, str]:
    conv = next(c for c in sim.state.converters.values() if not c.auto_push_stream)
    return conv.converter_id, conv.project_uuid


@pytest.mark.parametrize(
    ("kind", "applied"),
    [
        ("error", False),
        ("reset_before", False),
        ("html", False),
        ("business_error", False),
        ("reset_after", True),
        ("reset_mid_body", True),
        ("malformed", True),
        ("slow", True),
    ],
)
async def test_fault_kinds(
    sim: Simulator,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    applied: bool,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    setattr(sim.faults, f"{kind}_rate", 1.0)
    sim.faults.slow_seconds = 0.05
    cid, project = _disabled(sim)
    started = time.monotonic()
    outcome: str
    try:
        resp = await _toggle(session, sim, cid, project, True)
        async with resp:
            raw = await resp.read()
            if kind == "error":
                assert resp.status in (500, 502, 503)
                assert orjson.loads(raw)["code"] != 0
            elif kind == "html":
                assert resp.status == 200 and resp.content_type == "text/html"
            elif kind == "business_error":
                assert resp.status == 200
                assert orjson.loads(raw)["code"] in sim.faults.business_codes
            elif kind == "malformed":
                assert resp.status == 200
                with pytest.raises(orjson.JSONDecodeError):
                    orjson.loads(raw)
            elif kind == "slow":
                assert orjson.loads(raw) == {"code": 0, "message": "OK"}
                assert time.monotonic() - started >= 0.05
        outcome = "reply"
    except aiohttp.ClientPayloadError:
        outcome = "partial"
    except aiohttp.ServerDisconnectedError:
        outcome = "reset"
    expected = {"reset_before": "reset", "reset_after": "reset", "reset_mid_body": "partial"}
    assert outcome == expected.get(kind, "reply")
    assert sim.state.converters[cid].auto_push_stream is applied
    # aiohttp's client may retry an idempotent request once after a disconnect
    assert set(sim.stats.faults) == {kind} and 1 <= sim.stats.faults[kind] <= 2
    # the server keeps running and says nothing
    sim.faults.reset()
    status, body = await call(session, sim, "GET", f"{API}/system_status")
    assert (status, body["code"]) == (200, 0)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_fault_filters_latency_and_stats(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    sim.faults.error_rate = 1.0
    sim.faults.methods = frozenset({"PUT"})
    status, _ = await call(session, sim, "GET", f"{API}/project")
    assert status == 200
    sim.faults.methods = None
    sim.faults.paths = ("/live-stream/",)
    status, _ = await call(session, sim, "GET", f"{API}/project")
    assert status == 200
    status, _ = await call(session, sim, "GET", CONV, project=first_project(sim))
    assert status >= 500
    assert sim.stats.faults["error"] == 1
    sim.faults.reset()
    assert sim.faults.paths is None and not sim.faults.active
    sim.faults.latency = 0.05
    started = time.monotonic()
    status, _ = await call(session, sim, "GET", f"{API}/project")
    assert status == 200 and time.monotonic() - started >= 0.05

    stats = sim.stats
    assert isinstance(stats, SimStats)
    assert stats.total == 4
    assert stats.by_route[("GET", f"{API}/project")] == 3
    assert stats.count("GET", f"{API}/live-stream/converter") == 1
    assert stats.by_status[200] == 3 and stats.by_code[0] == 3
    stats.reset()
    assert stats.total == 0 and not stats.by_route and not stats.faults


def test_error_rate_fraction_is_seeded() -> None:
    f1, f2 = Faults(error_rate=0.5, seed=3), Faults(error_rate=0.5, seed=3)
    draws = [f1.draw() for _ in range(200)]
    assert draws == [f2.draw() for _ in range(200)]
    assert set(draws) == {"error", None}


async def test_start_close_explicit() -> None:
    sim = Simulator(projects=1, docks_per_project=1, converters_per_project=0)
    with pytest.raises(RuntimeError):
        _ = sim.url
    await sim.start()
    try:
        async with (
            aiohttp.ClientSession() as s,
            s.get(sim.url + f"{API}/system_status", headers=hdrs(sim)) as r,
        ):
            assert (await r.json())["code"] == 0
    finally:
        await sim.close()
    assert not sim.started


# ---- command line ---------------------------------------------------------------------------


def test_cli_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aiodji.sim", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "--converter-limit" in out.stdout and "--allow-remote" in out.stdout


def test_cli_refuses_remote_host() -> None:
    from aiodji.sim.__main__ import main

    assert main(["--host", "0.0.0.0"]) == 2


async def test_disputed_request_names_are_both_accepted_and_counted(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    # the documentation says device_command / sn, another client sends command / drone_sn:
    # the simulator takes both and counts which came, so a user can tell which one live takes
    project = first_project(sim)
    drone = sim.state.pairs[project][0].drone
    assert drone is not None
    command = f"{API}/device/{drone.sn}/command"
    for body in ({"device_command": "return_home"}, {"command": "flighttask_pause"}):
        status, reply = await call(session, sim, "POST", command, project=project, json=body)
        assert (status, reply["code"]) == (200, 0)
    assert sim.state.device_ops.commands[drone.sn] == ["return_home", "flighttask_pause"]
    control = f"{API}/device/control"
    for key in ("sn", "drone_sn"):
        body = {key: drone.sn, "payload_index": ["81-0-0"]}
        status, reply = await call(session, sim, "POST", control, project=project, json=body)
        assert reply["code"] == 0 and reply["data"]["drone_sn"] == drone.sn
    status, reply = await call(session, sim, "POST", command, project=project, json={})
    assert reply["code"] == 200500 and "device_command" in reply["message"]  # the documented name
    async with session.get(sim.url + "/_sim/stats") as resp:  # no token: the simulator's own
        stats = orjson.loads(await resp.read())
    assert stats["request_names"] == {
        "command.command": 1,
        "command.device_command": 1,
        "control.drone_sn": 1,
        "control.sn": 1,
    }
    assert stats["total"] == sim.stats.total == 5  # the stats call itself is not counted


async def test_the_documented_quota_of_20_converters_per_organization_is_the_default(
    session: aiohttp.ClientSession,
) -> None:
    # "up to 20" converters, read per organization: no knob given anywhere, the 21st is refused
    # whichever project it is made in (a changed default fails here, not silently in a demo)
    from aiodji.sim.__main__ import build_parser

    assert build_parser().parse_args([]).converter_limit == 20
    async with Simulator(projects=2, docks_per_project=1, converters_per_project=0) as sim:
        p1, p2 = list(sim.state.projects)
        made = 0
        while made < 20:
            project = p1 if made % 2 else p2
            body = new_converter(sim, project, f"quota-{made}", made)
            _, reply = await call(session, sim, "POST", CONV, project=project, json=body)
            assert reply["code"] == 0, reply
            made += 1
        for project in (p1, p2):
            body = new_converter(sim, project, f"over-{project[:4]}", 100)
            _, reply = await call(session, sim, "POST", CONV, project=project, json=body)
            assert reply["code"] == 233317
    assert len(sim.state.converters) == 20
