"""How an apply ends when things go wrong on the server's side: a server that goes away stops
the run early (exit 7, the journal and the commands that go on printed); a single create the
server refuses is a business refusal (exit 6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from _inproc import SimThread, run, use_simulator

from aiodji.bulk import ItemState
from aiodji.cli.running import STOP_AFTER_CONNECTION_FAILURES
from aiodji.sim import Simulator


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    with SimThread(projects=3, docks_per_project=2, converters_per_project=10) as served:
        for converter in served.state.converters.values():
            converter.auto_push_stream = True
        yield use_simulator(served, monkeypatch)


def test_a_server_that_goes_away_stops_the_run_with_exit_7(sim: Simulator) -> None:
    sim.faults.reset_before_rate = 1.0  # every PUT: the connection drops, nothing answers
    sim.faults.methods = frozenset({"PUT"})
    argv = ["--json", "--concurrency", "2", "converters", "disable", "--all-projects"]
    code, out, err = run(argv)
    records = [orjson.loads(line) for line in out.splitlines()]
    summary = records[-1]
    assert code == 7, err
    assert summary["type"] == "summary" and summary["not_attempted"] > 0, summary
    tried = summary["failed"] + summary["unknown"]
    assert STOP_AFTER_CONNECTION_FAILURES <= tried < STOP_AFTER_CONNECTION_FAILURES + 4
    assert "could not reach the server" in err and "journal: " in err
    assert "--resume" in err or "--retry-failed" in err


def test_a_single_create_the_server_refuses_exits_6(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimThread() as sim:
        use_simulator(sim, monkeypatch)
        sim.faults.business_error_rate = 1.0
        sim.faults.business_codes = (213014,)  # this camera cannot stream
        sim.faults.methods = frozenset({"POST"})
        pair = next(iter(sim.state.pairs.values()))[0]
        assert pair.drone is not None
        create = ["converters", "create", "--project", "Project 01", "--name", "refused-1"]
        create += ["--sn", pair.drone.sn, "--camera", "81-0-0", "--url", "rtmp://m.test/live/k"]
        code, _, err = run(["-o", "table", *create])
    assert code == 6, err


def test_every_failure_a_connection_failure_is_the_only_exit_7() -> None:
    from aiodji import APIConnectionError, APIError
    from aiodji.bulk import BulkReport, ItemResult
    from aiodji.cli.commands import run_exit_code
    from aiodji.cli.running import Tally

    def outcome(*errors: Exception) -> int:
        tally, report = Tally(), BulkReport()
        for error in errors:
            result: ItemResult[Any, Any] = ItemResult(None, ItemState.FAILED, error=error)
            tally.add(result)
            report.add(result)
        return run_exit_code(report, tally, interrupted=False)

    assert outcome(APIConnectionError("down"), APIConnectionError("down")) == 7
    assert outcome(APIConnectionError("down"), APIError("500")) == 1
