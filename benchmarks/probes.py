"""Limiter accuracy, rate control and scale probes, each in its own process.

``python -m benchmarks.probes KIND --url URL --token T --targets JSON [options]`` prints one
JSON line. KIND is one of:

* ``limiter``: a gather of ``rate × seconds`` calls with ``rate_limit=RATE`` configured; the
  achieved rate after the first burst, and the most admissions in any 100 ms window against
  what GCRA allows there (``burst + rate × 0.1``).
* ``rate``: no rate configured, against a simulator with some rate-limit behaviour
  (:mod:`benchmarks.ratecontrol`); ``concurrency`` workers call for ``seconds``; accepted
  calls and rate-limited answers per 0.1 s.
* ``bulk``: a bulk toggle of ``items`` converters; time and peak RSS growth over the run.
* ``gather``: a gather of ``items`` calls with ``concurrency`` connections; time, timeouts,
  other errors and peak RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from typing import Any

import orjson

import aiodji
from benchmarks.common import (
    Targets,
    emit,
    install_timed_limiter,
    largest_window_count,
    run_loop,
)


def _client(url: str, token: str, **kwargs: Any) -> aiodji.Client:
    return aiodji.Client(token=token, base_url=url, allow_insecure_http=True, **kwargs)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def limiter_accuracy(url: str, token: str, targets: Targets, rate: float, seconds: float):  # type: ignore[no-untyped-def]
    async with _client(url, token, rate_limit=rate, max_connections=64) as dji:
        limiter = install_timed_limiter(dji)
        conv = dji.converters
        n = int(rate * seconds)
        limiter.record_admissions = True
        await asyncio.gather(
            *(
                conv.set_enabled(targets[i % len(targets)][1], True, project_uuid=targets[0][0])
                for i in range(n)
            )
        )
        times = limiter.admissions
        burst = limiter.burst
        # The first `burst` go at once by design; the steady rate is measured after the first
        # 10 % of the requests: starting the gather (n tasks' first steps before any of them
        # waits) stalls the loop for tens of ms at n = 4,000, longer than the burst can absorb.
        steady = times[max(burst, n // 10) :]
        achieved = (len(steady) - 1) / (steady[-1] - steady[0])
        return {
            "configured": rate,
            "requests": n,
            "achieved": achieved,
            "overall": (len(times) - 1) / (times[-1] - times[0]),
            "error_pct": (achieved / rate - 1) * 100,
            "burst": burst,
            "max_in_100ms": largest_window_count(times, 0.1),
            "allowed_in_100ms": burst + rate * 0.1,
        }


async def rate_run(url: str, token: str, targets: Targets, seconds: float, c: int):  # type: ignore[no-untyped-def]
    """``c`` workers toggling converters for ``seconds``; accepted calls and rate-limited
    answers per 0.1 s slot, and the limiter's final stats."""
    slot = 0.1
    async with _client(url, token, max_connections=c) as dji:
        views = {p: dji.project(p).converters for p in {p for p, _ in targets}}
        n = int(seconds / slot) + 1
        accepted = [0] * n
        limited = [0] * n
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + seconds
        counter = iter(range(10**9))

        async def worker() -> None:
            while loop.time() < deadline:
                project, cid = targets[next(counter) % len(targets)]
                await views[project].set_enabled(cid, True)
                accepted[min(n - 1, int((loop.time() - start) / slot))] += 1

        async def sample() -> None:
            seen = 0
            while loop.time() < deadline:
                await asyncio.sleep(slot)
                now = dji.limiter_stats.rate_limited
                limited[min(n - 1, int((loop.time() - start) / slot))] += now - seen
                seen = now

        await asyncio.gather(sample(), *(worker() for _ in range(c)))
        st = dji.limiter_stats
        return {
            "slot": slot,
            "accepted": accepted,
            "limited": limited,
            "congestion_events": st.congestion_events,
            "noise_events": st.noise_events,
            "pauses": st.pauses,
            "final_rate": st.rate,
        }


async def bulk_scale(url: str, token: str, targets: Targets, items: int, c: int):  # type: ignore[no-untyped-def]
    async with _client(url, token, max_connections=c) as dji:
        warm = (targets[i % len(targets)] for i in range(500))
        async for _ in dji.bulk.set_converters_enabled(warm, enabled=True, concurrency=c):
            pass
        before = _peak_rss_mb()
        t0 = time.perf_counter()
        ok = failed = 0
        source = (targets[i % len(targets)] for i in range(items))
        async for r in dji.bulk.set_converters_enabled(source, enabled=True, concurrency=c):
            if r.ok:
                ok += 1
            else:
                failed += 1
        took = time.perf_counter() - t0
        return {
            "items": items,
            "seconds": took,
            "rps": items / took,
            "ok": ok,
            "failed": failed,
            "rss_growth_mb": _peak_rss_mb() - before,
        }


async def gather_scale(url: str, token: str, targets: Targets, items: int, c: int):  # type: ignore[no-untyped-def]
    async with _client(url, token, max_connections=c) as dji:
        views = {p: dji.project(p).converters for p in {p for p, _ in targets}}
        await asyncio.gather(*(views[p].set_enabled(cid, True) for p, cid in targets))
        before = _peak_rss_mb()
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(
                views[targets[i % len(targets)][0]].set_enabled(targets[i % len(targets)][1], True)
                for i in range(items)
            ),
            return_exceptions=True,
        )
        took = time.perf_counter() - t0
        timeouts = sum(isinstance(r, aiodji.APITimeoutError) for r in results)
        errors = sum(isinstance(r, BaseException) for r in results)
        return {
            "items": items,
            "connections": c,
            "seconds": took,
            "rps": items / took,
            "timeouts": timeouts,
            "other_errors": errors - timeouts,
            "rss_growth_mb": _peak_rss_mb() - before,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("limiter", "rate", "bulk", "gather"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--targets", required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    targets = [tuple(t) for t in orjson.loads(args.targets)]
    base = (args.url, args.token, targets)

    async def go() -> Any:
        if args.kind == "limiter":
            return await limiter_accuracy(*base, args.rate, args.seconds)
        if args.kind == "rate":
            return await rate_run(*base, args.seconds, args.concurrency)
        if args.kind == "bulk":
            return await bulk_scale(*base, args.items, args.concurrency)
        return await gather_scale(*base, args.items, args.concurrency)

    emit(run_loop(go, args.uvloop))


if __name__ == "__main__":
    main()
