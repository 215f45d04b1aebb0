"""``python -m aiodji.sim``: serve the FlightHub 2 simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import math
import sys
from collections.abc import Sequence

from .options import count, port, rate, share
from .routes import AREA_NAMES
from .server import Simulator


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_schedule(value: str) -> list[tuple[float, float]]:
    """``0:40,6:200`` → ``[(0.0, 40.0), (6.0, 200.0)]``."""
    try:
        steps = [tuple(float(x) for x in part.split(":")) for part in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a schedule: {value!r}") from None
    if not steps or any(len(s) != 2 or not all(map(math.isfinite, s)) or s[1] <= 0 for s in steps):
        raise argparse.ArgumentTypeError(f"not a schedule (T:R,...): {value!r}")
    return [(s[0], s[1]) for s in steps]


def parse_areas(value: str) -> tuple[str, ...]:
    """``converters,open_models`` → ``("converters", "open_models")``, each a known area."""
    names = tuple(n.strip().replace("-", "_") for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in AREA_NAMES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown area {', '.join(unknown) or value!r} (areas: {', '.join(AREA_NAMES)})"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m aiodji.sim",
        description="In-memory FlightHub 2 OpenAPI simulator (local test server).",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=port, default=8080, help="port (0 = any free port)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument("--projects", type=count, default=3)
    p.add_argument("--docks-per-project", type=count, default=2)
    p.add_argument("--converters-per-project", type=count, default=2)
    p.add_argument(
        "--converter-limit", type=count, default=20, help="converters per organization (default 20)"
    )
    p.add_argument("--rate-limit", type=rate, default=None, help="requests/s (default: off)")
    p.add_argument("--rate-burst", type=rate, default=None, help="bucket size (max(1, rate/10))")
    p.add_argument(
        "--rate-limit-style",
        choices=("http", "business"),
        default="http",
        help="http: HTTP 429 + Retry-After; business: HTTP 200 with code 210429",
    )
    p.add_argument(
        "--rate-schedule",
        type=parse_schedule,
        default=None,
        metavar="T:R,...",
        help="the organization's rate over time, e.g. 0:40,6:200 (seconds:req/s)",
    )
    p.add_argument(
        "--tenant-share",
        type=share,
        default=0.0,
        help="share of the bucket another tenant consumes (0..1)",
    )
    p.add_argument(
        "--project-rate-limit", type=rate, default=None, help="req/s per project (default: off)"
    )
    p.add_argument("--project-rate-burst", type=rate, default=None)
    p.add_argument(
        "--retry-after",
        choices=("seconds", "none", "date"),
        default="seconds",
        help="429's Retry-After: whole seconds (default), absent, or an HTTP-date",
    )
    p.add_argument(
        "--noise-rate",
        type=share,
        default=0.0,
        help="probability of random rate-limit noise per request (0..1)",
    )
    p.add_argument(
        "--noise-style",
        choices=("http", "business", "mixed"),
        default="http",
        help="noise as HTTP 429 + Retry-After: 0, as HTTP 200 + code 210429, or both",
    )
    p.add_argument(
        "--http-errors", action="store_true", help="scope and not-found errors as HTTP 403/404 too"
    )
    p.add_argument(
        "--auth-style",
        choices=("http", "envelope"),
        default="http",
        help="a bad token: HTTP 401 as public gateways (default), or HTTP 200 + code 200401",
    )
    p.add_argument(
        "--unserved",
        type=parse_areas,
        default=(),
        metavar="AREA,...",
        help=f"areas this deployment does not serve (HTTP 404, empty body), e.g. converters "
        f"as the public EU gateway; areas: {', '.join(AREA_NAMES)}",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--token", default=None, help="organization key to accept (default: generated)")
    return p


async def _serve(args: argparse.Namespace) -> None:
    sim = Simulator(
        projects=args.projects,
        docks_per_project=args.docks_per_project,
        converters_per_project=args.converters_per_project,
        converter_limit=args.converter_limit,
        rate_limit=args.rate_limit,
        rate_burst=args.rate_burst,
        rate_limit_style=args.rate_limit_style,
        token=args.token,
        seed=args.seed,
        host=args.host,
        port=args.port,
        http_errors=args.http_errors,
        rate_schedule=args.rate_schedule,
        tenant_share=args.tenant_share,
        project_rate_limit=args.project_rate_limit,
        project_rate_burst=args.project_rate_burst,
        retry_after=args.retry_after,
        auth_style=args.auth_style,
        unserved=args.unserved,
    )
    sim.faults.rate_limit_noise = args.noise_rate
    sim.faults.rate_limit_noise_style = args.noise_style
    async with sim:
        st = sim.state
        print(f"FlightHub 2 simulator listening on {sim.url}", flush=True)
        print(f"token: {sim.token}", flush=True)
        print(
            f"organization {st.org_uuid}: {len(st.projects)} projects, "
            f"{len(st.devices)} devices, {len(st.converters)} converters "
            f"(limit {st.converter_limit})",
            flush=True,
        )
        for project in st.projects.values():
            print(f"  project {project.uuid}  {project.name}", flush=True)
        if sim.unserved:
            print(f"not served here (HTTP 404): {', '.join(sorted(sim.unserved))}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not _is_loopback(args.host) and not args.allow_remote:
        print(
            f"refusing to bind to non-loopback host {args.host!r} without --allow-remote",
            file=sys.stderr,
        )
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args))
    except OSError as exc:  # a busy port, a host we cannot bind: one line, not a traceback
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
