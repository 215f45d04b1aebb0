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


async def _serve(rate_limit: float | None, projects: int, converters: int) -> None:
    sim = Simulator(
        projects=projects,
        docks_per_project=2,
        converters_per_project=converters,
        converter_limit=projects * converters,
        rate_limit=rate_limit,
    )
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
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.rate_limit, args.projects, args.converters_per_project))


if __name__ == "__main__":
    main()
