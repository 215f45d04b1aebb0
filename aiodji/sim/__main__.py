"""``python -m aiodji.sim``: serve the FlightHub 2 simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import sys
from collections.abc import Sequence

from .server import Simulator


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m aiodji.sim",
        description="In-memory FlightHub 2 OpenAPI simulator (local test server).",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument("--projects", type=int, default=3)
    p.add_argument("--docks-per-project", type=int, default=2)
    p.add_argument("--converters-per-project", type=int, default=2)
    p.add_argument(
        "--converter-limit", type=int, default=20, help="converters per organization (default 20)"
    )
    p.add_argument("--rate-limit", type=float, default=None, help="requests/s (default: off)")
    p.add_argument("--rate-burst", type=float, default=None, help="bucket size (max(1, rate/10))")
    p.add_argument(
        "--rate-limit-style",
        choices=("http", "business"),
        default="http",
        help="http: HTTP 429 + Retry-After; business: HTTP 200 with code 210429",
    )
    p.add_argument("--http-errors", action="store_true", help="auth errors as HTTP 401/403/404")
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
    )
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
