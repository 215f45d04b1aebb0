"""Render a benchmark run (the JSON of :mod:`benchmarks.run`) as the Markdown of results/."""

from __future__ import annotations

from typing import Any

from benchmarks import ratecontrol


def _range(fig: dict[str, float], fmt: str) -> str:
    if fig["min"] == fig["max"]:
        return format(fig["median"], fmt)
    return f"{fig['median']:{fmt}} ({fig['min']:{fmt}}–{fig['max']:{fmt}})"


def throughput_table(rows: list[dict[str, Any]], repeats: int) -> list[str]:
    out = [
        "| client | C | req/s | × aiohttp | p50 ms | p99 ms | CPU µs/req |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda r: (r["concurrency"], r["client"])):
        ratio = row.get("ratio", {}).get("rps")
        out.append(
            f"| {row['client']} | {row['concurrency']} | {_range(row['rps'], '.0f')} | "
            f"{ratio:.2f} | {_range(row['p50_ms'], '.2f')} | {_range(row['p99_ms'], '.2f')} | "
            f"{_range(row['cpu_us'], '.0f')} |"
            if ratio is not None
            else f"| {row['client']} | {row['concurrency']} | {_range(row['rps'], '.0f')} | – | "
            f"{_range(row['p50_ms'], '.2f')} | {_range(row['p99_ms'], '.2f')} | "
            f"{_range(row['cpu_us'], '.0f')} |"
        )
    if repeats > 1:
        out.append("")
        out.append(f"Median of {repeats} runs, range in brackets.")
    return out


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# aiodji benchmarks ({report['mode']} run, {report['date']})",
        "",
        f"Python {m['python']} on {m['platform']}, {m['cpus']} CPUs; pinning: {m['pinning']}. "
        f"Load average before/after: {m['load_before'][0]:.2f} / {m['load_after'][0]:.2f}. "
        f"Took {report['seconds']:.0f} s.",
        "",
        f"## Throughput: converter `set_enabled` PUT against {report['fixed_server']}",
        "",
        "× aiohttp: requests/s relative to raw aiohttp on the same event loop and concurrency "
        "(httpx and requests: relative to raw aiohttp on asyncio).",
        "",
        *throughput_table(report["throughput"], report["repeats"]),
        "",
        "## Limiter accuracy (rate configured)",
        "",
        "| configured req/s | achieved req/s | error | burst | most in 100 ms "
        "| allowed in 100 ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["limiter"]:
        lines.append(
            f"| {r['configured']:.0f} | {r['achieved']:.1f} | {r['error_pct']:+.2f} % | "
            f"{r['burst']} | {r['max_in_100ms']} | {r['allowed_in_100ms']:.0f} |"
        )
    lines += [
        "",
        "## Rate control (issue 10: no rate configured unless shown; simulator on loopback)",
        "",
        *ratecontrol.render(report.get("ratecontrol", []), report["limiter"]),
        "",
    ]
    lines += ["", "## Scale", ""]
    if report["bulk_scale"]:
        lines += [
            "| bulk toggle items | time s | req/s | failed | peak RSS growth MB |",
            "|---:|---:|---:|---:|---:|",
        ]
        for r in report["bulk_scale"]:
            lines.append(
                f"| {r['items']:,} | {r['seconds']:.1f} | {r['rps']:.0f} | {r['failed']} | "
                f"{r['rss_growth_mb']:.1f} |"
            )
    else:
        lines.append("Bulk engine not available in this checkout: bulk scale not measured.")
    g = report["gather_scale"]
    lines += [
        "",
        f"Gather of {g['items']:,} calls with {g['connections']} connections against the "
        f"simulator: {g['seconds']:.1f} s ({g['rps']:.0f} req/s), **{g['timeouts']} timeouts**, "
        f"{g['other_errors']} other errors, peak RSS growth {g['rss_growth_mb']:.1f} MB.",
        "",
    ]
    return "\n".join(lines)
