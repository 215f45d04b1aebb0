"""The bulk engine: per-item final states, budgets, order, cancellation, and converters in bulk."""

from __future__ import annotations

import ast
import asyncio
import gc
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiodji
from aiodji.bulk import BulkError, BulkReport, ItemResult, ItemState, run_bulk
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

PUT = ("PUT", "/openapi/v0.1/live-stream/converter/{converter_id}")


def assert_accounted(report: BulkReport, results: list[ItemResult[int, object]], n: int) -> None:
    """Every item exactly once, in exactly one final state."""
    assert sorted(r.index for r in results) == list(range(n))
    assert report.accounted == n
    for state in ItemState:
        assert getattr(report, state.value) == sum(r.state is state for r in results)


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


async def test_every_item_succeeds_with_its_value() -> None:
    run = run_bulk(range(1000), double, concurrency=8)
    results = [r async for r in run]
    assert_accounted(run.report, results, 1000)
    assert all(r.ok and r.value == 2 * r.item and r.error is None for r in results)
    assert run.report.ok and run.report.total == 1000 and run.report.seconds > 0


async def test_failures_are_results_not_exceptions() -> None:
    async def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd {x}")
        return x

    run = run_bulk(range(100), odd_fails, concurrency=4)
    results = [r async for r in run]
    assert_accounted(run.report, results, 100)
    assert run.report.failed == 50 and not run.report.ok
    assert {r.item for r in run.report.failures} == set(range(1, 100, 2))
    assert all(isinstance(r.error, ValueError) and not r.ok for r in run.report.failures)


class CountedSource:
    """A lazy source of ``n`` ints that counts the items taken from it."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.taken = 0

    def __iter__(self) -> Iterator[int]:
        for i in range(self.n):
            self.taken += 1
            yield i


async def test_a_fixed_number_of_workers_and_flat_memory_for_a_lazy_source() -> None:
    live = 0
    peak = 0
    source = CountedSource(20_000)

    async def work(x: int) -> None:
        nonlocal live, peak
        live += 1
        peak = max(peak, live)
        await asyncio.sleep(0)
        live -= 1

    tasks_before = len(asyncio.all_tasks())
    run = run_bulk(iter(source), work, concurrency=16)
    max_ahead = 0
    seen = 0
    async for _ in run:
        seen += 1
        max_ahead = max(max_ahead, source.taken - seen)
        # a handful of tasks at any time, never one per item
        assert len(asyncio.all_tasks()) <= tasks_before + 16 + 1
    assert seen == 20_000 and run.report.succeeded == 20_000
    assert peak <= 16
    assert max_ahead <= 32 + 1  # the window between the source and the consumer
    assert run.report.total is None


async def test_ordered_results_follow_input_order() -> None:
    async def jitter(x: int) -> int:
        await asyncio.sleep(random.random() / 1000)
        return x

    run = run_bulk(range(300), jitter, concurrency=10, ordered=True)
    assert [r.item async for r in run] == list(range(300))


async def test_async_source() -> None:
    async def source() -> AsyncIterator[int]:
        for i in range(50):
            await asyncio.sleep(0)
            yield i

    report = await run_bulk(source(), double, concurrency=5).run()
    assert report.succeeded == 50 and report.ok


async def test_max_failures_count_stops_starting_new_items() -> None:
    async def always_fails(x: int) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("no")

    run = run_bulk(range(500), always_fails, concurrency=4, max_failures=10)
    results = [r async for r in run]
    assert_accounted(run.report, results, 500)
    assert run.report.stopped == "max_failures"
    # at most the in-flight ones finish after the 11th failure
    assert 11 <= run.report.failed <= 11 + 4
    assert run.report.not_attempted == 500 - run.report.failed
    assert run.report.unknown == 0


async def test_max_failures_fraction_of_a_known_total() -> None:
    async def fails_often(x: int) -> int:
        await asyncio.sleep(0)
        if x % 3 == 0:
            raise RuntimeError("no")
        return x

    run = run_bulk(range(300), fails_often, concurrency=2, max_failures=0.1)
    report = await run.run()
    assert report.stopped == "max_failures"
    assert 31 <= report.failed <= 33 and report.not_attempted > 0
    assert report.accounted == 300


async def test_raise_on_error_after_in_flight_items_finish() -> None:
    async def third_fails(x: int) -> int:
        await asyncio.sleep(0)
        if x == 3:
            raise RuntimeError("boom")
        return x

    run = run_bulk(range(100), third_fails, concurrency=2, raise_on_error=True)
    seen: list[ItemResult[int, int]] = []
    with pytest.raises(BulkError) as info:
        async for r in run:
            seen.append(r)
    assert info.value.report is run.report
    assert run.report.failed == 1 and run.report.not_attempted > 0
    assert run.report.accounted == 100 == len(seen)


async def test_stop_lets_in_flight_items_finish() -> None:
    gate = asyncio.Event()

    async def slow(x: int) -> int:
        await gate.wait()
        return x

    results: list[ItemResult[int, int]] = []
    run = run_bulk(range(100), slow, concurrency=3)

    async def consume() -> None:
        async for r in run:
            results.append(r)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    run.stop()
    gate.set()
    await consumer
    assert_accounted(run.report, results, 100)
    assert run.report.succeeded == 3 and run.report.not_attempted == 97
    assert run.report.stopped == "stopped"


async def test_deadline_marks_in_flight_unknown_and_the_rest_not_attempted() -> None:
    async def hangs(x: int) -> int:
        if x >= 5:
            await asyncio.Event().wait()
        return x

    run = run_bulk(range(40), hangs, concurrency=4, timeout=0.05)
    results = [r async for r in run]
    assert_accounted(run.report, results, 40)
    assert run.report.succeeded == 5 and run.report.unknown == 4
    assert run.report.not_attempted == 31 and run.report.stopped == "deadline"


async def test_cancelling_the_consumer_settles_every_item_without_leaks() -> None:
    settled: list[ItemResult[int, None]] = []
    started = asyncio.Event()

    begun: set[int] = set()

    async def hangs(x: int) -> None:
        if x >= 10:
            begun.add(x)
            started.set()
            await asyncio.Event().wait()

    tasks_before = asyncio.all_tasks()
    run = run_bulk(range(1000), hangs, concurrency=8, progress=settled.append)

    async def consume() -> None:
        async for _ in run:
            pass

    consumer = asyncio.create_task(consume())
    await started.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert_accounted(run.report, settled, 1000)
    assert {r.item for r in settled if r.state is ItemState.UNKNOWN} == begun
    assert 1 <= len(begun) <= 8 and run.report.succeeded == 10
    assert run.report.stopped == "cancelled"
    assert asyncio.all_tasks() == tasks_before


async def test_breaking_out_then_aclose_cancels_the_rest() -> None:
    settled: list[ItemResult[int, int]] = []
    run = run_bulk(range(200), double, concurrency=4, progress=settled.append)
    async with run:
        async for r in run:
            if r.index >= 5:
                break
    assert_accounted(run.report, settled, 200)
    gc.collect()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cancel_after=st.integers(min_value=0, max_value=60), concurrency=st.integers(1, 12))
async def test_cancellation_at_random_points_leaves_one_final_state_per_item(
    cancel_after: int, concurrency: int
) -> None:
    settled: list[ItemResult[int, int]] = []
    applied: set[int] = set()

    async def apply(x: int) -> int:
        await asyncio.sleep(0)
        applied.add(x)  # the "server" applied it
        await asyncio.sleep(0)
        return x

    run = run_bulk(range(120), apply, concurrency=concurrency, progress=settled.append)
    consumed = 0

    async def consume() -> None:
        nonlocal consumed
        async for _ in run:
            consumed += 1
            if consumed >= cancel_after:
                await asyncio.Event().wait()

    task = asyncio.create_task(consume())
    for _ in range(cancel_after + 3):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_accounted(run.report, settled, 120)
    by_state = {s: {r.item for r in settled if r.state is s} for s in ItemState}
    assert by_state[ItemState.SUCCEEDED] <= applied  # succeeded means applied
    assert not (by_state[ItemState.NOT_ATTEMPTED] & applied)  # not attempted means untouched


async def test_bad_arguments_are_clear_errors() -> None:
    for bad in ({"concurrency": 0}, {"max_failures": -1}, {"max_failures": 1.5}, {"timeout": 0}):
        with pytest.raises(aiodji.InvalidArgumentError):
            run_bulk(range(3), double, **bad)  # type: ignore[arg-type]
    with pytest.raises(aiodji.InvalidArgumentError):
        run_bulk(42, double)  # type: ignore[arg-type]


# -- converters in bulk against the simulator -----------------------------------------------


@pytest.fixture
async def big_sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        projects=10, docks_per_project=10, converters_per_project=500, converter_limit=10_000
    ) as sim:
        yield sim


async def test_five_thousand_converters_toggled_with_a_result_each(big_sim: Simulator) -> None:
    sim = big_sim
    targets = [(c.project_uuid, c.converter_id) for c in sim.state.converters.values()]
    assert len(targets) == 5000
    async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        run = dji.bulk.set_converters_enabled(targets, False, concurrency=32)
        results = [r async for r in run]
    assert len(results) == 5000 and run.report.succeeded == 5000 and run.report.ok
    assert {r.item for r in results} == set(targets)
    assert all(r.attempts == 1 for r in results)
    assert not any(c.auto_push_stream for c in sim.state.converters.values())
    assert sim.stats.count("PUT") == 5000


async def test_converter_objects_and_bad_targets(big_sim: Simulator) -> None:
    sim = big_sim
    project = next(iter(sim.state.projects))
    async with aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        converters = (await dji.project(project).converters.list())[:20]
        targets: list[object] = [*converters, ("", "x"), 42, (project, "no-such-converter")]
        report = await dji.bulk.set_converters_enabled(targets, True, ordered=True).run()
    assert report.succeeded == 20 and report.failed == 3
    errors = [r.error for r in report.failures]
    assert isinstance(errors[0], aiodji.InvalidArgumentError) and report.failures[0].attempts == 0
    assert isinstance(errors[1], aiodji.InvalidArgumentError)
    assert isinstance(errors[2], aiodji.APIBusinessError) and errors[2].code == 213029
    assert report.failures[2].attempts == 1
    assert all(sim.state.converters[c.converter_id].auto_push_stream for c in converters)


async def test_retried_items_report_their_attempts() -> None:
    async with Simulator(projects=1, converters_per_project=10) as sim:
        sim.set_rate_limit(50, 1)
        targets = [(c.project_uuid, c.converter_id) for c in sim.state.converters.values()]
        async with aiodji.Client(token=sim.token, base_url=sim.url, max_retries=10) as dji:
            run = dji.bulk.set_converters_enabled(targets, True, concurrency=10)
            results = [r async for r in run]
        assert run.report.ok and sim.stats.rate_limited > 0
        assert sum(r.attempts for r in results) == sim.stats.count(*PUT)
        assert any(r.attempts > 1 for r in results)


async def test_run_bulk_window_bounds_items_taken_ahead() -> None:
    source = CountedSource(100)

    async def fn(item: int) -> int:
        return item

    run = run_bulk(iter(source), fn, concurrency=2, window=5)
    results = aiter(run)
    first = await anext(results)
    for _ in range(20):  # the consumer stops: results pile up until the window is full
        await asyncio.sleep(0)
    assert first.ok and source.taken == 5 + 1  # the window (not the default 16) + the one consumed
    rest = [r async for r in results]
    assert len(rest) == 99 and run.report.succeeded == 100


async def test_run_bulk_takes_no_item_of_a_sync_source_before_a_worker_is_free() -> None:
    source = CountedSource(100)
    gate = asyncio.Event()

    async def fn(item: int) -> int:
        await gate.wait()
        return item

    run = run_bulk(iter(source), fn, concurrency=2, window=5)
    consumer = asyncio.create_task(run.run())
    for _ in range(20):
        await asyncio.sleep(0)
    assert source.taken == 2  # the workers read the source themselves: nothing waits in a queue
    gate.set()
    report = await asyncio.wait_for(consumer, 5)
    assert report.succeeded == 100


@pytest.mark.parametrize("window", [0, -1, True, 2.5])
def test_run_bulk_rejects_a_bad_window(window: Any) -> None:
    async def fn(item: int) -> int:
        return item

    with pytest.raises(aiodji.InvalidArgumentError, match="window"):
        run_bulk([1], fn, window=window)


def test_bulk_engine_never_imports_the_client() -> None:
    import aiodji.bulk.engine as engine

    tree = ast.parse(Path(engine.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "aiodji.client" not in imported
    from aiodji import bulk

    assert bulk.BulkOps.__module__ == "aiodji.bulk.jobs" and bulk.run_bulk is engine.run_bulk
