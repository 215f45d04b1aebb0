"""CPU per request and req/s where users measure them: raw aiohttp vs aiodji, interleaved.

``python -m benchmarks.cpu [--requests 10000] [--processes 5] [--rounds 2]
[--concurrency 64 256] [--out speed]`` measures, against the fixed-reply server (nginx) on
loopback, the converter ``set_enabled`` PUT sent by

* ``aiohttp``: raw aiohttp, a semaphore over a gather (the baseline);
* ``aiodji``: ``asyncio.gather`` of ``converters.set_enabled`` (the adaptive default limiter);
* ``aiodji-bulk``: the bulk engine, ``dji.bulk.set_converters_enabled``;
* ``aiodji-fixed``: the gather again with a fixed ``rate_limit=100000`` (never the bottleneck).

All four run in one client process (pinned to its core, nginx on the other), each with its own
session and connections, after a warm-up: ``--rounds`` rounds of one batch of ``--requests``
requests per client, the order rotated each round (A B C D, B C D A, …), ``gc.collect()``
before each batch; aiodji with the Client's own limiter (no latency recording). CPU µs per
request is ``time.process_time()`` over the batch, so it is taken in the same process as raw
aiohttp's; on a machine shared with other work it is the steadier figure, req/s moves with
whatever else runs. ``--processes`` fresh processes per concurrency,
interleaved between concurrencies. Each batch's ratio is to the raw aiohttp batch of the same
round; the table gives the median and the range over every round. Writes
``benchmarks/results/<out>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import emit, summarize
from benchmarks.loadgen import FIXED_RATE, FIXED_RATE_CLIENT, batches_of
from benchmarks.report import _range
from benchmarks.run import _child
from benchmarks.servers import cores, fixed_server

RESULTS = Path(__file__).parent / "results"
BASE = "aiohttp"
CLIENTS = (BASE, "aiodji", "aiodji-bulk", FIXED_RATE_CLIENT)
FIGURES = ("cpu_us", "rps", "gc_us")
RATIOS = ("cpu_us", "rps")  # taken per round against raw aiohttp
TARGETS = [("bench-project", f"conv-{i}") for i in range(64)]


class GcClock:
    """Seconds spent in the cyclic garbage collector (``gc.callbacks``), wall clock."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


async def one_process(url: str, c: int, requests: int, rounds: int) -> dict[str, Any]:
    """Every client's batches in this process, interleaved: ``{client: [round results]}``."""
    out: dict[str, list[dict[str, float]]] = {name: [] for name in CLIENTS}
    gc_clock = GcClock()
    async with contextlib.AsyncExitStack() as stack:
        batches = {
            name: await stack.enter_async_context(
                batches_of(name, url, "t", TARGETS, c, timed=False)
            )
            for name in CLIENTS
        }
        for batch in batches.values():  # open the connections, warm every path
            await batch(max(4 * c, 1000))
        for r in range(rounds):
            for k in range(len(CLIENTS)):
                name = CLIENTS[(r + k) % len(CLIENTS)]
                gc.collect()
                gc_clock.seconds = 0.0
                cpu0, t0 = time.process_time(), time.perf_counter()
                await batches[name](requests)
                wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                figures = {"rps": requests / wall, "cpu_us": cpu / requests * 1e6}
                figures["gc_us"] = gc_clock.seconds / requests * 1e6
                out[name].append(figures)
    return out


def collect(url: str, args: argparse.Namespace) -> dict[int, dict[str, list[dict[str, float]]]]:
    """``--processes`` fresh client processes per concurrency, interleaved across them (and
    with ``--against``'s checkout: its clients are named ``<client>@<label>``)."""
    trees = [(None, "")] + ([(args.against, "@" + args.label)] if args.against else [])
    runs: dict[int, dict[str, list[dict[str, float]]]] = {}
    for p in range(args.processes):
        for c in args.concurrency:
            for cwd, suffix in trees:
                child = ["--child", "--url", url, "--concurrency", str(c)]
                child += ["--requests", str(args.requests), "--rounds", str(args.rounds)]
                result = _child("benchmarks.cpu", child, cwd=cwd)
                per = runs.setdefault(c, {})
                for name in CLIENTS:
                    per.setdefault(name + suffix, []).extend(result[name])
                line = " ".join(
                    f"{name}={sum(x['cpu_us'] for x in result[name]) / args.rounds:.0f}"
                    for name in CLIENTS
                )
                print(
                    f"  [{p + 1}/{args.processes}] C={c:<4}{suffix} CPU us/req {line}", flush=True
                )
    return runs


def rows_of(runs: dict[int, dict[str, list[dict[str, float]]]]) -> list[dict[str, Any]]:
    """Per client and C: each figure's median/range, and its ratio to raw aiohttp per round
    (the raw aiohttp of the same process and round: ``aiohttp@<label>`` for a label's rows)."""
    rows = []
    for c, per in runs.items():
        for name, results in per.items():
            base = per[BASE + name[len(name.split("@")[0]) :]]
            row: dict[str, Any] = {"client": name, "concurrency": c, "batches": len(results)}
            for fig in FIGURES:
                row[fig] = summarize([r[fig] for r in results])
            for fig in RATIOS:
                ratios = [r[fig] / b[fig] for r, b in zip(results, base, strict=True)]
                row[f"{fig}_ratio"] = summarize(ratios)
            rows.append(row)
    return rows


def _against(report: dict[str, Any]) -> str:
    if not report.get("against"):
        return ""
    return (
        f" `<client>@{report['label']}`: the same client run from another checkout "
        f"({report['against']}), its processes interleaved with these."
    )


def render(report: dict[str, Any]) -> str:
    lines = [
        f"# CPU per request and req/s against {report['server']} ({report['date']})",
        "",
        f"{report['processes']} client processes per concurrency, each running the four clients "
        f"interleaved for {report['rounds']} rounds of {report['requests']:,} requests per "
        f"client (after a warm-up): {report['processes'] * report['rounds']} batches per row. "
        f"Pinning: {report['pinning']}. Load average before/after: "
        f"{report['load_before']:.2f} / {report['load_after']:.2f} (2 cores shared with other "
        "engineers' test runs: req/s moves with their load, CPU per request much less). "
        "Median (range); × aiohttp: the ratio to the raw aiohttp batch of the same round. "
        f"`aiodji-fixed` is the gather with `rate_limit={FIXED_RATE:.0f}`.{_against(report)}",
        "",
        "GC µs/req: time in the cyclic garbage collector per request (part of the CPU figure; "
        "a gather keeps every waiting call alive, so the collector walks them all).",
        "",
        "| client | C | CPU µs/req | CPU × aiohttp | req/s | req/s × aiohttp | GC µs/req |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    order = {name: i for i, name in enumerate(CLIENTS)}

    def key(row: dict[str, Any]) -> tuple[int, bool, int]:
        name, _, label = row["client"].partition("@")
        return row["concurrency"], bool(label), order[name]

    for row in sorted(report["rows"], key=key):
        lines.append(
            f"| {row['client']} | {row['concurrency']} | {_range(row['cpu_us'], '.1f')} | "
            f"{_range(row['cpu_us_ratio'], '.2f')} | {_range(row['rps'], '.0f')} | "
            f"{_range(row['rps_ratio'], '.2f')} | {_range(row['gc_us'], '.0f')} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--out", default="speed", help="results/<out>.json and .md")
    parser.add_argument("--against", help="another checkout's directory, run interleaved")
    parser.add_argument("--label", default="before", help="its clients' suffix: name@label")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        c = args.concurrency[0]
        emit(asyncio.run(one_process(args.url, c, args.requests, args.rounds)))
        return
    pair = cores()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
        "requests": args.requests,
        "processes": args.processes,
        "rounds": args.rounds,
        "pinning": f"server on core {pair[0]}, clients on core {pair[1]}" if pair else "none",
        "load_before": os.getloadavg()[0],
        "against": args.against,
        "label": args.label,
    }
    with fixed_server() as server:
        report["server"] = server.kind
        print(f"server: {server.kind}", flush=True)
        runs = collect(server.url, args)
    report["load_after"] = os.getloadavg()[0]
    report["rows"] = rows_of(runs)
    report["runs"] = {str(c): per for c, per in runs.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    text = render(report)
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
