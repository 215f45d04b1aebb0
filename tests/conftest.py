"""Shared fixtures: pytest + anyio pinned to asyncio, a default simulator and a Client on it.

A test module that needs another organization defines its own ``sim`` fixture; ``dji`` follows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aiodji
from aiodji.sim import Simulator


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes journals or reads profiles in the real $HOME;
    no AIODJI_* variable of the developer's shell leaks in."""
    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))
    for name in ("AIODJI_BASE_URL", "AIODJI_REGION", "AIODJI_TOKEN", "AIODJI_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """The default seeded organization (3 projects, 2 docks and 2 converters each)."""
    async with Simulator() as simulator:
        yield simulator


@pytest.fixture
async def dji(sim: Simulator) -> AsyncIterator[aiodji.Client]:
    async with aiodji.Client(token=sim.token, base_url=sim.url) as client:
        yield client
