"""Run every benchmark and write ``benchmarks/results/latest.md`` + ``latest.json``.

``python -m benchmarks.run`` (``make bench``): the full run, several repeats.
``python -m benchmarks.run --quick`` (``make bench-quick``): one short repeat of everything,
written to ``results/quick.md`` / ``quick.json`` so the committed full run stays.

Servers and clients run in separate processes, pinned to different cores with ``taskset`` when
there are two; each client run is a fresh process.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from benchmarks import ratecontrol
from benchmarks.common import summarize
from benchmarks.loadgen import ASYNC_ON_AIOHTTP, CLIENTS
from benchmarks.report import render
from benchmarks.servers import cores, fixed_server, pinned, sim_server

RESULTS = Path(__file__).parent / "results"
CONCURRENCY = (1, 10, 64, 256)
FIGURES = ("rps", "p50_ms", "p99_ms", "cpu_us")


def _child(module: str, args: list[str], cwd: str | None = None) -> dict[str, Any]:
    """One client process (``cwd``: another checkout's code, for an A/B of two versions)."""
    argv = pinned([sys.executable, "-m", module, *args], "client")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError(f"{module} {args[:2]} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return result


def _probe(kind: str, url: str, token: str, targets: str, **options: object) -> dict[str, Any]:
    """One :mod:`benchmarks.probes` run; ``options`` become ``--name value`` flags."""
    args = [kind, "--url", url, "--token", token, "--targets", targets]
    for name, value in options.items():
        args += [f"--{name}", str(value)]
    return _child("benchmarks.probes", args)


def _variants(have_bulk: bool) -> Iterator[tuple[str, bool]]:
    for client in CLIENTS:
        if client == "aiodji-bulk" and not have_bulk:
            continue
        yield client, False
        if client in ASYNC_ON_AIOHTTP:
            yield client, True


def _label(client: str, uvloop: bool) -> str:
    return f"{client} + uvloop" if uvloop else client


def throughput(url: str, repeats: int, seconds: float, have_bulk: bool) -> list[dict[str, Any]]:
    """Every client × loop × concurrency, ``repeats`` times (repeats interleaved)."""
    targets = orjson.dumps([["bench-project", f"conv-{i}"] for i in range(64)]).decode()
    runs: dict[tuple[str, bool, int], list[dict[str, Any]]] = {}
    for rep in range(repeats):
        for client, uvloop in _variants(have_bulk):
            for c in CONCURRENCY:
                args = ["--client", client, "--concurrency", str(c), "--url", url]
                args += ["--token", "bench-token", "--targets", targets]
                args += ["--seconds", str(seconds)] + (["--uvloop"] if uvloop else [])
                result = _child("benchmarks.loadgen", args)
                runs.setdefault((client, uvloop, c), []).append(result)
                print(
                    f"  [{rep + 1}/{repeats}] {_label(client, uvloop):22} C={c:<4}"
                    f" {result['rps']:9.0f} req/s",
                    flush=True,
                )
    rows = []
    for (client, uvloop, c), results in runs.items():
        row: dict[str, Any] = {"client": _label(client, uvloop), "concurrency": c}
        for fig in FIGURES:
            row[fig] = summarize([r[fig] for r in results])
        rows.append(row)
    # ratio to raw aiohttp on the same loop and concurrency, in the same run
    base = {
        (r["client"].endswith("uvloop"), r["concurrency"]): r
        for r in rows
        if r["client"].split(" ")[0] == "aiohttp"
    }
    for row in rows:
        ref = base.get((row["client"].endswith("uvloop"), row["concurrency"]))
        if row["client"] in ("httpx", "requests"):
            ref = base.get((False, row["concurrency"]))
        if ref is not None:
            row["ratio"] = {
                fig: row[fig]["median"] / ref[fig]["median"]
                for fig in FIGURES
                if ref[fig]["median"]
            }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short repeat (< 2 minutes)")
    args = parser.parse_args()
    quick = args.quick
    started = time.monotonic()
    repeats, seconds = (1, 0.5) if quick else (3, 2.0)
    have_bulk = _has_bulk()
    report: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "pinning": "server on core {}, clients on core {}".format(*pair)
            if (pair := cores())
            else "none (fewer than two cores or no taskset)",
            "load_before": os.getloadavg(),
        },
        "repeats": repeats,
    }
    with fixed_server() as fixed:
        report["fixed_server"] = fixed.kind
        print(f"throughput against {fixed.kind} ({repeats} repeat(s))", flush=True)
        report["throughput"] = throughput(fixed.url, repeats, seconds, have_bulk)
        print("limiter accuracy", flush=True)
        t = orjson.dumps([["bench-project", "conv-1"]]).decode()
        report["limiter"] = [
            _probe("limiter", fixed.url, "x", t, rate=rate, seconds=2 if quick else 4)
            for rate in (50, 200, 1000)
        ]
        print("scale: bulk toggle", flush=True)
        sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
        report["bulk_scale"] = (
            [_probe("bulk", fixed.url, "x", t, items=n, concurrency=64) for n in sizes]
            if have_bulk
            else []
        )
    print("rate control scenarios (issue 10)", flush=True)
    report["ratecontrol"] = ratecontrol.scenarios(quick)
    print("scale: gather of 10,000 calls against the simulator", flush=True)
    with sim_server() as sim:
        targets = orjson.dumps(sim.targets).decode()
        report["gather_scale"] = _probe(
            "gather", sim.url, sim.token, targets, items=10_000, concurrency=64
        )
    report["machine"]["load_after"] = os.getloadavg()
    report["seconds"] = time.monotonic() - started
    name = "quick" if quick else "latest"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    (RESULTS / f"{name}.md").write_text(render(report))
    print(f"wrote {RESULTS / name}.md and .json in {report['seconds']:.0f}s")


def _has_bulk() -> bool:
    import aiodji

    return hasattr(aiodji.Client, "bulk")


if __name__ == "__main__":
    main()
