"""Scale-out benchmark (issue 12): shared Redis budgets across worker processes.

``python -m benchmarks.scale [--quick]`` prints and writes ``results/scale.md`` (+ ``.json``).

- 8 organizations, each a simulator with its own 100 req/s bucket and 50 ms per request (so
  the work is latency-bound, not CPU-bound); 1, 2, 4 worker processes, each with the same fixed
  concurrency (one request loop per organization), every Client on ``RedisRateLimit``.
- One organization, one 100 req/s bucket, 4 workers pushing far more: together they should
  take ≥ 90 % of the limit with ≤ 3 % of the answers rate limited.
- Limiter cost per request: ``async with`` + feedback, in-process Limiter vs RedisLimiter
  (µs and Redis round trips), sequential on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

RESULTS = Path(__file__).parent / "results"
ORGS = 8
ORG_RATE = 100.0
LATENCY = 0.05
LOOPS_PER_ORG = 1  # the fixed concurrency of every worker: one loop per organization


# -- the parts ----------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.proc = subprocess.Popen(
            [*argv, "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.3)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


async def _serve_sims(orgs: int, rate: float, latency: float, loops: int) -> None:
    """Child: ``orgs`` simulators; prints their urls and tokens, serves until stdin closes."""
    from aiodji.sim import Simulator

    sims = [
        Simulator(projects=1, seed=i, rate_limit=rate, rate_burst=rate / 10) for i in range(orgs)
    ]
    for sim in sims:
        sim.faults.latency = latency
        await sim.start()
    print(orjson.dumps([{"url": s.url, "token": s.token} for s in sims]).decode(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stats = [{"rate_limited": s.stats.rate_limited} for s in sims]
    print(orjson.dumps(stats).decode(), flush=True)
    for sim in sims:
        await sim.close()


async def _worker(
    orgs: list[dict[str, str]], redis: str, seconds: float, loops: int, warm: float
) -> None:
    """Child: one worker process; ``loops`` request loops per organization for ``seconds``."""
    import aiodji

    clients = [
        aiodji.Client(token=o["token"], base_url=o["url"], rate_limit=aiodji.RedisRateLimit(redis))
        for o in orgs
    ]
    done: list[float] = []
    start = time.monotonic()
    end = start + seconds

    async def loop(dji: aiodji.Client) -> None:
        while time.monotonic() < end:
            await dji.projects.list_page()  # one request a loop
            done.append(time.monotonic() - start)

    def limited_now() -> int:
        return sum(c.limiter.stats.rate_limited for c in clients)

    async def snapshot() -> int:
        await asyncio.sleep(warm)
        return limited_now()

    at_warm = asyncio.create_task(snapshot())
    try:
        await asyncio.gather(*(loop(c) for c in clients for _ in range(loops)))
    finally:
        limited = limited_now()
        limited_warm = limited - await at_warm
        for c in clients:
            await c.close()
    result = {"done": done, "limited": limited, "limited_warm": limited_warm}
    print(orjson.dumps(result).decode(), flush=True)


def _run(orgs: int, workers: int, seconds: float, loops: int) -> dict[str, Any]:
    warm = min(2.0, seconds / 4)  # discovery and the first event are not the steady state
    redis = Redis()
    sims = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.scale", "_sims", str(orgs), str(ORG_RATE), str(LATENCY)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sims.stdout is not None and sims.stdin is not None
        targets = sims.stdout.readline().strip()
        argv = [sys.executable, "-m", "benchmarks.scale", "_worker", targets, redis.url]
        argv += [str(seconds), str(loops), str(warm)]
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
        results = [
            orjson.loads(p.communicate(timeout=seconds + 60)[0].strip().splitlines()[-1])
            for p in procs
        ]
        sims.communicate("", timeout=30)
    finally:
        if sims.poll() is None:
            sims.kill()
        redis.stop()
    done = [t for r in results for t in r["done"] if t >= warm]
    limited = sum(r["limited"] for r in results)
    accepted = sum(len(r["done"]) for r in results)
    steady_limited = sum(r["limited_warm"] for r in results)
    return {
        "orgs": orgs,
        "workers": workers,
        "throughput": len(done) / (seconds - warm),
        "limited_share": limited / max(1, limited + accepted),
        "steady_limited_share": steady_limited / max(1, steady_limited + len(done)),
        "accepted": accepted,
        "limited": limited,
    }


async def _cost(n: int) -> dict[str, Any]:
    from aiodji.limiter import Limiter
    from aiodji.scale import RedisLimiter

    redis = Redis()
    try:
        rows = {}
        for name, limiter in (
            ("in-process Limiter", Limiter(8, None, adaptive=False)),
            ("RedisLimiter", RedisLimiter(redis.url, "aiodji:budget:bench", 8, rate=1e6)),
        ):
            async with limiter:
                pass  # connect first
            calls0 = getattr(limiter, "redis_calls", 0)
            t0 = time.perf_counter()
            for _ in range(n):
                async with limiter:
                    pass
                limiter.on_success()
            us = (time.perf_counter() - t0) / n * 1e6
            trips = (getattr(limiter, "redis_calls", 0) - calls0) / n
            rows[name] = {"us": us, "round_trips": trips}
            if isinstance(limiter, RedisLimiter):
                await limiter.aclose()
        return rows
    finally:
        redis.stop()


def _markdown(
    table: list[dict[str, Any]], single: dict[str, Any], cost: dict[str, Any], single_seconds: float
) -> str:
    base = table[0]["throughput"]
    lines = [
        "## Scale-out (issue 12)",
        "",
        f"{ORGS} organizations, each its own {ORG_RATE:.0f} req/s bucket and"
        f" {LATENCY * 1000:.0f} ms"
        f" per request; every worker {LOOPS_PER_ORG} loop per organization; Clients on"
        " `RedisRateLimit` (adaptive).",
        "",
        "| workers | req/s total | × 1 worker | target | rate limited |",
        "|---:|---:|---:|---:|---:|",
    ]
    targets = {1: "", 2: "≥ 1.8×", 4: "≥ 3.2×"}
    for row in table:
        lines.append(
            f"| {row['workers']} | {row['throughput']:.0f} | {row['throughput'] / base:.2f}× |"
            f" {targets.get(row['workers'], '')} | {row['limited_share']:.1%} |"
        )
    share = single["throughput"] / ORG_RATE
    lines += [
        "",
        f"One organization, 4 workers, one {ORG_RATE:.0f} req/s bucket: together"
        f" **{single['throughput']:.1f} req/s = {share:.0%} of the limit** (target ≥ 90 %),"
        f" **{single['steady_limited_share']:.1%} rate limited** after the first"
        f" {min(2.0, single_seconds / 4):.0f} s of discovery (target ≤ 3 %);"
        f" {single['limited_share']:.1%} over the whole run.",
        "",
        "| limiter | µs per request | Redis round trips per request |",
        "|---|---:|---:|",
    ]
    for name, row in cost.items():
        lines.append(f"| {name} | {row['us']:.1f} | {row['round_trips']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_sims":
        asyncio.run(_serve_sims(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), 0))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        orgs = orjson.loads(sys.argv[2])
        seconds, loops, warm = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
        asyncio.run(_worker(orgs, sys.argv[3], seconds, loops, warm))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 12.0
    table = [_run(ORGS, w, seconds, LOOPS_PER_ORG) for w in (1, 2, 4)]
    single = _run(1, 4, seconds * 1.5, 8)
    cost = asyncio.run(_cost(500 if args.quick else 3000))
    text = _markdown(table, single, cost, seconds * 1.5)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.md").write_text(text)
    payload = {"table": table, "single_org": single, "cost": cost}
    (RESULTS / "scale.json").write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
