"""Faults against the simulator's fault knobs. Loopback only, bounded counts;
no wall-clock assertion anywhere (``anyio.fail_after`` only guards against hangs).

- under ~10 % random faults every call ends in success or a typed aiodji error;
- idempotent calls (PUT/GET) survive them: the server ends in the desired state;
- POST creates are never sent twice (``sim.state.create_counts``), even when a reply is lost;
- 429 storms with Retry-After: every call still succeeds, creates included;
- the retry budget stops retry storms when the server is down (requests counted);
- server down / DNS failure / connect timeout: a typed error naming the host;
- the reply size cap (default 32 MiB) is a clear error;
- cancellation at random points (hypothesis) leaks no task, session or socket.
"""

from __future__ import annotations

import asyncio
import gc
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import suppress
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from _servers import LocalServers, envelope, unused_port
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiodji
from aiodji.fleet import Desired
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

HANG_GUARD = 60  # seconds; a guard against hangs, never an expectation
READ_TIMEOUT = 0.25
TIMEOUTS = aiodji.Timeouts(connect=2.0, read=READ_TIMEOUT)
# backoff shrunk to keep the suite fast; the retry decisions are the real ones
FAST_RETRY = aiodji.RetryPolicy(max_retries=6, backoff_base=0.002, backoff_max=0.01)

# The kinds of fault a FlightHub 2 deployment shows, split evenly to make ~10 % of requests fail.
TRANSIENT_KINDS = (
    "error",  # 500/502/503
    "reset_before",  # connection reset before the request is processed
    "reset_after",  # processed, then reset: the reply is lost
    "reset_mid_body",  # half the reply, then reset
    "malformed",  # cut JSON
    "slow",  # slower than the read timeout
    "business_error",  # 210318 / 210500 / 210504
)


def inject(sim: Simulator, total_rate: float, kinds: tuple[str, ...] = TRANSIENT_KINDS) -> None:
    """Spread ``total_rate`` over ``kinds`` (the simulator draws them one after another)."""
    share = total_rate / len(kinds)
    for kind in kinds:
        setattr(sim.faults, f"{kind}_rate", share)
    sim.faults.slow_seconds = 2 * READ_TIMEOUT


def client(sim: Simulator, **kw: Any) -> aiodji.Client:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("timeout", TIMEOUTS)
    return aiodji.Client(token=sim.token, base_url=sim.url, **kw)


def camera_of(sim: Simulator, project: str) -> tuple[str, str]:
    pair = sim.state.device_pairs(project)[0]
    return pair.drone.sn, pair.drone.camera_list[0]["camera_index"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=4, docks_per_project=3, converters_per_project=150, seed=7) as s:
        s.state.converter_limit = 100_000  # creates are measured here, not the quota
        yield s


async def gather_all(calls: list[Awaitable[Any]]) -> list[Any]:
    with anyio.fail_after(HANG_GUARD):
        return await asyncio.gather(*calls, return_exceptions=True)


# -- every call ends typed; idempotent calls survive ----------------------------------------


async def test_every_call_ends_in_success_or_a_typed_error(sim: Simulator) -> None:
    """Lists, toggles, creates and deletes under 10 % faults (HTML pages and 429s too)."""
    inject(sim, 0.10, (*TRANSIENT_KINDS, "html"))
    sim.faults.business_codes = (210318, 210500, 210504, 210429, 200500)
    projects = list(sim.state.projects)
    rng = random.Random(1)
    async with client(sim, retry=aiodji.RetryPolicy(backoff_base=0.002, backoff_max=0.01)) as dji:
        calls: list[Awaitable[Any]] = []
        for i in range(400):
            project = projects[i % len(projects)]
            p = dji.project(project)
            convs = sim.state.converters_of(project)
            kind = i % 4
            if kind == 0:
                calls.append(p.converters.list_page(rng.randint(1, 3), page_size=50))
            elif kind == 1:
                calls.append(p.converters.set_enabled(rng.choice(convs).converter_id, i % 3 == 0))
            elif kind == 2:
                sn, camera = camera_of(sim, project)
                calls.append(
                    p.converters.create(
                        name=f"any-{i}", sn=sn, camera_index=camera, url=f"rtmp://h/live/any-{i}"
                    )
                )
            else:
                calls.append(p.converters.delete(f"missing-{i}"))
        results = await gather_all(calls)
    strays = [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, aiodji.DJIError)
    ]
    assert strays == []
    failures = Counter(type(r).__name__ for r in results if isinstance(r, aiodji.DJIError))
    assert sum(sim.stats.faults.values()) > 20  # faults really were injected
    assert failures  # deletes of missing ids at least (213029), plus unrecovered faults
    for r in results:
        if isinstance(r, aiodji.APIError):
            assert r.request_id and r.method and r.path.startswith("/openapi/v0.1/")


async def test_idempotent_calls_survive_10_percent_faults(sim: Simulator) -> None:
    inject(sim, 0.10)
    rng = random.Random(2)
    desired = {cid: rng.random() < 0.5 for cid in sim.state.converters}
    owner = {cid: c.project_uuid for cid, c in sim.state.converters.items()}
    async with client(sim) as dji:
        results = await gather_all(
            [
                dji.project(owner[cid]).converters.set_enabled(cid, enabled)
                for cid, enabled in desired.items()
            ]
        )
        listed = await gather_all([dji.project(p).converters.list() for p in sim.state.projects])
    assert [r for r in results if r is not None] == []  # every PUT succeeded
    assert {cid: c.auto_push_stream for cid, c in sim.state.converters.items()} == desired
    assert not [r for r in listed if isinstance(r, BaseException)]
    assert {c.converter_id: c.auto_push_stream for page in listed for c in page} == desired
    injected = sum(sim.stats.faults.values())
    assert injected >= 0.05 * len(desired)  # ~10 % of ~650 requests
    assert set(sim.stats.faults) == set(TRANSIENT_KINDS)


async def test_creates_are_never_sent_twice_even_when_replies_are_lost(sim: Simulator) -> None:
    """A POST whose reply is lost (reset after processing, cut body, cut JSON, read timeout)
    must not be retried: the converter may exist. ``create_counts`` counts what reached the
    server per name: never more than one."""
    inject(sim, 0.30)  # high, to lose many replies
    project = next(iter(sim.state.projects))
    sn, camera = camera_of(sim, project)
    names = [f"create-{i}" for i in range(200)]
    async with client(sim) as dji:
        p = dji.project(project)
        results = await gather_all(
            [
                p.converters.create(name=n, sn=sn, camera_index=camera, url=f"rtmp://h/live/{n}")
                for n in names
            ]
        )
    assert not [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, aiodji.DJIError)
    ]
    assert max(sim.state.create_counts[n] for n in names) == 1
    existing = Counter(c.converter_name for c in sim.state.converters.values())
    assert max(existing[n] for n in names) == 1
    for name, result in zip(names, results, strict=True):
        if isinstance(result, aiodji.models.Converter):
            assert sim.state.converters[result.converter_id].converter_name == name
    lost_replies = sum(sim.stats.faults[k] for k in ("reset_after", "reset_mid_body", "malformed"))
    assert lost_replies > 0  # the dangerous case really happened


async def test_429_storms_with_retry_after_every_call_succeeds(sim: Simulator) -> None:
    """A server bucket far below the demand: 429 + Retry-After for much of the burst. The whole
    Client pauses and goes again; creates (refused, so never processed) are retried safely."""
    project = next(iter(sim.state.projects))
    sn, camera = camera_of(sim, project)
    convs = sim.state.converters_of(project)[:60]
    sim.set_rate_limit(150, 10)
    # one ordinary retry allowed (none is needed here): 429 waits have their own allowance
    async with client(sim, retry=aiodji.RetryPolicy(max_retries=1)) as dji:
        p = dji.project(project)
        puts = [p.converters.set_enabled(c.converter_id, True) for c in convs]
        names = [f"storm-{i}" for i in range(30)]
        posts = [
            p.converters.create(name=n, sn=sn, camera_index=camera, url=f"rtmp://h/live/{n}")
            for n in names
        ]
        results = await gather_all([*puts, *posts])
        limiter_stats = dji.limiter.stats
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sim.stats.rate_limited > 0 and limiter_stats.rate_limited > 0
    assert all(c.auto_push_stream for c in convs)
    assert [sim.state.create_counts[n] for n in names] == [1] * len(names)


async def test_a_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    """Retry-After: 86400 (or a bogus 1e9) must not park the Client for a day: the caller gets
    the RateLimitError with its hint at once. Without a hint the pause follows the backoff."""
    answers: list[str] = []

    async def limited(request: web.Request) -> web.Response:
        hint = request.query.get("hint")
        answers.append(hint or "")
        if hint == "none" and answers.count("none") < 3:
            return web.Response(status=429)
        if hint and hint != "none":
            return web.Response(status=429, headers={"Retry-After": hint})
        return envelope({"ok": True})

    async with LocalServers() as servers:
        url = await servers.add(limited)
        fixed_rate = aiodji.RateLimit(rate=10_000.0)  # not adaptive: no slow-down to learn
        async with aiodji.Client(
            token="t", base_url=url, retry=FAST_RETRY, rate_limit=fixed_rate
        ) as dji:
            for hint in ("86400", "1e9", "Wed, 21 Oct 2099 07:28:00 GMT"):
                with anyio.fail_after(HANG_GUARD), pytest.raises(aiodji.RateLimitError) as info:
                    await dji.request("GET", "x", params={"hint": hint})
                assert info.value.attempts == 1
                assert info.value.retry_after is not None and info.value.retry_after > 3600
            with anyio.fail_after(HANG_GUARD):
                assert await dji.request("GET", "x", params={"hint": "none"}) == {"ok": True}
    assert answers.count("none") == 3


# -- the retry budget -------------------------------------------------------------------------


async def test_retry_budget_stops_retry_storms_when_the_server_is_down(sim: Simulator) -> None:
    """Every request answers 503. Without a budget 300 calls × 7 attempts = 2,100 requests; the
    budget allows the reserve plus 20 % of the calls, then calls fail on their first error."""
    sim.faults.error_rate = 1.0
    calls = 300
    policy = aiodji.RetryPolicy(
        max_retries=6, backoff_base=0.001, backoff_max=0.002, budget_ratio=0.2, budget_reserve=20
    )
    project = next(iter(sim.state.projects))
    async with client(sim, retry=policy) as dji:
        results = await gather_all([dji.project(project).converters.list() for _ in range(calls)])
    assert all(isinstance(r, aiodji.InternalServerError) for r in results)
    assert sim.stats.total <= calls + 20 + 0.2 * calls + 1
    assert sum(r.attempts for r in results) == sim.stats.total
    assert "HTTP 5" in str(results[-1]) and results[-1].attempts == 1  # plain, at once


async def test_retry_budget_also_bounds_connection_failures() -> None:
    port = unused_port()
    policy = aiodji.RetryPolicy(
        max_retries=6, backoff_base=0.001, backoff_max=0.002, budget_ratio=0.1, budget_reserve=10
    )
    async with aiodji.Client(token="t", base_url=f"http://127.0.0.1:{port}", retry=policy) as dji:
        results = await gather_all([dji.request("GET", "system_status") for _ in range(100)])
    assert all(isinstance(r, aiodji.APIConnectionError) for r in results)
    assert all(f"127.0.0.1:{port}" in str(r) for r in results)
    assert sum(r.attempts for r in results) <= 100 + 10 + 0.1 * 100 + 1


# -- the server cannot be reached ---------------------------------------------------------------


async def test_server_down_is_a_connection_error_naming_the_host() -> None:
    port = unused_port()
    async with aiodji.Client(
        token="t", base_url=f"http://127.0.0.1:{port}", retry=FAST_RETRY
    ) as dji:
        with anyio.fail_after(HANG_GUARD), pytest.raises(aiodji.APIConnectionError) as info:
            await dji.project("p").converters.create(
                name="n", sn="s", camera_index="c", url="rtmp://h/live/k"
            )
    assert f"127.0.0.1:{port}" in str(info.value)
    assert not isinstance(info.value, aiodji.APITimeoutError)
    assert info.value.attempts == 7  # nothing reached the server: even a create may retry


async def test_dns_failure_is_a_connection_error_naming_the_host() -> None:
    async with aiodji.Client(
        token="t",
        base_url="https://nonexistent.invalid",
        timeout=aiodji.Timeouts(connect=3, read=3),
        retry=aiodji.RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.002),
    ) as dji:
        with anyio.fail_after(HANG_GUARD), pytest.raises(aiodji.APIConnectionError) as info:
            await dji.request("GET", "system_status")
    assert "nonexistent.invalid" in str(info.value)
    assert info.value.method == "GET" and info.value.path == "/openapi/v0.1/system_status"


async def test_connect_timeout_is_a_timeout_error_naming_the_host() -> None:
    """A server that accepts TCP but never answers the TLS handshake: the connect timeout
    (which covers DNS + TCP + TLS) ends the attempt."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiodji.Client(
            token="t",
            base_url=f"https://127.0.0.1:{port}",
            timeout=aiodji.Timeouts(connect=0.2, read=5),
            retry=aiodji.RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.002),
        ) as dji:
            with anyio.fail_after(HANG_GUARD), pytest.raises(aiodji.APITimeoutError) as info:
                await dji.request("GET", "system_status")
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert f"127.0.0.1:{port}" in str(info.value) and "connect" in str(info.value)
    assert info.value.attempts == 2 and len(accepted) == 2


# -- the reply size cap -------------------------------------------------------------------------


async def test_default_reply_cap_is_32_mib_and_a_larger_reply_is_a_clear_error() -> None:
    mib = 1024 * 1024
    chunk = b" " * mib

    async def huge(request: web.Request) -> web.StreamResponse:
        if request.query.get("small"):
            return envelope({"fits": True})
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        if request.query.get("declared"):
            resp.content_length = 40 * mib  # announced up front: refused before reading
        else:
            resp.enable_chunked_encoding()  # length unknown: counted while reading
        await resp.prepare(request)
        with suppress(ConnectionError):
            for _ in range(40):
                await resp.write(chunk)
            await resp.write_eof()
        return resp

    async with LocalServers() as servers:
        url = await servers.add(huge)
        async with aiodji.Client(token="t", base_url=url) as dji:
            assert dji.config.max_response_bytes == 32 * mib
            for declared in (True, False):
                with (
                    anyio.fail_after(HANG_GUARD),
                    pytest.raises(
                        aiodji.ResponseTooLargeError, match="max_response_bytes=33554432"
                    ) as info,
                ):
                    await dji.request("GET", "system_status", params={"declared": declared or None})
                assert info.value.attempts == 1  # a bigger reply will not shrink on retry
            # the connection was dropped, not the Client: the next call works
            assert await dji.request("GET", "x", params={"small": 1}) == {"fits": True}


# -- cancellation -------------------------------------------------------------------------------


def client_tasks() -> set[asyncio.Task[Any]]:
    """Unfinished tasks, minus the servers' own request handlers."""
    out = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if not task.done() and "web_protocol" not in filename:
            out.add(task)
    return out


@pytest.fixture
async def small_sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=2, docks_per_project=2, converters_per_project=10, seed=3) as s:
        s.state.converter_limit = 100_000
        s.faults.latency_jitter = 0.004
        inject(s, 0.10)
        yield s


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.integers(0, 400),
    delay=st.sampled_from([0.0, 0.001, 0.005, 0.02]),
    concurrency=st.integers(1, 30),
    rate=st.sampled_from([None, 300.0]),
)
async def test_cancel_at_random_points_leaks_nothing(
    small_sim: Simulator, steps: int, delay: float, concurrency: int, rate: float | None
) -> None:
    sim = small_sim
    project = next(iter(sim.state.projects))
    convs = sim.state.converters_of(project)
    sn, camera = camera_of(sim, project)
    before = client_tasks()
    dji = client(sim, rate_limit=rate, max_connections=8)

    async def work() -> None:
        p = dji.project(project)
        calls: list[Awaitable[Any]] = []
        for i in range(concurrency):
            if i % 3 == 0:
                calls.append(p.converters.list())
            elif i % 3 == 1:
                calls.append(p.converters.set_enabled(convs[i % len(convs)].converter_id, True))
            else:
                name = f"cancel-{sim.stats.total}-{i}"
                calls.append(
                    p.converters.create(
                        name=name, sn=sn, camera_index=camera, url=f"rtmp://h/live/{name}"
                    )
                )
        await asyncio.gather(*calls, return_exceptions=True)

    task = asyncio.ensure_future(work())
    for _ in range(steps):
        await asyncio.sleep(0)
    if delay:
        await asyncio.sleep(delay)
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    # the Client is still usable: cancelled calls gave their limiter slots back
    assert dji.limiter.in_flight == 0
    saved, sim.faults.error_rate = sim.faults.error_rate, 0.0
    with anyio.fail_after(HANG_GUARD):
        await dji.project(project).converters.list_page(1)
    sim.faults.error_rate = saved
    await dji.close()
    assert dji.closed
    for _ in range(3):
        await asyncio.sleep(0)
    assert client_tasks() - before == set()
    gc.collect()  # an unclosed session or socket would warn here, and warnings are errors


# -- the fleet: 10,000 items under faults, journal, resume --------------------------------------


def journal_states(path: Path) -> dict[str, dict[str, Any]]:
    """The last record of each change key in a journal."""
    last: dict[str, dict[str, Any]] = {}
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        if record.get("type") == "item":
            last[record["key"]] = record
    return last


@pytest.mark.slow
async def test_10000_item_fleet_toggle_under_faults_then_one_resume(tmp_path: Path) -> None:
    """The headline: every converter of a 10,000-converter organization (plus 40 creates) under
    ~10 % faults of every kind and 429 storms. Every item ends in a final state, the journal
    agrees with the server, one resume reaches the desired state, nothing is created twice."""
    async with Simulator(projects=20, docks_per_project=5, converters_per_project=500) as sim:
        for cid in sim.state.converters:
            sim.state.set_converter_enabled(cid, False)
        sim.state.converter_limit = 20_000
        projects = list(sim.state.projects.values())
        creates = []
        for i in range(40):
            project = projects[i % len(projects)]
            sn, camera = camera_of(sim, project.uuid)
            creates.append(
                {
                    "project": project.uuid,
                    "name": f"fleet-new-{i}",
                    "sn": sn,
                    "camera_index": camera,
                    "url": f"rtmp://media.example/live/fleet-new-{i}",
                    "enabled": True,
                }
            )
        desired = Desired.from_dict(
            {
                "converter_limit": 20_000,
                "converters": [{"projects": "all", "enabled": True}],
                "create": creates,
            }
        )
        journal = tmp_path / "apply.journal.jsonl"
        async with client(
            sim, retry=aiodji.RetryPolicy(backoff_base=0.002, backoff_max=0.01)
        ) as dji:
            plan = await dji.fleet.plan(desired)
            assert len(plan.changes) == 10_000 + 40 and not plan.skipped
            inject(sim, 0.10)
            sim.set_rate_limit(2500, 25)  # 429 storms with Retry-After on top
            with anyio.fail_after(HANG_GUARD * 3):
                first = await dji.fleet.apply(plan, journal=journal, concurrency=64)
            faults_first = sum(sim.stats.faults.values()) + sim.stats.rate_limited
            fault_kinds, rate_limited = Counter(sim.stats.faults), sim.stats.rate_limited
            # every item ends in a final state, and the journal says which
            assert first.accounted == first.total == len(plan.changes)
            records = journal_states(journal)
            assert len(records) == len(plan.changes)
            for change in plan.changes:
                record = records[change.key]
                conv = (
                    sim.state.converter_by_name(change.converter_name or "")
                    if change.converter_id is None
                    else sim.state.converters.get(change.converter_id)
                )
                if record["state"] == "succeeded":
                    assert conv is not None and (
                        change.converter_id is None or conv.auto_push_stream
                    )
                elif record["state"] == "not_attempted":
                    assert change.converter_id is None or not conv or not conv.auto_push_stream
            # one resume (faults still on) finishes the job
            with anyio.fail_after(HANG_GUARD * 3):
                second = await dji.fleet.apply(
                    plan, journal=journal, resume=journal, concurrency=64
                )
            assert second.already_done == first.counts.get("succeeded", 0)
            assert second.ok, second.summary()
            faults_total = sum(sim.stats.faults.values()) + sim.stats.rate_limited
            # the server is in the desired state; a fresh plan has nothing to do
            sim.faults.reset()
            sim.set_rate_limit(None)
            assert (await dji.fleet.plan(desired)).empty
    assert all(c.auto_push_stream for c in sim.state.converters.values())
    assert len(sim.state.converters) == 10_000 + 40
    lost = first.total - first.accounted
    duplicates = sum(n - 1 for n in sim.state.create_counts.values() if n > 1)
    names = Counter(c.converter_name for c in sim.state.converters.values())
    assert lost == 0 and duplicates == 0 and max(names.values()) == 1
    assert faults_first > 500  # ~10 % of >10,000 requests, plus the 429s
    print(  # the closing figures (shown with pytest -s)
        f"\nfleet under faults: items={first.total} first-run={first.counts} "
        f"faults-injected={faults_total} (first run {faults_first}: "
        f"{dict(fault_kinds)}, 429s {rate_limited}) "
        f"resumed={second.counts} lost={lost} duplicates={duplicates}"
    )


async def test_plan_is_a_fixed_point_when_a_create_leaves_enabled_unset() -> None:
    async with Simulator(projects=1, docks_per_project=1, converters_per_project=1) as sim:
        project = next(iter(sim.state.projects))
        sn, camera = camera_of(sim, project)
        desired = Desired.from_dict(
            {
                "converters": [{"projects": "all", "enabled": True}],
                "create": [
                    {
                        "project": project,
                        "name": "new",
                        "sn": sn,
                        "camera_index": camera,
                        "url": "rtmp://h/live/new",
                    }
                ],
            }
        )
        async with client(sim) as dji:
            assert (await dji.fleet.apply(await dji.fleet.plan(desired))).ok
            again = await dji.fleet.plan(desired)
        assert again.empty, again.summary()


@pytest.fixture
async def fleet_sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=3, docks_per_project=2, converters_per_project=40, seed=5) as s:
        s.faults.latency_jitter = 0.003
        yield s


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.integers(0, 3000), concurrency=st.integers(1, 40))
async def test_cancelled_apply_leaves_a_journal_consistent_with_the_server(
    fleet_sim: Simulator, tmp_path_factory: pytest.TempPathFactory, steps: int, concurrency: int
) -> None:
    """Cancel ``fleet.apply`` at a random point: succeeded items are done on the server,
    not-attempted ones untouched; one resume then reaches the desired state; nothing leaks."""
    sim = fleet_sim
    for cid in sim.state.converters:
        sim.state.set_converter_enabled(cid, False)
    inject(sim, 0.05)
    journal = tmp_path_factory.mktemp("cancel") / "apply.journal.jsonl"
    before = client_tasks()
    desired = Desired.enabled(True)
    async with client(sim) as dji:
        sim.faults.error_rate = 0.0  # a clean plan: the point is the apply
        plan = await dji.fleet.plan(desired)
        inject(sim, 0.05)
        task = asyncio.ensure_future(
            dji.fleet.apply(plan, journal=journal, concurrency=concurrency)
        )
        for _ in range(steps):
            if task.done():
                break
            await asyncio.sleep(0)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        records = journal_states(journal) if journal.exists() else {}
        for change in plan.changes:
            record = records.get(change.key)
            enabled = sim.state.converters[change.converter_id or ""].auto_push_stream
            if record is not None and record["state"] == "succeeded":
                assert enabled, record
            if record is not None and record["state"] == "not_attempted":
                assert not enabled, record
        # (cancelled before the apply even started: no journal, nothing to resume from)
        resume = journal if journal.exists() else None
        resumed = await dji.fleet.apply(plan, journal=journal, resume=resume)
        assert resumed.ok, resumed.summary()
        assert resumed.already_done == sum(r["state"] == "succeeded" for r in records.values())
    assert all(c.auto_push_stream for c in sim.state.converters.values())
    for _ in range(3):
        await asyncio.sleep(0)
    assert client_tasks() - before == set()
    gc.collect()
