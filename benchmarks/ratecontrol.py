"""Rate-control scenarios (issue 10) in real time against the simulator on loopback.

``python -m benchmarks.ratecontrol [--quick]`` prints and writes ``results/ratecontrol.md`` (+
``.json``); :mod:`benchmarks.run` includes the same rows. Each scenario: the simulator in its own
process with one server behaviour, and a Client process (``benchmarks.probes rate``) running
``CONCURRENCY`` workers that toggle converters as fast as allowed (a bulk job, no rate_limit).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.servers import fixed_server, pinned, sim_server

RESULTS = Path(__file__).parent / "results"
CONCURRENCY = 16


def _client(url: str, token: str, targets: str, seconds: float) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "benchmarks.probes", "rate", "--url", url, "--token", token]
    argv += ["--targets", targets, "--seconds", str(seconds), "--concurrency", str(CONCURRENCY)]
    return subprocess.Popen(pinned(argv, "client"), stdout=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError("the rate probe failed")
    result: dict[str, Any] = orjson.loads(out.strip().splitlines()[-1])
    return result


def _run(seconds: float, rate: float | None, *flags: str, clients: int = 1) -> list[dict[str, Any]]:
    with sim_server(rate, *flags) as sim:
        targets = orjson.dumps(sim.targets).decode()
        procs = [_client(sim.url, sim.token, targets, seconds) for _ in range(clients)]
        return [_result(p) for p in procs]


def _rate(r: dict[str, Any], start: float, end: float) -> float:
    """Accepted req/s between ``start`` and ``end`` (seconds of the run)."""
    slots = r["accepted"]  # per SLOT
    a, b = round(start / r["slot"]), min(len(slots), round(end / r["slot"]))
    return sum(slots[a:b]) / ((b - a) * r["slot"]) if b > a else 0.0


def _limited_share(r: dict[str, Any], start: float) -> float:
    """Rate-limited answers / attempts from ``start`` on."""
    i = round(start / r["slot"])
    limited = sum(r["limited"][i:])
    return limited / max(1, limited + sum(r["accepted"][i:]))


def scenarios(quick: bool) -> list[dict[str, Any]]:
    """Every row of issue 10's table: figure, target and whether it is met."""
    s = 10.0 if quick else 20.0
    change = 5.0 if quick else 8.0
    rows: list[dict[str, Any]] = []

    def row(name: str, figure: str, target: str, ok: bool) -> None:
        rows.append({"scenario": name, "figure": figure, "target": target, "ok": ok})
        print(f"  {name}: {figure} (target {target}) {'ok' if ok else 'MISSED'}", flush=True)

    free = _run(s, None)[0]
    noisy = _run(s, None, "--noise-rate", "0.03", "--noise-style", "mixed")[0]
    ratio = _rate(noisy, 2, s) / max(1e-9, _rate(free, 2, s))
    row(
        "3 % noise (429 Retry-After: 0 and 200 + 210429), no limit",
        f"{ratio * 100:.0f} % of the noise-free {_rate(free, 2, s):.0f} req/s",
        "≥ 70 %",
        ratio >= 0.7,
    )
    shared = _run(s, 100)[0]
    got, share = _rate(shared, 5, s), _limited_share(shared, 0)
    row(
        "shared bucket 100 req/s, Retry-After: 1",
        f"{got:.0f} % of the limit after 5 s; {share * 100:.1f} % rate limited",
        "≥ 90 %; ≤ 3 %",
        got >= 90 and share <= 0.03,
    )
    rise = _run(s, None, "--rate-schedule", f"0:40,{change}:200")[0]
    got = _rate(rise, min(change + 10, s - 1), s)
    row(
        "limit rises 40 → 200 req/s",
        f"{got / 2:.0f} % of the new limit from 10 s after the change",
        "≥ 90 % within 10 s",
        got >= 180,
    )
    drop = _run(s, None, "--rate-schedule", f"0:200,{change}:40")[0]
    share = _limited_share(drop, change + 3)
    row(
        "limit drops 200 → 40 req/s",
        f"{share * 100:.1f} % rate limited from 3 s after the change "
        f"({_rate(drop, change + 3, s):.0f} req/s accepted)",
        "≤ 5 %",
        share <= 0.05,
    )
    a, b = _run(s, 100, clients=2)
    ra, rb = _rate(a, 5, s), _rate(b, 5, s)
    row(
        "two Clients in two processes, one 100 req/s bucket",
        f"together {ra + rb:.0f} % of the limit; {ra:.0f} % and {rb:.0f} %",
        "≥ 85 %; neither < 35 %",
        ra + rb >= 85 and min(ra, rb) >= 35,
    )
    return rows


def limiter_rows(quick: bool) -> list[dict[str, Any]]:
    """``rate_limit=`` 50 / 200 / 1,000 against the fixed-reply server (the limiter probe)."""
    from benchmarks.run import _probe

    t = orjson.dumps([["bench-project", "conv-1"]]).decode()
    with fixed_server() as fixed:
        return [
            _probe("limiter", fixed.url, "x", t, rate=rate, seconds=2 if quick else 4)
            for rate in (50, 200, 1000)
        ]


def render(rows: list[dict[str, Any]], limiter: list[dict[str, Any]] | None = None) -> list[str]:
    out = ["| scenario | measured | target | met |", "|---|---|---|---|"]
    for r in rows:
        out.append(
            f"| {r['scenario']} | {r['figure']} | {r['target']} | {'yes' if r['ok'] else 'NO'} |"
        )
    for r in limiter or []:
        ok = abs(r["error_pct"]) <= 2 and r["max_in_100ms"] <= r["allowed_in_100ms"]
        out.append(
            f"| `rate_limit={r['configured']:.0f}` | {r['achieved']:.1f} req/s "
            f"({r['error_pct']:+.2f} %; {r.get('overall', r['achieved']):.1f} from the first "
            f"request), most in 100 ms {r['max_in_100ms']} of "
            f"{r['allowed_in_100ms']:.0f} allowed | ±2 %, ≤ allowed | {'yes' if ok else 'NO'} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only-limiter", action="store_true", help="the rate_limit= rows only")
    args = parser.parse_args()
    started = time.monotonic()
    name = "ratecontrol-quick" if args.quick else "ratecontrol"
    path = RESULTS / f"{name}.json"
    if args.only_limiter and path.exists():
        rows = orjson.loads(path.read_bytes())["rows"]  # keep the scenarios of the last run
    else:
        rows = scenarios(args.quick)
    limiter = limiter_rows(args.quick)
    RESULTS.mkdir(exist_ok=True)
    report = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "rows": rows, "limiter": limiter}
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    title = f"# Rate control scenarios ({report['date']})"
    text = "\n".join([title, "", *render(rows, limiter), ""])
    (RESULTS / f"{name}.md").write_text(text)
    print(text)
    print(f"{time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
