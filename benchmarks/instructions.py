"""Instructions per request under ``valgrind --tool=callgrind``: raw aiohttp vs aiodji.

``python -m benchmarks.instructions [--concurrency 64 256] [--n 1000] [--uvloop]``: each client
runs the same ``set_enabled`` PUT against the fixed-reply server in a fresh process under
callgrind, once with ``n`` and once with ``3n`` measured requests after the same warm-up; the
difference over ``2n`` requests is the per-request count (start-up, imports and warm-up cancel
out). Unlike wall-clock or CPU time this does not move when other processes load the machine.

``--child CLIENT`` is the measured process itself (no latency recording, nothing but the calls).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import CONVERTER_PATH, Targets, run_loop
from benchmarks.loadgen import _check, _headers
from benchmarks.servers import fixed_server

CLIENTS = ("aiohttp", "aiodji", "aiodji-bulk")
TOKEN = "bench-token"


async def _raw(url: str, targets: Targets, c: int, counts: list[int]) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=c)) as session:
        sem = asyncio.Semaphore(c)

        async def one(i: int) -> None:
            project, cid = targets[i % len(targets)]
            body = orjson.dumps({"auto_push_stream": True})
            headers = _headers(TOKEN, project)
            async with (
                sem,
                session.put(f"{url}{CONVERTER_PATH}/{cid}", data=body, headers=headers) as resp,
            ):
                raw = await resp.read()
            _check(resp.status, raw)

        for n in counts:
            await asyncio.gather(*(one(i) for i in range(n)))


async def _aiodji(url: str, targets: Targets, c: int, counts: list[int], bulk: bool) -> None:
    import aiodji

    async with aiodji.Client(
        token=TOKEN, base_url=url, allow_insecure_http=True, max_connections=c
    ) as dji:
        views = {p: dji.project(p).converters for p in {p for p, _ in targets}}
        for n in counts:
            if bulk:
                items = (targets[i % len(targets)] for i in range(n))
                run = dji.bulk.set_converters_enabled(items, enabled=True, concurrency=c)
                report = await run.run()
                if not report.ok:
                    raise RuntimeError(report.summary())
            else:
                await asyncio.gather(
                    *(
                        views[targets[i % len(targets)][0]].set_enabled(
                            targets[i % len(targets)][1], True
                        )
                        for i in range(n)
                    )
                )


def child(client: str, url: str, c: int, n: int, use_uvloop: bool) -> None:
    targets = [("bench-project", f"conv-{i}") for i in range(64)]
    counts = [max(4 * c, 300), n]  # warm-up (opens the connections), then the measured batch

    async def go() -> None:
        if client == "aiohttp":
            await _raw(url, targets, c, counts)
        else:
            await _aiodji(url, targets, c, counts, bulk=client == "aiodji-bulk")

    run_loop(go, use_uvloop)


def _instructions(argv: list[str]) -> int:
    """Total instructions (Ir) of one process run under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[3:6]} failed:\n{done.stderr[-3000:]}")
        match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if match is None:
            raise RuntimeError("no instruction total in the callgrind output")
        return int(match.group(1))


def per_request(url: str, client: str, c: int, n: int, use_uvloop: bool) -> float:
    def run(count: int) -> int:
        argv = [sys.executable, "-m", "benchmarks.instructions", "--child", client]
        argv += ["--url", url, "--concurrency", str(c), "--n", str(count)]
        argv += ["--uvloop"] if use_uvloop else []
        return _instructions(argv)

    return (run(3 * n) - run(n)) / (2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=CLIENTS)
    parser.add_argument("--url")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.concurrency[0], args.n, args.uvloop)
        return
    rows: list[dict[str, Any]] = []
    with fixed_server() as server:
        print(f"server: {server.kind}; {args.n}/{3 * args.n} requests", flush=True)
        loop = "uvloop" if args.uvloop else "asyncio"
        print(f"| C | client ({loop}) | instructions/req | × raw aiohttp |")
        print("|---:|---|---:|---:|")
        for c in args.concurrency:
            base = 0.0
            for client in args.clients:
                ir = per_request(server.url, client, c, args.n, args.uvloop)
                base = base or ir
                rows.append({"client": client, "concurrency": c, "uvloop": args.uvloop, "ir": ir})
                print(f"| {c} | {client} | {ir:,.0f} | {ir / base:.2f} |", flush=True)
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
