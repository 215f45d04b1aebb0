"""The simulator in its own process for the benchmarks.

``python -m benchmarks.sim_server [--rate-limit R]`` prints one JSON line ``{"url", "token",
"targets": [[project_uuid, converter_id], ...]}`` once listening, then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

import orjson

from aiodji.sim import Simulator
from aiodji.sim.__main__ import parse_schedule


async def _serve(args: argparse.Namespace) -> None:
    projects, converters = args.projects, args.converters_per_project
    sim = Simulator(
        projects=projects,
        docks_per_project=2,
        converters_per_project=converters,
        converter_limit=projects * converters,
        rate_limit=args.rate_limit,
        rate_schedule=args.rate_schedule,
        tenant_share=args.tenant_share,
        retry_after=args.retry_after,
    )
    sim.faults.rate_limit_noise = args.noise_rate
    sim.faults.rate_limit_noise_style = args.noise_style
    async with sim:
        targets = [[c.project_uuid, c.converter_id] for c in sim.state.converters.values()]
        line = {"url": sim.url, "token": sim.token, "targets": targets}
        sys.stdout.buffer.write(orjson.dumps(line) + b"\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--converters-per-project", type=int, default=4)
    parser.add_argument("--rate-schedule", type=parse_schedule, default=None)
    parser.add_argument("--tenant-share", type=float, default=0.0)
    parser.add_argument("--retry-after", default="seconds")
    parser.add_argument("--noise-rate", type=float, default=0.0)
    parser.add_argument("--noise-style", default="http")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
