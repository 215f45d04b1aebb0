"""CPU per request and req/s where users measure them: raw aiohttp vs aiodji, interleaved.

``python -m benchmarks.cpu [--requests 10000] [--repeats 5] [--concurrency 64 256]
[--out speed]`` runs, against the fixed-reply server (nginx) on loopback, each of

* ``aiohttp``: raw aiohttp, a semaphore over a gather (the baseline);
* ``aiodji``: ``asyncio.gather`` of ``converters.set_enabled`` (the adaptive default limiter);
* ``aiodji-bulk``: the bulk engine, ``dji.bulk.set_converters_enabled``;
* ``aiodji-fixed``: the gather again with a fixed ``rate_limit=100000`` (never the bottleneck),

each run a fresh process measuring exactly ``--requests`` requests after a warm-up, runs
interleaved (A B C D A B C D …) so a neighbour's load falls on every client alike. CPU µs per
request is ``time.process_time()`` of the client process over the measured batch: on a shared
machine it is the steadier figure; req/s moves with whatever else runs. Ratios are taken per
repeat against the raw aiohttp run of the same repeat, then summarized (median and range).
Writes ``benchmarks/results/<out>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import summarize
from benchmarks.loadgen import FIXED_RATE, FIXED_RATE_CLIENT
from benchmarks.report import _range
from benchmarks.run import _child
from benchmarks.servers import cores, fixed_server

RESULTS = Path(__file__).parent / "results"
BASE = "aiohttp"
CLIENTS = (BASE, "aiodji", "aiodji-bulk", FIXED_RATE_CLIENT)
FIGURES = ("cpu_us", "rps")


def interleaved(
    url: str, requests: int, repeats: int, concurrency: list[int]
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Every client at every concurrency, ``repeats`` rounds; one fresh process per run."""
    targets = orjson.dumps([["bench-project", f"conv-{i}"] for i in range(64)]).decode()
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for rep in range(repeats):
        for c in concurrency:
            for client in CLIENTS:
                argv = ["--client", client, "--concurrency", str(c), "--url", url]
                argv += ["--token", "bench-token", "--targets", targets]
                argv += ["--requests", str(requests)]
                result = _child("benchmarks.loadgen", argv)
                runs.setdefault((client, c), []).append(result)
                print(
                    f"  [{rep + 1}/{repeats}] C={c:<4} {client:13} {result['rps']:7.0f} req/s"
                    f" {result['cpu_us']:6.1f} CPU us/req",
                    flush=True,
                )
    return runs


def rows_of(runs: dict[tuple[str, int], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per client and C: each figure's median/range, and its ratio to raw aiohttp per repeat."""
    rows = []
    for (client, c), results in runs.items():
        base = runs[(BASE, c)]
        row: dict[str, Any] = {"client": client, "concurrency": c}
        for fig in FIGURES:
            row[fig] = summarize([r[fig] for r in results])
            ratios = [r[fig] / b[fig] for r, b in zip(results, base, strict=True)]
            row[f"{fig}_ratio"] = summarize(ratios)
        rows.append(row)
    return rows


def render(report: dict[str, Any]) -> str:
    lines = [
        f"# CPU per request and req/s against {report['server']} ({report['date']})",
        "",
        f"{report['repeats']} interleaved runs of each client at each concurrency, "
        f"{report['requests']:,} measured requests per run (after a warm-up), each run a fresh "
        f"process; pinning: {report['pinning']}. Load average before/after: "
        f"{report['load_before']:.2f} / {report['load_after']:.2f} (the machine is shared with "
        "other engineers' test runs: req/s moves with their load, CPU per request much less). "
        "Median (range); × aiohttp is the ratio to the raw aiohttp run of the same round. "
        f"`aiodji-fixed` is the gather with `rate_limit={FIXED_RATE:.0f}`.",
        "",
        "| client | C | CPU µs/req | CPU × aiohttp | req/s | req/s × aiohttp |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    order = {name: i for i, name in enumerate(CLIENTS)}
    for row in sorted(report["rows"], key=lambda r: (r["concurrency"], order[r["client"]])):
        lines.append(
            f"| {row['client']} | {row['concurrency']} | {_range(row['cpu_us'], '.1f')} | "
            f"{_range(row['cpu_us_ratio'], '.2f')} | {_range(row['rps'], '.0f')} | "
            f"{_range(row['rps_ratio'], '.2f')} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--out", default="speed", help="results/<out>.json and .md")
    args = parser.parse_args()
    pair = cores()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "requests": args.requests,
        "repeats": args.repeats,
        "pinning": f"server on core {pair[0]}, clients on core {pair[1]}" if pair else "none",
        "load_before": os.getloadavg()[0],
    }
    with fixed_server() as server:
        report["server"] = server.kind
        print(f"server: {server.kind}", flush=True)
        runs = interleaved(server.url, args.requests, args.repeats, args.concurrency)
    report["load_after"] = os.getloadavg()[0]
    report["rows"] = rows_of(runs)
    report["runs"] = [
        {"client": client, "concurrency": c, "results": results}
        for (client, c), results in runs.items()
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    text = render(report)
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
