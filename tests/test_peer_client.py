"""The third-party client ``flighthub2-cli`` (PyPI 0.1.2, checked by its authors against live
FlightHub 2) runs every operation of its catalogue against the simulator, from its own venv.

Its models are the best typed evidence of live replies there is, so a simulator reply it cannot
parse is a simulator (or model) bug. Skipped when the package cannot be installed (no registry).
The venv is cached in ``.venv-fh2`` beside the repository's own ``.venv``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aiodji.sim import Simulator

REPO = Path(__file__).resolve().parents[1]
PEER_VENV = REPO / ".venv-fh2"
PACKAGE, VERSION = "flighthub2-cli", "0.1.2"
DRIVER = Path(__file__).parent / "peer_fh2.py"
CATALOGUE = 44  # operations in that client's catalogue
# Operations allowed to fail, each with the documented reason (docs/how-to/simulator.md): none
# today — the request names it disagrees on with the documentation (device_command / command,
# sn / drone_sn) are both accepted by the simulator, which counts which came.
EXPLAINED: dict[str, str] = {}


def _has_peer(python: Path) -> bool:
    probe = f"import importlib.metadata as m; assert m.version({PACKAGE!r}) == {VERSION!r}"
    try:
        return (
            subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="module")
def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not _has_peer(python):
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", PEER_VENV],
                check=True,
                capture_output=True,
                timeout=120,
            )
            subprocess.run(
                [python, "-m", "pip", "install", "--quiet", f"{PACKAGE}=={VERSION}"],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"{PACKAGE} {VERSION} cannot be installed here: {type(exc).__name__}")
    if not _has_peer(python):
        pytest.skip(f"{PACKAGE} {VERSION} did not install")
    return python


@pytest.mark.anyio
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_peer_client_parses_every_reply_of_its_catalogue(peer_python: Path) -> None:
    async with Simulator(projects=1, docks_per_project=1, converters_per_project=1) as sim:
        project = next(iter(sim.state.projects.values()))
        pair = sim.state.device_pairs(project.uuid)[0]
        assert pair.drone is not None
        info = {
            "url": sim.url,
            "token": sim.token,
            "project_uuid": project.uuid,
            "project_name": project.name,
            "drone_sn": pair.drone.sn,
            "dock_sn": pair.gateway.sn,
            "drone_camera": next(pair.drone.camera_indexes()),
            "dock_camera": next(pair.gateway.camera_indexes()),
        }
        proc = await asyncio.create_subprocess_exec(
            peer_python,
            DRIVER,
            json.dumps(info),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=240)
    assert proc.returncode == 0, err.decode()[-2000:]
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert len(results) == CATALOGUE
    failed = {r["op"]: r["error"] for r in results if not r["ok"]}
    assert CATALOGUE - len(failed) >= 42
    unexplained = {op: error for op, error in failed.items() if op not in EXPLAINED}
    assert not unexplained, unexplained
    # the disputed request names really came in the client's spelling, and were counted
    assert sim.stats.request_names["command.command"] == 1
    assert sim.stats.request_names["control.drone_sn"] == 2
