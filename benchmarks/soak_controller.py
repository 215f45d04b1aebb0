"""Soak the reconcile loop against the simulator with faults: ``python benchmarks/soak_controller.py
--minutes 10``. Drift is injected all along (converters flipped, the created one deleted,
devices offline/online); prints cycles, drift found/repaired, requests, faults, memory."""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import aiodji
from aiodji.controller import Reconciler
from aiodji.controller.metrics import Metrics
from aiodji.sim import Simulator
from aiodji.sim.faults import Faults

DESIRED = """
converter_limit = 100
[[converters]]
projects = "all"
enabled = true

[[create]]
project = "Project 01"
name = "soak-new"
sn = "1581F001D0010001"
camera_index = "81-0-0"
url = "rtmp://media.example/live/soak"
"""


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def inject(sim: Simulator, stop: asyncio.Event, every: float, counts: dict[str, int]) -> None:
    rng = random.Random(7)
    while not stop.is_set():
        await asyncio.sleep(every)
        ids = list(sim.state.converters)
        what = rng.choice(["flip", "delete", "device"])
        if what == "flip" and ids:
            sim.state.set_converter_enabled(rng.choice(ids), False)
        elif what == "delete":
            created = sim.state.converter_by_name("soak-new")
            if created is None:
                continue
            sim.state.destroy_converter(created.converter_id)
        else:
            sn = rng.choice([c.sn for c in sim.state.converters.values()])
            sim.state.set_device_online(sn, False)
            sim.state.set_converter_enabled(
                next(c.converter_id for c in sim.state.converters.values() if c.sn == sn), False
            )
            await asyncio.sleep(every / 2)
            sim.state.set_device_online(sn, True)
        counts[what] += 1


async def main(minutes: float, interval: float, fault_rate: float) -> None:
    faults = Faults(error_rate=fault_rate, seed=1)
    async with Simulator(
        projects=5,
        docks_per_project=4,
        converters_per_project=8,
        converter_limit=100,
        faults=faults,
    ) as sim:
        with tempfile.TemporaryDirectory() as tmp:
            desired = Path(tmp) / "desired.toml"
            desired.write_text(DESIRED)
            metrics = Metrics()
            async with aiodji.Client(token=sim.token, base_url=sim.url, hooks=metrics.hooks) as dji:
                rec = Reconciler(
                    dji.fleet,
                    desired,
                    interval=interval,
                    full_relist_every=10,
                    journal=Path(tmp) / "journal.jsonl",
                    observer=metrics,
                )
                counts = {"flip": 0, "delete": 0, "device": 0}
                stop = asyncio.Event()
                injector = asyncio.create_task(inject(sim, stop, interval * 3, counts))
                start_rss = rss_mib()
                started = time.monotonic()
                runner = asyncio.create_task(rec.run())
                await asyncio.sleep(minutes * 60)
                stop.set()
                rec.stop.set()
                await injector
                stats = await runner
                # a last clean cycle: whatever drift is left must be repaired
                sim.faults.error_rate = 0.0
                rec.force_full_relist()
                rec.stop.clear()
                final = await rec.cycle()
                end_rss = rss_mib()
        elapsed = time.monotonic() - started
        names = [c.converter_name for c in sim.state.converters.values()]
        print(f"soak {elapsed / 60:.1f} min, interval {interval}s, faults {fault_rate:.0%}")
        print(
            f"cycles {stats.cycles} (failed {stats.failed_cycles}, "
            f"full relists {stats.full_relists})"
        )
        print(f"drift injected {sum(counts.values())} {counts}")
        print(f"drift found {stats.drift_found}, changes applied {stats.changes_applied}")
        print(
            f"final cycle: ok={final.ok} drift={final.drift}; in sync after: "
            f"{all(c.auto_push_stream for c in sim.state.converters.values())}, "
            f"'soak-new' x{names.count('soak-new')}"
        )
        print(f"requests {sim.stats.total}, faults served {sum(sim.stats.faults.values())}")
        print(f"memory RSS start {start_rss:.1f} MiB, end {end_rss:.1f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--faults", type=float, default=0.01)
    args = parser.parse_args()
    asyncio.run(main(args.minutes, args.interval, args.faults))
