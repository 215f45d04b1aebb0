"""The ``aiodji`` command in-process: ``main()`` with captured output, against a simulator
served by its own event loop in a thread (the CLI runs its own loops with ``asyncio.run``)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import pathlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import aiodji.cli.settings
from aiodji.cli import main
from aiodji.sim import Simulator


class SimThread:
    """A simulator served by its own event loop in a thread (the CLI runs its own loops)."""

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        shape = {"projects": 2, "docks_per_project": 1, "converters_per_project": 3}
        self.sim = Simulator(**(shape | options))

    def __enter__(self) -> Simulator:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.__aenter__(), self.loop).result(30)
        return self.sim

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.__aexit__(None, None, None), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as exit_info,
    ):
        main(argv)
    code = exit_info.value.code
    return (code if isinstance(code, int) else -1), out.getvalue(), err.getvalue()


def use_simulator(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The CLI's environment (after conftest's private home): this simulator and its token."""
    monkeypatch.setenv("AIODJI_TOKEN", sim.token)
    monkeypatch.setenv("AIODJI_BASE_URL", sim.url)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    for key in ("AIODJI_DEBUG", "AIODJI_LOG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(aiodji.cli.settings, "_token_cache", None)
    return sim


def simulator_fixtures(**shape: Any) -> tuple[Any, Any]:
    """``served, sim = simulator_fixtures()`` in a test module: a simulator for the module
    (``served``) and, per test, the CLI's environment pointed at it (``sim``)."""

    @pytest.fixture(scope="module")
    def served() -> Iterator[Simulator]:
        with SimThread(**shape) as simulator:
            yield simulator

    @pytest.fixture
    def sim(
        served: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
    ) -> Simulator:
        monkeypatch.chdir(tmp_path)  # a relative path typed as a value lands here
        return use_simulator(served, monkeypatch)

    return served, sim
