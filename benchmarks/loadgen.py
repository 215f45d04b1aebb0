"""One throughput run of one client, in its own process (pinned to the client core).

``python -m benchmarks.loadgen --client NAME --concurrency C --url URL --token T --targets JSON
[--uvloop] --seconds S`` prints one JSON line: requests, seconds, rps, p50/p99 latency (ms) and
client CPU µs per request of the measured batch (a warm-up batch before it sizes the batch to
about ``S`` seconds and opens the connections).

Every client does the same converter ``set_enabled`` PUT with the headers FlightHub 2 requires
(token, project, request id, JSON body) and checks the reply's ``code``. The clients keep at
most C requests in flight: raw aiohttp and httpx through a semaphore over a gather, aiodji through
its own limiter (a plain gather, the design card's shape) or its bulk engine, requests through a
pool of C threads. Latency is measured from taking a slot to having read the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from benchmarks.common import (
    CONVERTER_PATH,
    Targets,
    emit,
    install_timed_limiter,
    percentile,
    run_loop,
)

# batch(n) runs n requests and returns the latencies of the measured requests
Batch = Callable[[int], Awaitable[list[float]]]

CLIENTS = ("aiohttp", "aiodji", "aiodji-bulk", "httpx", "requests")
# aiodji's gather with a fixed ``rate_limit=`` far above what the loop can send (benchmarks.cpu)
FIXED_RATE_CLIENT = "aiodji-fixed"
FIXED_RATE = 100_000.0
ASYNC_ON_AIOHTTP = ("aiohttp", "aiodji", "aiodji-bulk")  # the ones also measured with uvloop


def _check(status: int, body: bytes) -> None:
    payload = orjson.loads(body)
    if status != 200 or payload.get("code") != 0:
        raise RuntimeError(f"unexpected reply {status}: {body[:200]!r}")


async def _measure(batch: Batch, concurrency: int, seconds: float, cap: int) -> dict[str, Any]:
    """A warm-up batch, then one measured batch: about ``seconds`` long, or exactly ``-cap``
    requests when ``cap`` is negative (the fixed N of :mod:`benchmarks.cpu`)."""
    warm = max(4 * concurrency, 300)
    started = time.perf_counter()
    await batch(warm)
    rate = warm / (time.perf_counter() - started)
    n = -cap if cap < 0 else max(4 * concurrency, min(cap, int(rate * seconds)))
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    latencies = await batch(n)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    latencies.sort()
    return {
        "requests": n,
        "seconds": wall,
        "rps": n / wall,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "cpu_us": cpu / n * 1e6,
    }


def _headers(token: str, project: str) -> dict[str, str]:
    return {
        "X-User-Token": token,
        "X-Project-Uuid": project,
        "X-Request-Id": str(uuid.uuid4()),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


@contextlib.asynccontextmanager
async def aiohttp_batches(url: str, token: str, targets: Targets, c: int) -> AsyncIterator[Batch]:
    """Raw aiohttp: a semaphore of ``c`` over a gather of the PUTs (the baseline)."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=c)
    async with aiohttp.ClientSession(connector=connector) as session:
        sem = asyncio.Semaphore(c)

        async def one(i: int, lat: list[float]) -> None:
            project, cid = targets[i % len(targets)]
            body = orjson.dumps({"auto_push_stream": True})
            headers = _headers(token, project)
            async with sem:
                t = time.perf_counter()
                async with session.put(
                    f"{url}{CONVERTER_PATH}/{cid}", data=body, headers=headers
                ) as resp:
                    raw = await resp.read()
                lat.append(time.perf_counter() - t)
            _check(resp.status, raw)

        async def batch(n: int) -> list[float]:
            lat: list[float] = []
            await asyncio.gather(*(one(i, lat) for i in range(n)))
            return lat

        yield batch


async def run_aiohttp(url: str, token: str, targets: Targets, c: int, s: float, cap: int) -> Any:
    async with aiohttp_batches(url, token, targets, c) as batch:
        return await _measure(batch, c, s, cap)


@contextlib.asynccontextmanager
async def aiodji_batches(
    url: str,
    token: str,
    targets: Targets,
    c: int,
    *,
    bulk: bool,
    rate_limit: float | None = None,
    timed: bool = True,
) -> AsyncIterator[Batch]:
    """aiodji: a gather of ``set_enabled`` through the Client's limiter, or the bulk engine.
    ``timed=False``: the Client's own limiter, no latencies (what :mod:`benchmarks.cpu` runs:
    the timing wrapper costs a coroutine per queued call)."""
    import aiodji

    async with aiodji.Client(
        token=token,
        base_url=url,
        allow_insecure_http=True,
        max_connections=c,
        rate_limit=rate_limit,
    ) as dji:
        limiter = install_timed_limiter(dji) if timed else None
        views = {p: dji.project(p).converters for p in {p for p, _ in targets}}

        async def gather_batch(n: int) -> list[float]:
            if limiter is not None:
                limiter.latencies = []
            await asyncio.gather(
                *(
                    views[targets[i % len(targets)][0]].set_enabled(
                        targets[i % len(targets)][1], True
                    )
                    for i in range(n)
                )
            )
            return limiter.latencies if limiter is not None else []

        async def bulk_batch(n: int) -> list[float]:
            if limiter is not None:
                limiter.latencies = []
            items = (targets[i % len(targets)] for i in range(n))
            failed = 0
            async for r in dji.bulk.set_converters_enabled(items, enabled=True, concurrency=c):
                failed += not r.ok
            if failed:
                raise RuntimeError(f"{failed} bulk items failed")
            return limiter.latencies if limiter is not None else []

        yield bulk_batch if bulk else gather_batch


def batches_of(
    client: str, url: str, token: str, targets: Targets, c: int, *, timed: bool = True
) -> Any:
    """The batch context manager of one async-on-aiohttp client name (``benchmarks.cpu``)."""
    if client == "aiohttp":
        return aiohttp_batches(url, token, targets, c)
    rate = FIXED_RATE if client == FIXED_RATE_CLIENT else None
    bulk = client == "aiodji-bulk"
    return aiodji_batches(url, token, targets, c, bulk=bulk, rate_limit=rate, timed=timed)


async def run_aiodji(
    url: str, token: str, targets: Targets, c: int, s: float, cap: int, client: str
) -> Any:
    async with batches_of(client, url, token, targets, c) as batch:
        return await _measure(batch, c, s, cap)


async def run_httpx(url: str, token: str, targets: Targets, c: int, s: float, cap: int) -> Any:
    import httpx

    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(limits=limits) as client:
        sem = asyncio.Semaphore(c)

        async def one(i: int, lat: list[float]) -> None:
            project, cid = targets[i % len(targets)]
            body = orjson.dumps({"auto_push_stream": True})
            headers = _headers(token, project)
            async with sem:
                t = time.perf_counter()
                resp = await client.put(
                    f"{url}{CONVERTER_PATH}/{cid}", content=body, headers=headers
                )
                lat.append(time.perf_counter() - t)
            _check(resp.status_code, resp.content)

        async def batch(n: int) -> list[float]:
            lat: list[float] = []
            await asyncio.gather(*(one(i, lat) for i in range(n)))
            return lat

        return await _measure(batch, c, s, cap)


async def run_requests(url: str, token: str, targets: Targets, c: int, s: float, cap: int) -> Any:
    import requests

    local = threading.local()
    sessions: list[requests.Session] = []

    def session() -> requests.Session:
        sess: requests.Session | None = getattr(local, "session", None)
        if sess is None:
            sess = local.session = requests.Session()
            sessions.append(sess)
        return sess

    def one(i: int) -> float:
        project, cid = targets[i % len(targets)]
        body = orjson.dumps({"auto_push_stream": True})
        headers = _headers(token, project)
        t = time.perf_counter()
        resp = session().put(f"{url}{CONVERTER_PATH}/{cid}", data=body, headers=headers)
        raw = resp.content
        took = time.perf_counter() - t
        _check(resp.status_code, raw)
        return took

    with ThreadPoolExecutor(max_workers=c) as pool:
        loop = asyncio.get_running_loop()

        async def batch(n: int) -> list[float]:
            return await loop.run_in_executor(None, lambda: list(pool.map(one, range(n))))

        try:
            return await _measure(batch, c, s, cap)
        finally:
            for sess in sessions:
                sess.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", choices=(*CLIENTS, FIXED_RATE_CLIENT), required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--targets", required=True, help="JSON list of [project, converter]")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--cap", type=int, default=200_000, help="most requests measured")
    parser.add_argument("--requests", type=int, help="measure exactly this many (not --seconds)")
    args = parser.parse_args()
    targets = [tuple(t) for t in orjson.loads(args.targets)]
    cap = -args.requests if args.requests else args.cap
    common = (args.url, args.token, targets, args.concurrency, args.seconds, cap)

    async def go() -> Any:
        if args.client == "aiohttp":
            return await run_aiohttp(*common)
        if args.client in ("aiodji", "aiodji-bulk", FIXED_RATE_CLIENT):
            return await run_aiodji(*common, client=args.client)
        if args.client == "httpx":
            return await run_httpx(*common)
        return await run_requests(*common)

    result = run_loop(go, args.uvloop)
    result.update(client=args.client, concurrency=args.concurrency, uvloop=args.uvloop)
    emit(result)


if __name__ == "__main__":
    main()
