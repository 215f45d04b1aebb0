"""The release installs and runs: ``python -m build`` makes the sdist and the wheel, ``twine
check`` passes, and the wheel installed into a fresh venv (no extra) runs ``aiodji --version``, a
simulator round trip, ``import aiodji`` without importing any extra, and names the missing extra
(one line, non-zero, no traceback) for the commands that need one.

Slow (a build and a venv, about a minute with pip's cache warm); bounded by its own timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _servers import ThreadedSimulator

import aiodji

ROOT = Path(__file__).resolve().parent.parent
EXTRA_MODULES = ("redis", "taskiq", "taskiq_redis", "prometheus_client", "mcp", "uvloop")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _run(
    *argv: str | Path, timeout: float = 300, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = _run(sys.executable, "-m", "build", "--outdir", out, ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel (and its base dependencies from the registry)."""
    where = tmp_path_factory.mktemp("venv")
    assert _run(sys.executable, "-m", "venv", where).returncode == 0
    (wheel,) = dist.glob("aiodji-*.whl")
    pip = _run(where / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    return where


@pytest.fixture
def sim_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with ThreadedSimulator() as sim:
        yield {
            **os.environ,
            "AIODJI_BASE_URL": sim.url,
            "AIODJI_TOKEN": sim.token,
            "HOME": str(tmp_path),
        }


def test_sdist_and_wheel_pass_twine_check(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [
        f"aiodji-{aiodji.__version__}-py3-none-any.whl",
        f"aiodji-{aiodji.__version__}.tar.gz",
    ]
    done = _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_installed_command_says_its_version(venv: Path) -> None:
    done = _run(venv / "bin" / "aiodji", "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"aiodji, version {aiodji.__version__}"


ROUND_TRIP = """
import asyncio, sys
import aiodji
from aiodji.sim import Simulator

async def main():
    async with Simulator() as sim, aiodji.Client(token=sim.token, base_url=sim.url) as dji:
        await dji.system.status()
        report = await dji.fleet.set_converters_enabled(projects="all", enabled=False)
        assert report.ok, report.summary()
        left = [c for p in await dji.projects.list()
                for c in await dji.project(p.uuid).converters.list() if c.auto_push_stream]
        assert not left
    loaded = sorted(m for m in {extras} if m in sys.modules)
    assert not loaded, loaded
    print("round trip ok")

asyncio.run(main())
"""


def test_a_simulator_round_trip_runs_from_the_wheel_without_any_extra(venv: Path) -> None:
    script = ROUND_TRIP.replace("{extras}", repr(EXTRA_MODULES))
    done = _run(venv / "bin" / "python", "-c", script, cwd=venv)
    assert done.returncode == 0 and "round trip ok" in done.stdout, done.stderr[-3000:]


def test_the_cli_reaches_the_simulator_from_the_wheel(venv: Path, sim_env: dict[str, str]) -> None:
    done = _run(venv / "bin" / "aiodji", "projects", "list", env=sim_env, cwd=venv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"type":"project"') == 3


def test_import_aiodji_imports_no_extra(venv: Path) -> None:
    script = (
        "import sys, aiodji, aiodji.cli, aiodji.sim, aiodji.fleet, aiodji.bulk;"
        f"loaded = [m for m in {EXTRA_MODULES!r} if m in sys.modules];"
        "assert not loaded, loaded; print(aiodji.__version__)"
    )
    done = _run(venv / "bin" / "python", "-c", script, cwd=venv)
    assert done.returncode == 0 and done.stdout.strip() == aiodji.__version__, done.stderr


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        pytest.param(["mcp", "serve"], "aiodji[mcp]", id="mcp"),
        pytest.param(
            ["controller", "run", "-f", "desired.toml", "--metrics-port", "0", "--once"],
            "aiodji[controller]",
            id="controller",
        ),
        pytest.param(
            ["worker", "--queue", "redis://127.0.0.1:1"],
            "aiodji[scale]",
            id="worker",
        ),
    ],
)
def test_a_command_whose_extra_is_missing_names_it_without_a_traceback(
    venv: Path, sim_env: dict[str, str], tmp_path: Path, argv: list[str], extra: str
) -> None:
    (tmp_path / "desired.toml").write_text('[[converters]]\nprojects = "all"\nenabled = true\n')
    done = _run(venv / "bin" / "aiodji", *argv, env=sim_env, cwd=tmp_path, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output[-3000:]
    assert any(extra in line for line in output.splitlines()), output
