"""The reconcile loop against the simulator, with a real scrape of its metrics endpoint.

Cycles are driven directly (``await rec.cycle()``) or with a tiny interval: no test sleeps
for long, none asserts timing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

import aiodji
from aiodji.controller import Reconciler
from aiodji.controller.health import serve_metrics
from aiodji.controller.metrics import Metrics
from aiodji.fleet import read_journal
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

SECRET = "SECRETSTREAMKEY"
DESIRED = f"""
[[converters]]
projects = "all"
enabled = true

[[create]]
project = "Project 01"
name = "ctl-new"
sn = "1581F001D0010001"
camera_index = "81-0-0"
url = "rtmp://media.example/live/{SECRET}"
"""


@pytest.fixture
def desired_file(tmp_path: Path) -> Path:
    path = tmp_path / "desired.toml"
    path.write_text(DESIRED)
    return path


@pytest.fixture
async def metrics_client(sim: Simulator) -> AsyncIterator[tuple[aiodji.Client, Metrics]]:
    metrics = Metrics()
    async with aiodji.Client(
        token=sim.token, base_url=sim.url, hooks=metrics.hooks, max_retries=0
    ) as dji:
        metrics.watch_limiter(dji.limiter)
        yield dji, metrics


def write(path: Path, text: str) -> None:
    path.write_text(text)


def in_sync(sim: Simulator) -> bool:
    names = [c.converter_name for c in sim.state.converters.values()]
    return names.count("ctl-new") == 1 and all(
        c.auto_push_stream for c in sim.state.converters.values()
    )


async def scrape(port: int) -> tuple[dict[str, float], str]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        text = await resp.text()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + (
                "{" + ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())) + "}"
                if sample.labels
                else ""
            )
            samples[key] = sample.value
    return samples, text


def total(samples: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(prefix))


async def test_drift_is_repaired_within_one_cycle_and_metrics_show_it(
    sim: Simulator,
    metrics_client: tuple[aiodji.Client, Metrics],
    desired_file: Path,
    tmp_path: Path,
) -> None:
    dji, metrics = metrics_client
    journal = tmp_path / "journal.jsonl"
    rec = Reconciler(
        dji.fleet, desired_file, full_relist_every=1, journal=journal, observer=metrics
    )
    rec._maybe_reload()
    first = await rec.cycle()
    assert first.ok and first.drift > 0 and in_sync(sim)
    assert (await rec.cycle()).drift == 0  # level-triggered: nothing left to do

    # drift: a converter flipped in the web app, the created one deleted
    flipped = next(iter(sim.state.converters))
    sim.state.set_converter_enabled(flipped, False)
    created = sim.state.converter_by_name("ctl-new")
    assert created is not None
    sim.state.destroy_converter(created.converter_id)
    report = await rec.cycle()
    assert report.ok and report.drift == 2 and in_sync(sim)

    runner, port = await serve_metrics(metrics, 0)
    try:
        samples, text = await scrape(port)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200
            async with s.get(f"http://127.0.0.1:{port}/readyz") as r:
                assert r.status == 200
    finally:
        await runner.cleanup()
    assert samples["aiodji_reconcile_cycles_total{result=ok}"] == 3
    assert samples["aiodji_reconcile_drift_total"] == first.drift + 2
    assert samples["aiodji_reconcile_changes_applied_total"] == first.drift + 2
    assert samples["aiodji_reconcile_last_success_timestamp_seconds"] > 0
    assert total(samples, "aiodji_bulk_items_total{action=create,state=succeeded}") == 2
    put = (
        "aiodji_requests_total{code=0,method=PUT,"
        "route=/openapi/v0.1/live-stream/converter/{converter_id},status=200}"
    )
    assert samples[put] >= 1
    assert total(samples, "aiodji_limiter_queue_wait_seconds_count") > 0
    assert "aiodji_limiter_rate" in samples
    for secret in (sim.token, SECRET, flipped):
        assert secret not in text
    assert read_journal(journal)  # every change journaled


async def test_a_device_going_offline_and_back_relists_only_its_project(
    sim: Simulator, dji: aiodji.Client, desired_file: Path
) -> None:
    rec = Reconciler(dji.fleet, desired_file, full_relist_every=100)
    rec._maybe_reload()
    await rec.cycle()
    await rec.cycle()  # the projects written to are relisted once more
    conv = sim.state.converter_by_name("dock-0201-wide")
    assert conv is not None
    sim.state.set_device_online(conv.sn, False)
    sim.state.set_converter_enabled(conv.converter_id, False)  # flipped while it was away
    sim.stats.reset()
    report = await rec.cycle()
    assert not report.full_relist and report.drift == 1 and in_sync(sim)
    assert sim.stats.count("GET", "/openapi/v0.1/live-stream/converter") == 1  # one project
    sim.state.set_device_online(conv.sn, True)
    assert (await rec.cycle()).drift == 0


async def test_gateway_outage_for_three_cycles_then_full_relist_and_no_duplicate_create(
    sim: Simulator, metrics_client: tuple[aiodji.Client, Metrics], desired_file: Path
) -> None:
    dji, metrics = metrics_client
    rec = Reconciler(dji.fleet, desired_file, full_relist_every=100, observer=metrics)
    rec._maybe_reload()
    assert (await rec.cycle()).ok
    created = sim.state.converter_by_name("ctl-new")
    assert created is not None
    sim.state.destroy_converter(created.converter_id)
    sim.faults.error_rate = 1.0
    outage = [await rec.cycle() for _ in range(3)]
    assert not any(r.ok for r in outage)
    sim.faults.error_rate = 0.0
    back = await rec.cycle()
    assert back.ok and back.full_relist and in_sync(sim)
    assert rec.stats.failed_cycles == 3
    assert metrics.cycles.labels("failed")._value.get() == 3


async def test_desired_file_edit_takes_effect_and_a_broken_edit_is_refused(
    sim: Simulator, dji: aiodji.Client, desired_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Reconciler(dji.fleet, desired_file, full_relist_every=100)
    rec._maybe_reload()
    await rec.cycle()
    assert in_sync(sim)
    write(desired_file, DESIRED.replace("enabled = true", "enabled = false", 1) + "\n")
    rec.request_reload()  # as SIGHUP does (a changed mtime does too)
    report = await rec.cycle()
    assert report.full_relist and report.ok
    assert not any(c.auto_push_stream for c in sim.state.converters.values())
    write(desired_file, "[[converters]]\nenabled = 'maybe'\n")
    rec.request_reload()
    with caplog.at_level("ERROR", logger="aiodji.controller"):
        report = await rec.cycle()
    assert report.ok and report.drift == 0  # the last good state is kept
    assert "rejected" in caplog.text


async def test_stop_during_a_cycle_leaves_a_consistent_journal(
    sim: Simulator, tmp_path: Path
) -> None:
    desired = tmp_path / "d.toml"
    desired.write_text("[[converters]]\nprojects = 'all'\nenabled = false\n")
    sim.faults.latency = 0.05
    sim.faults.methods = frozenset({"PUT"})
    journal = tmp_path / "j.jsonl"
    async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        rec = Reconciler(dji.fleet, desired, journal=journal, concurrency=1, interval=0.01)

        class StopOnFirstItem:  # SIGTERM arrives while the cycle's items are in flight
            def item_done(self, result: object) -> None:
                rec.stop.set()

            def cycle_done(self, report: object) -> None: ...

        rec.observer = StopOnFirstItem()
        stats = await asyncio.wait_for(rec.run(), 5)
    assert stats.cycles == 1
    records = [orjson.loads(line) for line in journal.read_bytes().splitlines()]
    items = [r for r in records if r["type"] == "item"]
    assert {r["state"] for r in items} <= {"succeeded", "not_attempted"}
    done = {r["converter_id"] for r in items if r["state"] == "succeeded"}
    assert all(not sim.state.converters[c].auto_push_stream for c in done)


async def test_fleet_reconcile_once(sim: Simulator, dji: aiodji.Client, desired_file: Path) -> None:
    stats = await dji.fleet.reconcile(desired_file, interval=0.01, once=True)
    assert stats.cycles == 1 and stats.last is not None and stats.last.ok and in_sync(sim)
    stop = asyncio.Event()
    stop.set()
    assert (await dji.fleet.reconcile(aiodji.fleet.Desired(), stop=stop)).cycles == 0


async def test_a_create_refused_as_a_duplicate_name_is_reported_refused_not_applied(
    sim: Simulator,
    metrics_client: tuple[aiodji.Client, Metrics],
    desired_file: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dji, metrics = metrics_client
    rec = Reconciler(dji.fleet, desired_file, observer=metrics)
    real_apply = dji.fleet.apply

    async def another_replica_creates_it_first(*args: Any, **kwargs: Any) -> Any:
        # between this controller's listing and its POST, someone else creates "ctl-new"
        project = next(p.uuid for p in sim.state.projects.values() if p.name == "Project 01")
        sim.state.add_converter(
            project,
            converter_name="ctl-new",
            sn="1581F001D0010001",
            camera_index="81-0-0",
            schema="rtmp",
            schema_option={"url": f"rtmp://media.example/live/{SECRET}"},
            count=False,
        )
        return await real_apply(*args, **kwargs)

    monkeypatch.setattr(dji.fleet, "apply", another_replica_creates_it_first)
    with caplog.at_level("INFO", logger="aiodji.controller"):
        report = await rec.cycle()
    assert report.refused == 1 and not report.ok
    assert report.applied == report.drift - 1  # the flips, not the refused create
    assert metrics.refused._value.get() == 1
    assert metrics.applied._value.get() == report.applied
    assert "refused: a converter of that name exists already" in caplog.text
    monkeypatch.setattr(dji.fleet, "apply", real_apply)
    again = await rec.cycle()  # a full relist sees the other's converter: no create again
    assert again.ok and again.drift == 1 and in_sync(sim)  # only its enable
    assert sim.state.create_counts["ctl-new"] == 1  # the one refused POST


def test_the_controller_uses_only_the_fleets_public_face() -> None:
    """No ``self.fleet._x`` / ``fleet._client`` in aiodji/controller: the fleet is the layer
    below, used through its public methods."""
    import ast

    import aiodji.controller as package

    private: list[str] = []
    for source in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")):
                continue
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name == "fleet":
                private.append(f"{source.name}: fleet.{node.attr}")
    assert private == []


async def test_fleet_device_states_is_every_device_online_or_not(
    sim: Simulator, dji: aiodji.Client
) -> None:
    states = await dji.fleet.device_states()
    assert states == {sn: d.device_online_status for sn, d in sim.state.devices.items()}


def test_the_fleet_never_imports_the_controller_at_run_time() -> None:
    """The controller is the layer above: only type-checking imports of it in aiodji/fleet."""
    import ast

    import aiodji.fleet as package

    found: list[str] = []
    for source in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(source.read_text())
        typing_only = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and id(node) not in typing_only
                and (node.module or "").startswith("aiodji.controller")
            ):
                found.append(f"{source.name}:{node.lineno}")
    assert found == []


async def test_a_fleet_built_by_hand_reconciles_through_the_controller(
    sim: Simulator, dji: aiodji.Client, desired_file: Path
) -> None:
    from aiodji.controller import reconcile
    from aiodji.fleet import Fleet

    by_hand = Fleet(dji)
    with pytest.raises(aiodji.InvalidArgumentError, match=r"aiodji\.controller\.reconcile"):
        await by_hand.reconcile(desired_file, once=True)
    stats = await reconcile(by_hand, desired_file, once=True)
    assert stats.cycles == 1 and stats.last is not None and stats.last.ok and in_sync(sim)
