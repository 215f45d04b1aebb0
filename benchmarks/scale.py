"""Scale-out benchmark: shared Redis budgets across worker processes.

``python -m benchmarks.scale [--quick]`` prints and writes ``results/scale.md`` (+ ``.json``).

- Queue mode as an operator runs it: 3 ``aiodji worker`` processes, ``enqueue_run`` of flips
  over 20 projects against one organization limited to 50 req/s by the simulator (20 ms per
  request), without and with ~3 % faults (5xx, dropped connections, lost replies, cut JSON):
  the share of the server's replies that were 429 (all, and after the first seconds), the
  organization's accepted req/s, and Redis round trips per request (the budget counts both).
- 8 organizations, each a simulator with its own 100 req/s bucket and 50 ms per request;
  1, 2, 4 worker processes, each with the same fixed concurrency (one request loop per
  organization): bound by the 50 ms latency, no limit binds (one process with 4x the loops
  would show the same).
- One organization, one 100 req/s bucket, 4 workers pushing far more: together they should
  take >= 90 % of the limit with <= 3 % of the answers rate limited.
- CPU-bound: one client process, 64 requests in flight, a simulator without latency or limit
  in another process; the in-process Limiter against the shared budget: req/s and CPU us per
  request (``time.process_time``), i.e. what the shared budget costs when the CPU binds.
- Limiter cost per request, on loopback: in-process Limiter vs RedisLimiter, one request at a
  time and 64 at once (us and Redis round trips per request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

    limit = rate or None  # 0: no limit
    sims = [
        Simulator(projects=1, seed=i, rate_limit=limit, rate_burst=rate / 10 or None)
        for i in range(orgs)
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


CPU_RATE = 100_000.0
LOCAL = f"rate_limit={CPU_RATE:.0f} (in-process)"
SHARED = f"RedisRateLimit(rate={CPU_RATE:.0f})"
QUEUE_LIMIT = 50.0
QUEUE_WORKERS = 3
QUEUE_WARM = 5.0  # seconds after the first request: discovery is not the steady state


def _queue_faults(sim: Any) -> None:
    """~3 % of requests: 5xx, dropped connections, lost replies, cut JSON."""
    sim.faults.error_rate = 0.01
    sim.faults.reset_before_rate = 0.005
    sim.faults.reset_after_rate = 0.005
    sim.faults.malformed_rate = 0.01


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _spawn(argv: list[str], env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL) for _ in range(QUEUE_WORKERS)
    ]


async def _queue_mode(per_project: int, faults: bool) -> dict[str, Any]:
    """3 ``aiodji worker`` processes apply flips of 20 projects; the simulator counts."""
    from redis.asyncio import Redis as AsyncRedis

    from aiodji.fleet import Desired, Selection, StateRule
    from aiodji.scale.controller import enqueue_run
    from aiodji.scale.organizations import Organization
    from aiodji.scale.runs import FINAL, RunStore
    from aiodji.scale.tokens import TokenRefs
    from aiodji.sim import Simulator

    redis = Redis()
    sim = Simulator(
        projects=20, converters_per_project=per_project, converter_limit=10**6,
        rate_limit=QUEUE_LIMIT,
    )  # fmt: skip
    sim.faults.latency = 0.02
    if faults:
        _queue_faults(sim)
    argv = [sys.executable, "-c", "from aiodji.cli import main; main()", "worker"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        async with sim, AsyncRedis.from_url(redis.url) as r:
            procs = _spawn([*argv, "--queue", redis.url], {**os.environ, "SIM_TOKEN": sim.token})
            rule = StateRule(Selection(), enabled=False)
            org = Organization("sim", "env:SIM_TOKEN", sim.url, Desired(rules=(rule,)))
            run = await enqueue_run(
                redis.url, [org], tokens=TokenRefs(env={"SIM_TOKEN": sim.token})
            )
            sim.stats.reset()  # the planning's listing is not the workers' traffic
            samples = [(time.monotonic(), 0, 0)]

            async def sample() -> None:
                while True:
                    await asyncio.sleep(0.5)
                    samples.append((time.monotonic(), sim.stats.total, sim.stats.rate_limited))

            sampler = asyncio.create_task(sample())
            done = 0
            async for entry in RunStore(r).follow(run.run_id, block_ms=200):
                done += entry.get("state") in FINAL
                if done >= run.total:
                    break
            sampler.cancel()
            samples.append((time.monotonic(), sim.stats.total, sim.stats.rate_limited))
            raw = await r.hgetall(f"aiodji:budget:{sim.state.org_uuid}")
            budget = {_text(k): _text(v) for k, v in raw.items()}
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
        redis.stop()
    return _queue_row(samples, budget, run.total, faults)


def _queue_row(
    samples: list[tuple[float, int, int]], budget: dict[str, str], changes: int, faults: bool
) -> dict[str, Any]:
    first = next((s for s in samples if s[1] > 0), samples[-1])
    warm = next((s for s in samples if s[0] >= first[0] + QUEUE_WARM), samples[-1])
    end = samples[-1]
    requests, limited = end[1] - warm[1], end[2] - warm[2]
    seconds = max(1e-9, end[0] - warm[0])
    return {
        "faults": faults,
        "changes": changes,
        "seconds": end[0] - first[0],
        "requests": end[1],
        "limited_share": end[2] / max(1, end[1]),
        "steady_limited_share": limited / max(1, requests),
        "steady_accepted_rate": (requests - limited) / seconds,
        "steady_sent_rate": requests / seconds,
        "round_trips_per_request": int(budget.get("calls", 0))
        / max(1, int(budget.get("reserved", 1))),
    }


async def _cpu_client(url: str, token: str, redis: str, n: int) -> None:
    """Child: ``n`` requests, 64 in flight, on one Client; prints req/s and CPU us/request."""
    import aiodji

    # a fixed rate far above what one process can send on both sides: the gates' mechanics,
    # not an adaptive rate still growing, are what is compared
    limit = aiodji.RedisRateLimit(redis, rate=CPU_RATE) if redis else CPU_RATE
    async with aiodji.Client(token=token, base_url=url, rate_limit=limit) as dji:
        await dji.projects.list_page()  # connect (and reach Redis) first
        todo = iter(range(n))

        async def loop() -> None:
            for _ in todo:
                await dji.projects.list_page()

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(64)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        calls = getattr(dji.limiter, "redis_calls", 0)
    row = {"req_s": n / wall, "cpu_us": cpu / n * 1e6, "round_trips": calls / (n + 1)}
    print(orjson.dumps(row).decode(), flush=True)


def _cpu_bound(n: int) -> dict[str, Any]:
    """In-process Limiter vs shared budget when the client process's CPU binds (interleaved)."""
    redis = Redis()
    sims = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.scale", "_sims", "1", "0", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    rows: dict[str, list[dict[str, float]]] = {LOCAL: [], SHARED: []}
    try:
        assert sims.stdout is not None and sims.stdin is not None
        target = orjson.loads(sims.stdout.readline())[0]
        for _ in range(3):
            for name, url in ((LOCAL, ""), (SHARED, redis.url)):
                argv = [sys.executable, "-m", "benchmarks.scale", "_cpu", target["url"]]
                out = subprocess.run(
                    [*argv, target["token"], url, str(n)], capture_output=True, text=True,
                    timeout=300, check=True,
                )  # fmt: skip
                rows[name].append(orjson.loads(out.stdout.strip().splitlines()[-1]))
        sims.communicate("", timeout=30)
    finally:
        if sims.poll() is None:
            sims.kill()
        redis.stop()
    return {name: _median_row(runs) for name, runs in rows.items()}


def _median_row(runs: list[dict[str, float]]) -> dict[str, Any]:
    import statistics

    row: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    row["req_s_range"] = [min(r["req_s"] for r in runs), max(r["req_s"] for r in runs)]
    row["cpu_us_range"] = [min(r["cpu_us"] for r in runs), max(r["cpu_us"] for r in runs)]
    return row


async def _cost(n: int) -> dict[str, Any]:
    """Admission + feedback per request on loopback: one at a time, and 64 at once."""
    from aiodji.limiter import Limiter
    from aiodji.scale import RedisLimiter

    redis = Redis()
    try:
        rows = {}
        for concurrent in (1, 64):
            for name, limiter in (
                ("in-process Limiter", Limiter(64, None, adaptive=False)),
                ("RedisLimiter", RedisLimiter(redis.url, f"aiodji:budget:b{concurrent}", 64, 1e6)),
            ):
                await limiter.admit()  # connect first
                limiter.release()
                calls0 = getattr(limiter, "redis_calls", 0)
                todo = iter(range(n))

                async def loop(limiter: Limiter = limiter, todo: Any = todo) -> None:
                    for _ in todo:
                        if limiter.admit_now() is None:
                            await limiter.admit()
                        limiter.release()
                        limiter.on_success()

                t0 = time.perf_counter()
                await asyncio.gather(*(loop() for _ in range(concurrent)))
                us = (time.perf_counter() - t0) / n * 1e6
                trips = (getattr(limiter, "redis_calls", 0) - calls0) / n
                rows[f"{name}, {concurrent} at once"] = {"us": us, "round_trips": trips}
                if isinstance(limiter, RedisLimiter):
                    await limiter.aclose()
        return rows
    finally:
        redis.stop()


def _markdown(results: dict[str, Any], single_seconds: float) -> str:
    lines = ["## Scale-out", ""]
    lines += _queue_lines(results["queue"])
    lines += _table_lines(results["table"])
    single = results["single_org"]
    share = single["throughput"] / ORG_RATE
    lines += [
        "",
        f"One organization, 4 workers, one {ORG_RATE:.0f} req/s bucket: together"
        f" **{single['throughput']:.1f} req/s = {share:.0%} of the limit** (target ≥ 90 %),"
        f" **{single['steady_limited_share']:.1%} rate limited** after the first"
        f" {min(2.0, single_seconds / 4):.0f} s of discovery (target ≤ 3 %);"
        f" {single['limited_share']:.1%} over the whole run.",
        "",
    ]
    lines += _cpu_lines(results["cpu_bound"])
    lines += [
        "",
        "Limiter cost per request on loopback (admission + feedback, no HTTP):",
        "",
        "| limiter | µs per request | Redis round trips per request |",
        "|---|---:|---:|",
    ]
    for name, row in results["cost"].items():
        lines.append(f"| {name} | {row['us']:.1f} | {row['round_trips']:.2f} |")
    return "\n".join(lines) + "\n"


def _queue_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"Queue mode: {QUEUE_WORKERS} `aiodji worker` processes apply flips over 20 projects"
        f" against one organization limited to {QUEUE_LIMIT:.0f} req/s by the simulator (20 ms"
        " per request); the simulator counts the replies. Steady = after the first"
        f" {QUEUE_WARM:.0f} s of the workers' traffic (discovery).",
        "",
        "| faults | changes | 429 share, steady (target ≤ 5 %) | 429 share, whole run |"
        " org req/s accepted, steady | sent req/s, steady | Redis round trips per request |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {'~3 %' if row['faults'] else 'none'} | {row['changes']} |"
            f" {row['steady_limited_share']:.1%} | {row['limited_share']:.1%} |"
            f" {row['steady_accepted_rate']:.1f} | {row['steady_sent_rate']:.1f} |"
            f" {row['round_trips_per_request']:.2f} |"
        )
    lines += [
        "",
        "Round trips per request: every budget script call (reservations, 429 reports, pauses,"
        " give-backs) over the slots reserved, as the budget counts them. Here each shard has"
        " its own Client (4 shards a worker), each far from busy at ~4 req/s: batches stay at"
        " one slot, and an ask that finds the budget queued a horizon ahead asks again when"
        " its batch fits. Batches pay off where one Client is busy (the CPU-bound run below).",
    ]
    return [*lines, ""]


def _table_lines(table: list[dict[str, Any]]) -> list[str]:
    base = table[0]["throughput"]
    lines = [
        f"Worker scaling: {ORGS} organizations, each its own {ORG_RATE:.0f} req/s bucket and"
        f" {LATENCY * 1000:.0f} ms per request; every worker {LOOPS_PER_ORG} loop per"
        " organization; Clients on `RedisRateLimit` (adaptive). Bound by the latency (each"
        " loop waits 50 ms a request), no limit binds: one process with 4× the loops would"
        " show the same. The CPU-bound run below is where the shared budget's cost would show.",
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
    return lines


def _cpu_lines(rows: dict[str, Any]) -> list[str]:
    local, shared = rows[LOCAL], rows[SHARED]
    lines = [
        "CPU-bound: one client process, 64 requests in flight, a simulator without latency or"
        " limit in another process; median of 3 interleaved runs (range):",
        "",
        "| limiter | req/s | CPU µs per request | Redis round trips per request |",
        "|---|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['req_s']:.0f} ({row['req_s_range'][0]:.0f}–"
            f"{row['req_s_range'][1]:.0f}) | {row['cpu_us']:.0f} ({row['cpu_us_range'][0]:.0f}–"
            f"{row['cpu_us_range'][1]:.0f}) | {row['round_trips']:.2f} |"
        )
    cost = shared["cpu_us"] - local["cpu_us"]
    overlap = shared["cpu_us_range"][0] <= local["cpu_us_range"][1]
    overlap = overlap and local["cpu_us_range"][0] <= shared["cpu_us_range"][1]
    verdict = (
        "within the spread of the runs: no cost measurable on this machine"
        if overlap
        else f"{cost:.0f} CPU µs per request ({shared['cpu_us'] / local['cpu_us']:.2f}×)"
    )
    lines += [
        "",
        f"The shared budget's difference in CPU per request: {cost:+.0f} µs, {verdict}; req/s"
        f" {shared['req_s'] / local['req_s']:.2f}× the in-process gate's. One Redis round trip"
        f" per {1 / max(shared['round_trips'], 1e-9):.0f} requests (batches of up to"
        " 8 slots) is what keeps it small.",
    ]
    return lines


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_sims":
        asyncio.run(_serve_sims(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), 0))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        orgs = orjson.loads(sys.argv[2])
        seconds, loops, warm = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
        asyncio.run(_worker(orgs, sys.argv[3], seconds, loops, warm))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_cpu":
        asyncio.run(_cpu_client(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 12.0
    per_project = 40 if args.quick else 100  # converters; about half start enabled: the flips
    results = {
        "queue": [asyncio.run(_queue_mode(per_project, faults)) for faults in (False, True)],
        "table": [_run(ORGS, w, seconds, LOOPS_PER_ORG) for w in (1, 2, 4)],
        "single_org": _run(1, 4, seconds * 1.5, 8),
        "cpu_bound": _cpu_bound(2000 if args.quick else 6000),
        "cost": asyncio.run(_cost(500 if args.quick else 3000)),
    }
    text = _markdown(results, seconds * 1.5)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.md").write_text(text)
    (RESULTS / "scale.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
