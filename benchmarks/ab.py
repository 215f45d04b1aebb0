"""A quick side-by-side: raw aiohttp vs aiodji (gather, bulk) against the fixed-reply server.

``python -m benchmarks.ab [--seconds 2] [--repeats 3] [--uvloop]``: each client in a fresh
process, repeats interleaved, one server for the whole run; prints median req/s, CPU µs per
request and the ratios to raw aiohttp of the same run (for profiling work; ``make bench`` is
the full table).
"""

from __future__ import annotations

import argparse
import statistics

import orjson

from benchmarks.run import _child
from benchmarks.servers import fixed_server

CLIENTS = ("aiohttp", "aiodji", "aiodji-bulk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    targets = orjson.dumps([["bench-project", f"conv-{i}"] for i in range(64)]).decode()
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    with fixed_server() as server:
        print(f"server: {server.kind}", flush=True)
        for _ in range(args.repeats):
            for c in args.concurrency:
                for client in CLIENTS:
                    argv = ["--client", client, "--concurrency", str(c), "--url", server.url]
                    argv += ["--token", "bench-token", "--targets", targets]
                    argv += ["--seconds", str(args.seconds)]
                    argv += ["--uvloop"] if args.uvloop else []
                    runs.setdefault((client, c), []).append(_child("benchmarks.loadgen", argv))
    for c in args.concurrency:
        base = runs[("aiohttp", c)]
        base_rps = statistics.median(r["rps"] for r in base)
        base_cpu = statistics.median(r["cpu_us"] for r in base)
        for client in CLIENTS:
            rps = statistics.median(r["rps"] for r in runs[(client, c)])
            cpu = statistics.median(r["cpu_us"] for r in runs[(client, c)])
            print(
                f"C={c:<4} {client:12} {rps:8.0f} req/s ({rps / base_rps:4.2f}x)"
                f"  {cpu:6.1f} us/req ({cpu / base_cpu:4.2f}x)",
                flush=True,
            )


if __name__ == "__main__":
    main()
